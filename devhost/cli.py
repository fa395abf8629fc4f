"""`python -m devhost` and `imagefactory devhost`: start, status, runs, show, history, fire."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from devhost.engine import summarize_event
from devhost.host import DevHost
from devhost.loader import AppLoadError
from devhost.settings import DB_FILE, RUNTIME_FILE, AppSettings, SettingsError, state_dir_for
from devhost.store import Instance, Store

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2

STATUS_STYLE = {
    "Completed": "green",
    "Failed": "red",
    "Terminated": "magenta",
    "Running": "cyan",
    "Pending": "yellow",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devhost",
        description="Run a Python v2 Function App on this machine (HTTP, Durable, timers, queues).",
    )
    parser.add_argument(
        "--app-dir", type=Path, default=Path.cwd(), help="the app directory (default: cwd)"
    )
    parser.add_argument(
        "--state-dir", type=Path, help="where state is kept (default: APP_DIR/.local/devhost)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    start = sub.add_parser("start", help="run the app until interrupted")
    start.add_argument("--port", type=int, help="HTTP port (default: Host.LocalHttpPort or 7071)")
    start.add_argument("--address", default="127.0.0.1", help="address to listen on")
    start.add_argument("--settings", type=Path, help="settings file (default: local.settings.json)")
    start.add_argument("--no-timers", action="store_true", help="do not fire timer triggers")
    start.add_argument("--no-queues", action="store_true", help="do not poll queues")
    start.add_argument("--verbose", "-v", action="store_true", help="log more")
    sub.add_parser("status", help="is devhost running, where, and instance counts")
    runs = sub.add_parser("runs", help="list orchestration instances, newest first")
    runs.add_argument("--status", action="append", help="only instances with this status")
    runs.add_argument("--limit", type=int, default=50)
    show = sub.add_parser("show", help="one instance: status, input, output, pending work")
    show.add_argument("instance_id")
    history = sub.add_parser("history", help="the history of one instance")
    history.add_argument("instance_id")
    history.add_argument("--json", action="store_true", help="print the raw events as JSON")
    fire = sub.add_parser("fire", help="run a timer or queue function now (devhost must run)")
    fire.add_argument("function")
    fire.add_argument("--input", default="", help="the message body for a queue function")
    fire.add_argument("--settings", type=Path, help="the settings file devhost was started with")
    fire_timer = sub.add_parser("fire-timer", help="fire a timer function now (alias of fire)")
    fire_timer.add_argument("function")
    fire_timer.add_argument("--input", default="")
    fire_timer.add_argument("--settings", type=Path, help="the settings file devhost uses")
    return parser


def _state_dir(args: argparse.Namespace) -> Path:
    return state_dir_for(args.app_dir, args.state_dir)


def _open_store(args: argparse.Namespace, console: Console) -> Store | None:
    path = _state_dir(args) / DB_FILE
    if not path.exists():
        console.print(f"[yellow]No devhost state in {path.parent}; run `devhost start` first.[/]")
        return None
    return Store(path)


def _runtime(args: argparse.Namespace) -> dict[str, Any] | None:
    path = _state_dir(args) / RUNTIME_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    try:
        os.kill(int(data["pid"]), 0)
    except (OSError, KeyError, ValueError):
        return None
    return dict(data)


def _pretty(text: str | None) -> str:
    if text is None:
        return "-"
    try:
        return json.dumps(json.loads(text), indent=2)
    except json.JSONDecodeError:
        return text


def cmd_start(args: argparse.Namespace, console: Console) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # The Azure SDKs log every HTTP request at INFO; keep the console readable.
        logging.getLogger("azure").setLevel(logging.WARNING)
    # Handlers first: a SIGTERM as soon as the port answers must still stop cleanly.
    stopped = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    host = DevHost(
        args.app_dir,
        port=args.port,
        address=args.address,
        state_dir=args.state_dir,
        settings_file=args.settings,
        timers=not args.no_timers,
        queues=not args.no_queues,
    )
    host.start()
    console.print(_functions_table(host))
    # Keys stay in the files they come from; a console is often a shared log.
    console.print(
        f"Keys: the DEVHOST_*_KEY settings, or generated in {host.keys_file} (readable by you only)"
    )
    console.print(f"State: {host.state_dir}   (Ctrl-C to stop)")
    console.file.flush()  # a log file shows the table now, not at exit
    stopped.wait()
    host.stop()
    console.print("devhost stopped.")
    return EXIT_OK


def _functions_table(host: DevHost) -> Table:
    """Every function with its URL, schedule or queue, and those not run with the reason."""
    table = Table(title=f"devhost: {host.app_dir.name} on {host.base_url}")
    table.add_column("Function")
    table.add_column("Trigger")
    table.add_column("Where")
    for route in host.routes:
        level = route.auth_level
        suffix = "" if level == "anonymous" else f"?code=<{level} key>"
        template = route.function.trigger.get("route") or route.function.name
        where = f"{' '.join(route.methods) if len(route.methods) < 7 else 'ANY'} "
        where += f"{host.base_url}/api/{template}{suffix}"
        table.add_row(route.function.name, "http", where)
    for info in host.app.functions.values():
        if info.name in host.app.unsupported:
            continue
        if info.trigger_type == "timerTrigger":
            table.add_row(info.name, "timer", str(info.trigger.get("schedule")))
        elif info.trigger_type == "queueTrigger":
            table.add_row(info.name, "queue", str(info.trigger.get("queueName")))
        elif info.trigger_type in ("orchestrationTrigger", "activityTrigger"):
            table.add_row(info.name, info.trigger_type.removesuffix("Trigger"), "")
    for name, reason in host.app.unsupported.items():
        table.add_row(name, "[red]not run[/]", reason)
    return table


def cmd_status(args: argparse.Namespace, console: Console) -> int:
    runtime = _runtime(args)
    if runtime:
        console.print(f"devhost is [green]running[/] at {runtime['url']} (pid {runtime['pid']}).")
    else:
        console.print("devhost is [yellow]not running[/].")
    store = _open_store(args, console)
    if store is None:
        return EXIT_OK
    counts: dict[str, int] = {}
    for instance in store.instances():
        counts[instance.status] = counts.get(instance.status, 0) + 1
    table = Table(title="Orchestration instances")
    table.add_column("Status")
    table.add_column("Count", justify="right")
    for status, count in sorted(counts.items()):
        table.add_row(f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]", str(count))
    console.print(table)
    pending = store.connection().execute("SELECT kind, COUNT(*) FROM work GROUP BY kind").fetchall()
    for kind, count in pending:
        console.print(f"Pending {kind} work items: {count}")
    return EXIT_OK


def cmd_runs(args: argparse.Namespace, console: Console) -> int:
    store = _open_store(args, console)
    if store is None:
        return EXIT_OK
    table = Table(title="Orchestration instances (newest first)")
    for column in ("Instance", "Orchestrator", "Status", "Created", "Updated", "Replays"):
        table.add_column(column)
    for i in store.instances(statuses=args.status, limit=args.limit, newest_first=True):
        style = STATUS_STYLE.get(i.status, "white")
        table.add_row(
            i.instance_id,
            i.name,
            f"[{style}]{i.status}[/]",
            i.created_at[:19],
            i.updated_at[:19],
            str(i.replays),
        )
    console.print(table)
    return EXIT_OK


def _open_instance(args: argparse.Namespace, console: Console) -> tuple[Store, Instance] | None:
    """The store and the instance `args.instance_id` names; None (said why) without them."""
    store = _open_store(args, console)
    if store is None:
        return None
    instance = store.instance(args.instance_id)
    if instance is None:
        console.print(f"[red]No instance with ID '{args.instance_id}'.[/]")
        return None
    return store, instance


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    opened = _open_instance(args, console)
    if opened is None:
        return EXIT_ERROR
    store, instance = opened
    table = Table(show_header=False, title=f"Instance {instance.instance_id}")
    table.add_column("Field", style="bold")
    table.add_column("Value")
    style = STATUS_STYLE.get(instance.status, "white")
    rows = [
        ("Orchestrator", instance.name),
        ("Status", f"[{style}]{instance.status}[/]"),
        ("Created", instance.created_at),
        ("Updated", instance.updated_at),
        ("Parent", instance.parent_instance_id or "-"),
        ("Executions", str(instance.generation)),
        ("Replays", str(instance.replays)),
        ("Input", _pretty(instance.input)),
        ("Custom status", _pretty(instance.custom_status)),
        ("Output", _pretty(instance.output)),
    ]
    for field, value in rows:
        table.add_row(field, value)
    work = store.pending_work(instance.instance_id)
    if work:
        summary: dict[str, int] = {}
        for item in work:
            summary[f"{item['kind']} {item['state']}"] = (
                summary.get(f"{item['kind']} {item['state']}", 0) + 1
            )
        table.add_row("Pending work", ", ".join(f"{k}: {v}" for k, v in summary.items()))
    console.print(table)
    return EXIT_OK


def cmd_history(args: argparse.Namespace, console: Console) -> int:
    opened = _open_instance(args, console)
    if opened is None:
        return EXIT_ERROR
    store, _ = opened
    events = store.history(args.instance_id)
    if args.json:
        console.print_json(json.dumps(events))
        return EXIT_OK
    table = Table(title=f"History of {args.instance_id} (current execution)")
    for column in ("#", "Event", "Id", "Time", "Details"):
        table.add_column(column)
    for index, raw in enumerate(events):
        ev = summarize_event(raw, with_output=True)
        ref = ev.get("EventId", ev.get("TaskScheduledId", ev.get("TimerId", "")))
        details = {k: v for k, v in ev.items() if k not in ("EventType", "Timestamp", "EventId")}
        text = ", ".join(f"{k}={v}" for k, v in details.items())
        table.add_row(
            str(index), ev["EventType"], str(ref), str(ev["Timestamp"])[11:23], text[:160]
        )
    console.print(table)
    return EXIT_OK


def cmd_fire(args: argparse.Namespace, console: Console) -> int:
    runtime = _runtime(args)
    if runtime is None:
        console.print("[red]devhost is not running for this app; start it with `devhost start`.[/]")
        return EXIT_ERROR
    settings = AppSettings.load(args.app_dir, args.settings)
    key = settings.keys(_state_dir(args)).master_key
    request = urllib.request.Request(
        f"{runtime['url']}/admin/functions/{args.function}",
        data=json.dumps({"input": args.input}).encode(),
        headers={"Content-Type": "application/json", "x-functions-key": key},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")
        try:
            message = json.loads(body).get("Message", body)
        except json.JSONDecodeError:
            message = body
        console.print(f"[red]{message}[/]")
        return EXIT_ERROR
    console.print(f"Fired {args.function} (HTTP {status}).")
    return EXIT_OK


COMMANDS = {
    "start": cmd_start,
    "status": cmd_status,
    "runs": cmd_runs,
    "show": cmd_show,
    "history": cmd_history,
    "fire": cmd_fire,
    "fire-timer": cmd_fire,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.app_dir = Path(args.app_dir).resolve()
    console = Console(width=160) if not sys.stdout.isatty() else Console()
    try:
        return COMMANDS[args.command](args, console)
    except (SettingsError, AppLoadError) as exc:
        console.print(f"[red]{exc}[/]")
        return EXIT_ERROR
