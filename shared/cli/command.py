"""What a subcommand of `imagefactory` is, and what every subcommand shares.

A subcommand is one module under `shared/cli/commands/` that defines `COMMAND`: its
name, its help line, the arguments it adds to its own parser and what it runs. Running
returns an exit code: 0 ok, 1 an invalid configuration (`ConfigInvalid`, printed by
`main`), 2 a usage error (`UsageError`: bad arguments or unreadable inputs).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

Run = Callable[[argparse.Namespace, Console, Console], int]
"""What a command does with its parsed arguments, stdout's and stderr's consoles."""


class UsageError(Exception):
    """Bad arguments or unreadable inputs other than the configuration itself."""


@dataclass(frozen=True)
class Command:
    """One `imagefactory NAME ...` subcommand.

    `arguments` adds the command's arguments to its parser. `run` is None only for a
    command whose own subcommands each set `run` (as `lab vm create` does).
    """

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Run | None = None

    def add_to(self, subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        parser = subcommands.add_parser(self.name, help=self.help)
        self.arguments(parser)
        if self.run is not None:
            parser.set_defaults(run=self.run)


def config_dir(path: str) -> Path:
    """The configuration folder a command was given; a UsageError when it is none."""
    folder = Path(path)
    if not folder.is_dir():
        raise UsageError(f"{path} is not a folder; give the folder that holds factory.yaml")
    return folder


def add_config_path(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the configuration folder (holds factory.yaml)")


def utc_time(value: str) -> datetime:
    """An argument's ISO 8601 time, as UTC (a time without a zone is taken as UTC)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"'{value}' is not an ISO 8601 time such as 2026-11-24T12:00:00Z"
        ) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
