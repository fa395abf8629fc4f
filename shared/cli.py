"""The `imagefactory` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def _delegate(module: str, args: Sequence[str]) -> int:
    """Run a local-world tool (`emulator`, `devhost`) as its own module.

    Product code never imports the local-world packages; it starts them as processes.
    """
    os.execv(sys.executable, [sys.executable, "-m", module, *args])
    return EXIT_OK  # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imagefactory",
        description="Image factory for Azure DevTest Labs: golden images as code.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "emulator",
        help="run the local DevTest Labs emulator (see `imagefactory emulator --help`)",
        add_help=False,
    )
    sub.add_parser(
        "devhost",
        help="run the Function App on this machine (see `imagefactory devhost --help`)",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("emulator", "devhost"):
        return _delegate(args[0], args[1:])
    parser = build_parser()
    parser.parse_args(args)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
