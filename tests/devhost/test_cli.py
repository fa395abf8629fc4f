"""`python -m devhost` status, runs, show and history read the state of a devhost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devhost.cli import main
from devhost.host import DevHost
from tests.devhost.conftest import copy_app


@pytest.fixture(scope="module")
def finished_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A copy of the test app whose devhost ran one chaining instance, then stopped."""
    app_dir = copy_app(tmp_path_factory.mktemp("cli") / "app")
    with DevHost(app_dir, port=0, queues=False, timers=False) as host:
        # The body the SDK's client posts: the input, JSON-encoded twice.
        instance_id = host.engine.start_new("chaining", "cli-run", json.dumps(json.dumps("cli")))
        host.engine.wait_for(instance_id, 30)
    return app_dir, instance_id


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_status_and_runs(
    finished_app: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app_dir, instance_id = finished_app
    code, out = run(capsys, "--app-dir", str(app_dir), "status")
    assert code == 0
    assert "devhost is not running" in out
    assert "Completed" in out and "1" in out
    code, out = run(capsys, "--app-dir", str(app_dir), "runs")
    assert code == 0
    assert instance_id in out and "chaining" in out


def test_show_and_history(
    finished_app: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app_dir, instance_id = finished_app
    code, out = run(capsys, "--app-dir", str(app_dir), "show", instance_id)
    assert code == 0
    assert "Hello cli-1!" in out and "Completed" in out
    code, out = run(capsys, "--app-dir", str(app_dir), "history", instance_id)
    assert code == 0
    for kind in ("ExecutionStarted", "TaskScheduled", "TaskCompleted", "ExecutionCompleted"):
        assert kind in out
    code, out = run(capsys, "--app-dir", str(app_dir), "show", "missing-id")
    assert code == 1
    assert "No instance with ID 'missing-id'" in out


def test_commands_without_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--app-dir", str(tmp_path), "runs")
    assert code == 0
    assert "No devhost state" in out
    code, out = run(capsys, "--app-dir", str(tmp_path), "fire-timer", "every_hour")
    assert code == 1
    assert "devhost is not running" in out
