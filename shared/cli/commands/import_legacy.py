"""`imagefactory import-legacy PATH --out DIR`: Microsoft's PowerShell factory, converted."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.text import Text

from shared.cli.command import EXIT_OK, Command, UsageError


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the legacy repository (holds Configuration/)")
    parser.add_argument("--out", required=True, help="the folder to write the new layout into")
    parser.add_argument(
        "--factory-lab", help="resource id of the factory lab (default: the first lab)"
    )


def _run(args: argparse.Namespace, out: Console, err: Console) -> int:
    # Imported here: the converter is large and only this command needs it.
    from shared.config.legacy_import import import_legacy

    try:
        report = import_legacy(Path(args.path), Path(args.out), factory_lab=args.factory_lab)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    for line in report.written:
        out.print(f"wrote {line}")
    for line in report.unconverted:
        err.print(Text("not converted: ", style="yellow") + Text(line), highlight=False)
    out.print(
        f"Converted {report.images} image(s) and {report.labs} lab(s) into {args.out}; "
        f"{len(report.unconverted)} item(s) could not be converted."
    )
    return EXIT_OK


COMMAND = Command(
    "import-legacy", "convert Microsoft's PowerShell image factory layout", _arguments, _run
)
