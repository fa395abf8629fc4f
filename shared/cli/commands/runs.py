"""`imagefactory runs list|show ID|start ...`: the client of a deployed factory.

    export IMAGEFACTORY_FUNCTION_KEY=...      # never on the command line
    imagefactory runs start --app https://<app>.azurewebsites.net --image win2022-base --wait

`start --wait` (or `--watch`, which shows the run's progress live) follows the run to its
end and prints its report; `show` prints a run's. Exit codes: 0 the run delivered
everything (or is still going, for `show`; or was only started), 1 something failed (an
image, the run itself, or the app could not be reached or failed to answer), 2 a usage
error (bad arguments, no function key, a request the app refused).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from shared.cli.command import EXIT_INVALID, EXIT_OK, Command, UsageError
from shared.cli.report_view import progress_view, render_report
from shared.cli.runs_client import (
    AppRefused,
    AppUnavailable,
    MissingKey,
    RunsClient,
    function_key,
)
from shared.model.base import first_error
from shared.run.listing import DEFAULT_PAGE, MAX_PAGE
from shared.run.payloads import RunReport
from shared.run.request import GOING

EXIT_FAILED = EXIT_INVALID  # 1: something failed
MAX_MISSED_POLLS = 5  # a watch survives this many failed reads in a row (a restart, a blip)


def _app(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--app",
        required=True,
        metavar="URL",
        help="the Function App, e.g. https://<name>.azurewebsites.net (the function key is "
        "read from IMAGEFACTORY_FUNCTION_KEY)",
    )


def _follow(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--interval", type=float, default=5.0, metavar="SECONDS", help="how often to ask"
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="runs_action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="the runs, newest first")
    _app(listing)
    listing.add_argument("--top", type=int, default=DEFAULT_PAGE, metavar="N", help="runs per page")
    listing.add_argument("--page-token", metavar="TOKEN", help="the page after the last one")
    listing.add_argument("--json", action="store_true", help="print the API's answer")
    listing.set_defaults(run=_list)

    show = actions.add_parser("show", help="one run's status and report")
    _app(show)
    show.add_argument("id", help="the run's id (what start printed, or list shows)")
    show.add_argument("--json", action="store_true", help="print the API's answer")
    show.set_defaults(run=_show)

    start = actions.add_parser("start", help="start a run (through the run queue)")
    _app(start)
    start.add_argument("--image", action="append", default=[], help="only this image family")
    start.add_argument("--force", action="store_true", help="rebuild even if up to date")
    start.add_argument("--dry-run", action="store_true", help="plan only; change nothing")
    start.add_argument(
        "--idempotency-key", metavar="KEY", help="retries with the same key start one run"
    )
    start.add_argument("--wait", action="store_true", help="follow the run to its end")
    start.add_argument(
        "--watch", action="store_true", help="follow the run, showing its progress live"
    )
    _follow(start)
    start.set_defaults(run=_start)


def _client(args: argparse.Namespace) -> RunsClient:
    try:
        key = function_key()
    except MissingKey as exc:
        raise UsageError(str(exc)) from exc
    return RunsClient(app=args.app, key=key)


def _say(err: Console, message: str) -> None:
    err.print(f"imagefactory: {message}", highlight=False, markup=False)


def _asking(err: Console, action: Any) -> Any:
    """What `action()` answers; a refusal is a UsageError, an unreachable app None (said)."""
    try:
        return action()
    except AppRefused as exc:
        raise UsageError(f"the factory refused: {exc}") from exc
    except AppUnavailable as exc:
        _say(err, str(exc))
        return None


def _list(args: argparse.Namespace, out: Console, err: Console) -> int:
    if not 1 <= args.top <= MAX_PAGE:
        raise UsageError(f"--top must be from 1 to {MAX_PAGE}")
    client = _client(args)
    page = _asking(err, lambda: client.list(args.top, args.page_token))
    if page is None:
        return EXIT_FAILED
    if args.json:
        out.print_json(data=page)
        return EXIT_OK
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("run", "status", "created", "built", "distributed", "failed"):
        table.add_column(column)
    for run in page.get("runs", []):
        counts = run.get("counts") or {}
        failed = counts.get("failed")
        table.add_row(
            run["id"] + (" (dry run)" if run.get("dryRun") else ""),
            _status_text(run.get("status", "?"), failed),
            _when(run.get("createdTime")),
            str(counts.get("built", "")),
            str(counts.get("distributed", "")),
            Text(str(failed), style="bold red") if failed else str(failed or ""),
        )
    out.print(table)
    if not page.get("runs"):
        out.print("No runs yet.")
    _print_waiting(out, page.get("waiting") or [])
    if page.get("waitingUnread"):
        _say(err, f"what waits for a run is not shown: {page['waitingUnread']}")
    if page.get("nextPage"):
        out.print(f"More: --page-token {page['nextPage']}", highlight=False, markup=False)
    return EXIT_OK


def _print_waiting(out: Console, waiting: list[dict[str, Any]]) -> None:
    """The requests the run queue holds, oldest first: each waits for the run going now."""
    if not waiting:
        return
    out.print(f"\nWaiting for a run ({len(waiting)}):")
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("request", "since", "what"):
        table.add_column(column)
    for item in waiting:
        what = [", ".join(item.get("images") or []) or "every image"]
        if item.get("commit"):
            what.append(f"at {str(item['commit'])[:12]}")
        what += [
            word for flag, word in (("force", "forced"), ("dryRun", "dry run")) if item.get(flag)
        ]
        table.add_row(
            item["id"],
            _when(item.get("since")),
            " ".join(what) + (f" ({item['note']})" if item.get("note") else ""),
        )
    out.print(table)


def _when(timestamp: object) -> str:
    """An ISO timestamp to the second, as the tables show it."""
    return str(timestamp or "")[:19].replace("T", " ")


def _status_text(status: str, failed: int | None) -> Text:
    if status == "Completed":
        return Text(status, style="yellow" if failed else "green")
    if status in GOING:
        return Text(status, style="cyan")
    return Text(status, style="bold red")


def _show(args: argparse.Namespace, out: Console, err: Console) -> int:
    client = _client(args)
    status = _asking(err, lambda: client.status(args.id))
    if status is None:
        return EXIT_FAILED
    if args.json:
        out.print_json(data=status)
        return _outcome(status, None)
    return _outcome(status, out)


def _start(args: argparse.Namespace, out: Console, err: Console) -> int:
    client = _client(args)
    answer = _asking(
        err,
        lambda: client.start(
            args.image,
            force=args.force,
            dry_run=args.dry_run,
            idempotency_key=args.idempotency_key,
        ),
    )
    if answer is None:
        return EXIT_FAILED
    run_id = str(answer["id"])
    started = "started" if answer.get("started", True) else "already requested"
    behind = f", waits behind {answer['behind']}" if answer.get("behind") else ""
    out.print(f"Run {run_id}: {started}{behind}.", highlight=False, markup=False)
    if not (args.wait or args.watch):
        return EXIT_OK
    status = _wait(client, run_id, args.interval, out if args.watch else None, err)
    if status is None:
        return EXIT_FAILED
    return _outcome(status, out)


def _wait(
    client: RunsClient, run_id: str, interval: float, live_on: Console | None, err: Console
) -> dict[str, Any] | None:
    """The run's status once it has ended; None when the app could not be asked again."""
    missed = 0
    live = Live(console=live_on, refresh_per_second=4, transient=False) if live_on else None
    if live is not None:
        live.start()
    try:
        while True:
            try:
                status = client.status(run_id)
                missed = 0
            except AppUnavailable as exc:
                missed += 1
                if missed >= MAX_MISSED_POLLS:
                    _say(err, f"stopped following run {run_id}: {exc}")
                    return None
                time.sleep(interval)
                continue
            except AppRefused as exc:
                _say(err, f"cannot follow run {run_id}: {exc}")
                return None
            if live is not None:
                live.update(progress_view(run_id, status))
            if status.get("status") not in GOING:
                return status
            time.sleep(interval)
    finally:
        if live is not None:
            live.stop()


def _outcome(status: dict[str, Any], out: Console | None) -> int:
    """Print a run's state or report; 0 delivered everything (or still going), 1 not."""
    state = str(status.get("status", "?"))
    run_id = str(status.get("id", "?"))
    if state in GOING:
        if out is not None:
            out.print(progress_view(run_id, status))
        return EXIT_OK
    body = status.get("report")
    if state != "Completed" or not isinstance(body, dict):
        if out is not None:
            why = f": {body}" if isinstance(body, str) and body else ""
            out.print(Text(f"Run {run_id} {state.lower()}{why}", style="bold red"))
        return EXIT_FAILED
    try:
        report = RunReport.model_validate(body)
    except ValidationError as exc:
        if out is not None:
            out.print(f"Run {run_id}: its report does not read: {first_error(exc)}", markup=False)
        return EXIT_FAILED
    if out is not None:
        render_report(report, out)
    return EXIT_FAILED if report.failed or report.problems or report.inventory_errors else EXIT_OK


COMMAND = Command("runs", "list, show and start runs of a deployed factory", _arguments)
