"""`imagefactory schema [--write DIR]`: the configuration's JSON Schemas, for editors."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from shared.cli.command import EXIT_OK, Command
from shared.config.schema import render_schemas, write_schemas


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--write", metavar="DIR", help="write the schema files into DIR")


def _run(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.write:
        for path in write_schemas(Path(args.write)):
            out.print(f"wrote {path}")
        return EXIT_OK
    combined = {name: json.loads(text) for name, text in render_schemas().items()}
    sys.stdout.write(json.dumps(combined, indent=2, sort_keys=True) + "\n")
    return EXIT_OK


COMMAND = Command("schema", "print (or write) the configuration JSON Schemas", _arguments, _run)
