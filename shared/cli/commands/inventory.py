"""`imagefactory inventory --config PATH [--out FILE]`: read what exists in every lab the
configuration names (read-only) into the JSON `plan --inventory` takes.

Azure is reached as the Function App reaches it, from the same settings
(`IMAGEFACTORY_ARM_ENDPOINT`, `IMAGEFACTORY_CREDENTIAL`, ...): DefaultAzureCredential by
default, or the local world's. A lab that cannot be read is one sentence on stderr and
exit 1; the inventory is still written, that lab's entry marked with its `error`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from shared.cli.command import EXIT_INVALID, EXIT_OK, Command, UsageError, config_dir
from shared.cli.plan_view import lab_label
from shared.config.loading import load_directory
from shared.config.models import Factory
from shared.planning.inventory import Inventory


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", required=True, metavar="PATH", help="the configuration folder (factory.yaml)"
    )
    parser.add_argument(
        "--out", metavar="FILE.json", help="where to write it (default: standard output)"
    )


def live_inventory(factory: Factory, err: Console) -> tuple[Inventory, bool]:
    """The labs' inventory read now, and whether every lab was read; each lab that was
    not is one sentence on `err`. A catalog that cannot be read is a UsageError."""
    from shared.azure.inventory_reader import CatalogUnreadable, read_inventory

    try:
        inventory = read_inventory(factory)
    except CatalogUnreadable as exc:
        raise UsageError(str(exc)) from exc
    missing = inventory.unreadable()
    for lab in missing:
        err.print(
            f"imagefactory: could not read the lab {lab_label(lab.lab)}: {lab.error}",
            highlight=False,
            markup=False,
        )
    return inventory, not missing


def _run(args: argparse.Namespace, out: Console, err: Console) -> int:
    factory = load_directory(config_dir(args.config))
    inventory, complete = live_inventory(factory, err)
    text = inventory.model_dump_json(by_alias=True, indent=2) + "\n"
    if args.out:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the inventory to {args.out}: {exc.strerror}") from exc
        images = sum(len(lab.images) for lab in inventory.labs)
        marked = "." if complete else "; the labs not read are marked with their error."
        err.print(
            f"wrote {args.out}: {len(inventory.labs)} lab(s), {images} custom image(s), "
            f"{len(inventory.catalog)} catalog version(s){marked}",
            highlight=False,
            markup=False,
        )
    else:
        out.file.write(text)
    return EXIT_OK if complete else EXIT_INVALID


COMMAND = Command(
    "inventory", "read what the labs hold now (read-only), for plan --inventory", _arguments, _run
)
