"""A run's report and live progress for people: what was built, distributed, retired,
skipped and why, and what failed and why."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from shared.cli.plan_view import lab_label
from shared.run.payloads import RunReport
from shared.run.progress import RunProgress


def progress_view(run_id: str, status: dict[str, Any]) -> Group:
    """The live view of a running run, from its status (`GET /api/runs/<id>`)."""
    progress = RunProgress.from_status(status.get("progress")) or RunProgress(phase="?")
    builds, dists = progress.builds, progress.distributions
    building = f"; building {', '.join(builds.running)}" if builds.running else ""
    in_flight = f"; {dists.running} in flight" if dists.running else ""
    lines = [
        Text(f"Run {run_id}: {status.get('status', '?')}, phase: {progress.phase}"),
        Text(
            f"  builds        {builds.done} done, {builds.failed} failed of {builds.planned}"
            + building
        ),
        Text(
            f"  distributions {dists.done} done, {dists.failed} failed of {dists.planned}"
            + in_flight
        ),
        Text(f"  retirements   {progress.retirements.planned} planned"),
    ]
    return Group(*lines)


def render_report(report: RunReport, console: Console) -> None:
    title = f"Run {report.instance_id} ({report.trigger}"
    title += f", commit {report.commit[:12]})" if report.commit else ")"
    console.print(Text(title, style="bold"))
    if report.problems:
        console.print(Text("The configuration is invalid; nothing was done:", style="red"))
        for problem in report.problems:
            console.print(f"  {problem}", markup=False, highlight=False)
        return
    if report.dry_run:
        console.print("Dry run: planned only, nothing changed.")
    console.print(_outcomes(report))
    for warning in report.warnings:
        console.print(Text(warning, style="yellow"))
    for lab in report.inventory_errors:
        console.print(Text(f"could not read {lab_label(lab.lab)}: {lab.error}", style="red"))
    console.print(
        Text(
            f"{len(report.built)} built, {len(report.distributed)} distributed, "
            f"{len(report.failed)} failed, {len(report.skipped)} skipped, "
            f"{report.retirements_queued} retirement message(s) queued.",
            style="bold",
        )
    )


def _outcomes(report: RunReport) -> Table:
    """One row per image and lab: what the run did there (or will retire) and why."""
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("", "image", "where", "why / what happened"):
        table.add_column(column)
    plan = report.plan
    reasons = {b.family: b.reason.value for b in plan.builds} if plan else {}
    for result in report.built:
        table.add_row(
            Text("built", style="green"),
            f"{result.family} {result.version}",
            "factory lab",
            reasons.get(result.family, ""),
        )
    for result in report.distributed:
        table.add_row(
            Text("distributed", style="green"),
            f"{result.family}-{result.version}",
            lab_label(result.lab or ""),
            "",
        )
    for result in report.failed:
        table.add_row(
            Text("FAILED", style="bold red"),
            f"{result.family} {result.version}",
            lab_label(result.lab) if result.lab else "factory lab",
            f"{result.step}: {result.reason}",
        )
    for result in report.skipped:
        table.add_row(
            Text("skipped", style="yellow"),
            f"{result.family}-{result.version}",
            lab_label(result.lab or ""),
            result.reason,
        )
    for retirement in plan.retirements if plan else []:
        table.add_row(
            Text("retiring", style="magenta"),
            retirement.image_name,
            lab_label(retirement.lab),
            retirement.reason,
        )
    for skip in plan.skips if plan else []:
        table.add_row(
            Text("unchanged", style="dim"),
            skip.family,
            lab_label(skip.lab) if skip.lab else "",
            skip.reason,
        )
    return table
