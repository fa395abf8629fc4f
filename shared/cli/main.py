"""The `imagefactory` command line. Exit codes: 0 ok, 1 invalid configuration, 2 usage error.

The commands are the modules of `shared/cli/commands/`; this entry point only parses,
runs the chosen one and turns what it raised into an exit code and one sentence.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console

from shared.cli.command import EXIT_INVALID, EXIT_OK, EXIT_USAGE, UsageError
from shared.cli.parsing import build_parser
from shared.cli.processes import is_local_world_tool, run_local_world_tool
from shared.config.loading import ConfigInvalid


def _consoles() -> tuple[Console, Console]:
    out, err = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
    if not out.is_terminal:  # logs and CI: wide enough for tables, never wrapped mid-word
        out.width = 160
    return out, err


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if is_local_world_tool(args_list):
        run_local_world_tool(args_list)
    out, err = _consoles()
    try:
        args = build_parser().parse_args(args_list)
    except SystemExit as exc:
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    try:
        code: int = args.run(args, out, err)
    except ConfigInvalid as exc:
        for problem in exc.problems:
            err.print(str(problem), highlight=False, markup=False)
        err.print(f"{len(exc.problems)} problem(s) found.", highlight=False)
        return EXIT_INVALID
    except UsageError as exc:
        err.print(f"imagefactory: {exc}", highlight=False, markup=False)
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    sys.exit(main())
