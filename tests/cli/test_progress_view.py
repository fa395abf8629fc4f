"""The live view reads the custom status factory_run publishes, through one typed model."""

from __future__ import annotations

from rich.console import Console

from shared.cli.report_view import progress_view
from shared.run.progress import BuildCounts, DistributionCounts, RunProgress


def _text(status: dict[str, object]) -> str:
    console = Console(width=120, record=True)
    console.print(progress_view("run-1", status))
    return console.export_text()


def test_the_published_status_reads_back_as_the_same_counts() -> None:
    progress = RunProgress(
        phase="build",
        builds=BuildCounts(planned=3, done=1, failed=1, running=["ubuntu"], vms_deleting=1),
        distributions=DistributionCounts(planned=4, done=2, running=2),
    )
    published = progress.to_status()
    assert published["builds"]["vmsDeleting"] == 1  # camelCase on the wire
    assert RunProgress.from_status(published) == progress
    text = _text({"status": "Running", "progress": published})
    assert "Run run-1: Running, phase: build" in text
    assert "1 done, 1 failed of 3; building ubuntu" in text
    assert "2 done, 0 failed of 4; 2 in flight" in text


def test_a_waiting_request_or_no_status_still_renders() -> None:
    waiting = _text({"status": "Pending", "progress": {"phase": "waiting for the run to end"}})
    assert "phase: waiting for the run to end" in waiting
    assert "0 done, 0 failed of 0" in waiting
    assert "phase: ?" in _text({"status": "Pending", "progress": None})
    assert RunProgress.from_status({"builds": {"planned": "many"}}) is None
    assert RunProgress.from_status("starting") is None
