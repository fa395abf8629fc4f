"""The run views: the live view reads the custom status factory_run publishes through one
typed model; the report says what happened to each image and why."""

from __future__ import annotations

from rich.console import Console

from shared.cli.report_view import progress_view, render_report
from shared.model.arm_ids import lab_id
from shared.planning.inventory import LabInventory
from shared.run.payloads import RunReport, StepResult
from shared.run.progress import BuildCounts, DistributionCounts, RunProgress

LAB = lab_id("00000000-0000-0000-0000-000000000001", "rg", "alpha")


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


def _report_text(report: RunReport) -> str:
    console = Console(width=160, record=True)
    render_report(report, console)
    return console.export_text()


def test_the_report_names_each_outcome_and_why() -> None:
    failed = StepResult(
        family="win11", version="v2", ok=False, step="apply artifacts", reason="exit 1"
    )
    report = RunReport(
        instance_id="manual-1",
        trigger="manual",
        commit="0123456789abcdef0123",
        built=[StepResult(family="ubuntu", version="v1", ok=True)],
        distributed=[StepResult(family="ubuntu", version="v1", lab=LAB, ok=True)],
        failed=[failed],
        retirements_queued=2,
        warnings=["a build VM's deletion was not confirmed"],
        inventory_errors=[LabInventory(lab=LAB, error="403 AuthorizationFailed: no")],
    )
    text = _report_text(report)
    assert "Run manual-1 (manual, commit 0123456789ab)" in text
    assert "built" in text and "ubuntu v1" in text and "factory lab" in text
    assert "distributed" in text and "ubuntu-v1" in text
    assert "FAILED" in text and "apply artifacts: exit 1" in text
    assert "a build VM's deletion was not confirmed" in text
    assert "403 AuthorizationFailed: no" in text
    assert "1 built, 1 distributed, 1 failed, 0 skipped, 2 retirement message(s) queued." in text


def test_an_invalid_configuration_reports_only_its_problems() -> None:
    report = RunReport(
        instance_id="push-1",
        trigger="push",
        problems=["images/a.yaml:3: vmSize: field required"],
        built=[StepResult(family="ubuntu", version="v1", ok=True)],
    )
    text = _report_text(report)
    assert "The configuration is invalid; nothing was done:" in text
    assert "images/a.yaml:3: vmSize: field required" in text
    assert "built" not in text
