"""`imagefactory validate PATH`: check a configuration repository (exit 1 when invalid)."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.text import Text

from shared.cli.command import EXIT_OK, Command, add_config_path, config_dir
from shared.config.loading import load_directory


def _run(args: argparse.Namespace, out: Console, err: Console) -> int:
    factory = load_directory(config_dir(args.path))
    for warning in factory.warnings:  # likely mistakes that do not fail validation
        err.print(Text("warning: ", style="yellow") + Text(warning), highlight=False)
    out.print(
        f"{args.path}: valid: {len(factory.images)} image definition(s), "
        f"{len(factory.labs)} lab target(s)"
        + (f", {len(factory.warnings)} warning(s)." if factory.warnings else ".")
    )
    return EXIT_OK


COMMAND = Command("validate", "check a configuration repository", add_config_path, _run)
