"""The local world's tools (`imagefactory emulator ...`, `imagefactory devhost ...`).

Product code never imports the local-world packages: the command line starts them as
their own process, with every argument after the tool's name handed on untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

LOCAL_WORLD_TOOLS = ("emulator", "devhost")


def is_local_world_tool(argv: Sequence[str]) -> bool:
    return bool(argv) and argv[0] in LOCAL_WORLD_TOOLS


def run_local_world_tool(argv: Sequence[str]) -> NoReturn:
    """Replace this process with `python -m TOOL ARGS...`; never returns."""
    tool, *args = argv
    os.execv(sys.executable, [sys.executable, "-m", tool, *args])


def add_local_world_tools(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Name the tools in `imagefactory --help` (their arguments are their own)."""
    for tool in LOCAL_WORLD_TOOLS:
        subcommands.add_parser(
            tool, help=f"run the local {tool} (see `imagefactory {tool} --help`)"
        )
