"""`imagefactory report --config PATH --out FILE`: write the fleet report page (one
self-contained HTML file: versions per lab, families, the last runs and a timeline)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, ValidationError
from rich.console import Console

from shared.cli.command import EXIT_OK, Command, UsageError, config_dir, utc_time
from shared.cli.commands.inventory import live_inventory
from shared.cli.commands.plan import read_inventory
from shared.cli.report_page import CellState, fleet, render_page
from shared.config.loading import load_directory
from shared.config.models import Factory
from shared.model.base import first_error
from shared.planning.inventory import Inventory
from shared.run.payloads import RunReport


class _StrictReport(RunReport):
    """A run report as a file gives it: a key the report does not have is a mistake."""

    model_config = ConfigDict(extra="forbid")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", required=True, metavar="PATH", help="the configuration folder (factory.yaml)"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--inventory",
        metavar="FILE.json",
        help="what exists in Azure, as `plan --inventory` takes it (default: nothing read)",
    )
    source.add_argument(
        "--live",
        action="store_true",
        help="read what exists now from every lab the configuration names, as "
        "`imagefactory inventory` does (read-only; a lab that cannot be read is shown so)",
    )
    parser.add_argument(
        "--runs",
        metavar="FILE.json",
        help="the last runs, newest first: run reports or `GET /api/runs/<id>` answers",
    )
    parser.add_argument(
        "--now",
        type=utc_time,
        default=datetime.now(UTC),
        metavar="TIME",
        help="count ages from this UTC time",
    )
    parser.add_argument("--out", required=True, metavar="FILE.html", help="where to write it")


def read_runs(path: str) -> list[RunReport]:
    """The runs of a file: a JSON list (or one item), each a run report or the answer of
    `GET /api/runs/<id>` (its `report`; a run still going has none and is left out)."""
    try:
        document: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the runs file {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"the runs file {path} is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise UsageError(f"the runs file {path} is nested too deeply to read") from exc
    items = document if isinstance(document, list) else [document]
    reports: list[RunReport] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise UsageError(f"the runs file {path}: item {index} is not a JSON object")
        body = item.get("report") if "report" in item else item
        if body is None:
            continue
        try:
            reports.append(_StrictReport.model_validate(body))
        except ValidationError as exc:
            where = first_error(exc, within=(index,))
            raise UsageError(f"the runs file {path} is not valid: {where}") from exc
    return reports


def _inventory(args: argparse.Namespace, factory: Factory, err: Console) -> Inventory:
    if args.live:
        return live_inventory(factory, err)[0]
    return read_inventory(args.inventory) if args.inventory else Inventory()


def _run(args: argparse.Namespace, out: Console, err: Console) -> int:
    factory = load_directory(config_dir(args.config))
    inventory = _inventory(args, factory, err)
    runs = read_runs(args.runs) if args.runs else []
    view = fleet(factory, inventory, args.now)
    try:
        Path(args.out).write_text(render_page(view, runs), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the report to {args.out}: {exc.strerror}") from exc
    out.print(
        f"wrote {args.out}: {len(view.families)} image families in {len(view.labs)} labs, "
        f"{view.count(CellState.BEHIND)} behind the newest; {len(runs)} run(s).",
        highlight=False,
        markup=False,
    )
    return EXIT_OK


COMMAND = Command("report", "write the fleet report page (HTML)", _arguments, _run)
