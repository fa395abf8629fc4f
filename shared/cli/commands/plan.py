"""`imagefactory plan PATH`: what a run would build, distribute and retire, changing nothing."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console

from shared.cli.command import (
    EXIT_OK,
    Command,
    UsageError,
    add_config_path,
    config_dir,
    utc_time,
)
from shared.cli.plan_view import render_plan
from shared.config.loading import load_directory
from shared.config.messages import unknown_images
from shared.model.base import first_error
from shared.planning.inventory import Inventory
from shared.planning.plan import Trigger
from shared.planning.planner import plan


def _arguments(parser: argparse.ArgumentParser) -> None:
    add_config_path(parser)
    parser.add_argument(
        "--inventory", metavar="FILE.json", help="what exists in Azure (default: nothing yet)"
    )
    parser.add_argument(
        "--now", type=utc_time, default=datetime.now(UTC), help="plan as of this UTC time"
    )
    parser.add_argument("--image", action="append", help="only this image (repeatable)")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def _run(args: argparse.Namespace, out: Console, err: Console) -> int:
    factory = load_directory(config_dir(args.path))
    refused = unknown_images(args.image or [], factory.images)
    if refused is not None:
        raise UsageError(f"--image: {refused}")
    inventory = read_inventory(args.inventory) if args.inventory else Inventory()
    trigger = Trigger(kind="manual", families=args.image or [], force=args.force, dry_run=True)
    result = plan(factory, inventory, args.now, trigger)
    if args.json:
        out.print_json(result.model_dump_json(by_alias=True))
    else:
        render_plan(result, out)
    return EXIT_OK


def read_inventory(path: str) -> Inventory:
    """An inventory file (as `imagefactory inventory` writes it); a UsageError otherwise."""
    try:
        return Inventory.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the inventory file {path}: {exc.strerror}") from exc
    except ValidationError as exc:
        reason = first_error(exc)
        raise UsageError(f"the inventory file {path} is not valid: {reason}") from exc


COMMAND = Command("plan", "show what a run would build, distribute and retire", _arguments, _run)
