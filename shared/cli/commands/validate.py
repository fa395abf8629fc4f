"""`imagefactory validate PATH`: check a configuration repository (exit 1 when invalid)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.text import Text

from shared.cli.command import EXIT_OK, Command, UsageError, add_config_path, config_dir
from shared.config.loading import ConfigInvalid, load_directory, read_directory
from shared.config.models import Factory
from shared.config.online import check_online
from shared.model.text import first_line


def _arguments(parser: argparse.ArgumentParser) -> None:
    add_config_path(parser)
    parser.add_argument(
        "--online",
        action="store_true",
        help="also check every artifact, its parameters and every gallery base against the "
        "factory lab (reads Azure, or the local world, with the factory's settings)",
    )


def _run(args: argparse.Namespace, out: Console, err: Console) -> int:
    root = config_dir(args.path)
    factory = load_directory(root)
    if args.online:
        _check_online(root, factory)
    for warning in factory.warnings:  # likely mistakes that do not fail validation
        err.print(Text("warning: ", style="yellow") + Text(warning), highlight=False)
    out.print(
        f"{args.path}: valid: {len(factory.images)} image definition(s), "
        f"{len(factory.labs)} lab target(s)"
        + (f", {len(factory.warnings)} warning(s)." if factory.warnings else ".")
    )
    return EXIT_OK


def _check_online(root: Path, factory: Factory) -> None:
    """Raise ConfigInvalid with every artifact and base the factory lab does not offer."""
    from azure.core.exceptions import AzureError

    from shared.azure.lab_offer import lab_offer

    lab = factory.settings.factory_lab
    try:
        offer = lab_offer(lab)
    except AzureError as exc:
        raise UsageError(f"cannot read the factory lab {lab}: {first_line(str(exc))}") from exc
    files, _ = read_directory(root)
    problems = check_online(factory, files, offer)
    if problems:
        raise ConfigInvalid(problems)


COMMAND = Command("validate", "check a configuration repository", _arguments, _run)
