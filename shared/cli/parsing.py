"""The `imagefactory` argument parser: one subparser per registered command."""

from __future__ import annotations

import argparse

from shared.cli.commands import commands
from shared.cli.processes import add_local_world_tools


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imagefactory",
        description="Image factory for Azure DevTest Labs: golden images as code.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in commands():
        command.add_to(subcommands)
    add_local_world_tools(subcommands)
    return parser
