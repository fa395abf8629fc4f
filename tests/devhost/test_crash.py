"""kill -9 in the middle of a fan-out, then a restart: every result arrives exactly once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import requests

from devhost.process import DevHostProcess
from tests.devhost.conftest import FUNCTION_KEY, MASTER_KEY, copy_app

ROOT = Path(__file__).resolve().parents[2]


def calls(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [int(line) for line in path.read_text(encoding="utf-8").split()]


def test_kill_9_during_fan_out_then_restart(tmp_path: Path) -> None:
    app_dir = copy_app(tmp_path / "app")
    calls_file = tmp_path / "calls.txt"
    env = {
        "DEVHOST_TEST_CALLS": str(calls_file),
        "DEVHOST_TEST_DELAY": "0.05",
        "PYTHONPATH": str(ROOT),
    }
    host = DevHostProcess(app_dir, env=env, extra_args=["--no-queues", "--no-timers"])
    assert (host.function_key, host.master_key) == (FUNCTION_KEY, MASTER_KEY)
    with host:
        started = requests.post(
            f"{host.base_url}/api/start/fan_out?id=crash-1&code={FUNCTION_KEY}",
            json={"count": 200, "activity": "slow_square"},
            timeout=30,
        )
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 60
        while len(calls(calls_file)) < 40:
            assert time.monotonic() < deadline, "the fan-out did not start"
            time.sleep(0.01)
        host.kill()
        done_before = len(set(calls(calls_file)))
        assert 40 <= done_before < 200, "the kill should land in the middle of the fan-out"

        host.start()
        status_url = f"{host.base_url}/runtime/webhooks/durabletask/instances/crash-1"
        deadline = time.monotonic() + 120
        while True:
            response = requests.get(status_url, params={"code": MASTER_KEY}, timeout=30)
            if response.status_code == 200:
                break
            assert response.status_code == 202, response.text
            assert time.monotonic() < deadline, response.text
            time.sleep(0.1)
        status = response.json()
        assert status["runtimeStatus"] == "Completed", status
        output = status["output"]
        assert output["count"] == 200
        assert output["results"] == [i * i for i in range(200)]
        # Every activity ran; those running at the kill may have run twice (at least once).
        ran = calls(calls_file)
        assert set(ran) == set(range(200))
        assert len(ran) - 200 <= 16

        history = requests.get(
            status_url, params={"code": MASTER_KEY, "showHistory": "true"}, timeout=30
        ).json()
        # Each completion is folded with its scheduling event: its function and input.
        completed = [
            json.loads(e["Input"])
            for e in history["historyEvents"]
            if e["EventType"] == "TaskCompleted" and e["FunctionName"] == "slow_square"
        ]
        assert sorted(completed) == list(range(200))
