"""The `imagefactory` command line. Exit codes: 0 ok, 1 invalid configuration, 2 usage error."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from shared.cli.plan_view import render_plan
from shared.config.loading import ConfigInvalid, load_directory
from shared.config.schema import render_schemas, write_schemas
from shared.lab_tasks.cli import add_lab_parser
from shared.planning.inventory import Inventory
from shared.planning.plan import Trigger
from shared.planning.planner import plan

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
LOCAL_WORLD_TOOLS = ("emulator", "devhost")


class UsageError(Exception):
    """Bad arguments or unreadable inputs other than the configuration itself."""


def _delegate(module: str, args: Sequence[str]) -> int:
    """Run a local-world tool (`emulator`, `devhost`) as its own module.

    Product code never imports the local-world packages; it starts them as processes.
    """
    os.execv(sys.executable, [sys.executable, "-m", module, *args])
    return EXIT_OK  # not reached


def _config_dir(path: str) -> Path:
    folder = Path(path)
    if not folder.is_dir():
        raise UsageError(f"{path} is not a folder; give the folder that holds factory.yaml")
    return folder


def _cmd_validate(args: argparse.Namespace, out: Console, err: Console) -> int:
    factory = load_directory(_config_dir(args.path))
    out.print(
        f"{args.path}: valid: {len(factory.images)} image definition(s), "
        f"{len(factory.labs)} lab target(s)."
    )
    return EXIT_OK


def _cmd_plan(args: argparse.Namespace, out: Console, err: Console) -> int:
    factory = load_directory(_config_dir(args.path))
    inventory = _read_inventory(args.inventory) if args.inventory else Inventory()
    trigger = Trigger(
        kind="manual",
        families=args.image or [],
        force=args.force,
        dry_run=True,
    )
    result = plan(factory, inventory, args.now, trigger)
    if args.json:
        out.print_json(result.model_dump_json(by_alias=True))
    else:
        render_plan(result, out)
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.write:
        for path in write_schemas(Path(args.write)):
            out.print(f"wrote {path}")
        return EXIT_OK
    combined = {name: json.loads(text) for name, text in render_schemas().items()}
    sys.stdout.write(json.dumps(combined, indent=2, sort_keys=True) + "\n")
    return EXIT_OK


def _cmd_import_legacy(args: argparse.Namespace, out: Console, err: Console) -> int:
    from shared.config.legacy_import import import_legacy

    try:
        report = import_legacy(Path(args.path), Path(args.out), factory_lab=args.factory_lab)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    for line in report.written:
        out.print(f"wrote {line}")
    for line in report.unconverted:
        err.print(Text("not converted: ", style="yellow") + Text(line), highlight=False)
    out.print(
        f"Converted {report.images} image(s) and {report.labs} lab(s) into {args.out}; "
        f"{len(report.unconverted)} item(s) could not be converted."
    )
    return EXIT_OK


def _read_inventory(path: str) -> Inventory:
    try:
        return Inventory.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the inventory file {path}: {exc.strerror}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        reason = f"{where}: {first['msg']}" if where else first["msg"]
        raise UsageError(f"the inventory file {path} is not valid: {reason}") from exc


def _utc(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"'{value}' is not an ISO 8601 time such as 2026-11-24T12:00:00Z"
        ) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imagefactory",
        description="Image factory for Azure DevTest Labs: golden images as code.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = sub.add_parser("validate", help="check a configuration repository")
    validate.add_argument("path", help="the configuration folder (holds factory.yaml)")
    validate.set_defaults(run=_cmd_validate)

    plan_cmd = sub.add_parser("plan", help="show what a run would build, distribute and retire")
    plan_cmd.add_argument("path", help="the configuration folder (holds factory.yaml)")
    plan_cmd.add_argument(
        "--inventory", metavar="FILE.json", help="what exists in Azure (default: nothing yet)"
    )
    plan_cmd.add_argument(
        "--now", type=_utc, default=datetime.now(UTC), help="plan as of this UTC time"
    )
    plan_cmd.add_argument("--image", action="append", help="only this image (repeatable)")
    plan_cmd.add_argument("--force", action="store_true", help="rebuild even if up to date")
    plan_cmd.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan_cmd.set_defaults(run=_cmd_plan)

    schema = sub.add_parser("schema", help="print (or write) the configuration JSON Schemas")
    schema.add_argument("--write", metavar="DIR", help="write the schema files into DIR")
    schema.set_defaults(run=_cmd_schema)

    legacy = sub.add_parser(
        "import-legacy", help="convert Microsoft's PowerShell image factory layout"
    )
    legacy.add_argument("path", help="the legacy repository (holds Configuration/)")
    legacy.add_argument("--out", required=True, help="the folder to write the new layout into")
    legacy.add_argument(
        "--factory-lab", help="resource id of the factory lab (default: the first lab)"
    )
    legacy.set_defaults(run=_cmd_import_legacy)

    add_lab_parser(sub)

    for tool in LOCAL_WORLD_TOOLS:
        sub.add_parser(tool, help=f"run the local {tool} (see `imagefactory {tool} --help`)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in LOCAL_WORLD_TOOLS:
        return _delegate(args_list[0], args_list[1:])
    out, err = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
    if not out.is_terminal:  # logs and CI: wide enough for tables, never wrapped mid-word
        out.width = 160
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
