"""kill -9 in the middle of a fan-out, then a restart: every result arrives exactly once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.devhost.conftest import FUNCTION_KEY, MASTER_KEY, copy_app

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(app_dir: Path, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "devhost", "--app-dir", str(app_dir), "start"),
                *("--port", str(port), "--no-queues", "--no-timers"),
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/ping", timeout=2).status_code == 200:
                return process
        except requests.ConnectionError:
            pass
        assert process.poll() is None, log.read_text(encoding="utf-8", errors="replace")
        assert time.monotonic() < deadline, "devhost did not start within 60 s"
        time.sleep(0.1)


def calls(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [int(line) for line in path.read_text(encoding="utf-8").split()]


def test_kill_9_during_fan_out_then_restart(tmp_path: Path) -> None:
    app_dir = copy_app(tmp_path / "app")
    calls_file = tmp_path / "calls.txt"
    log = tmp_path / "devhost.log"
    env = {
        **os.environ,
        "DEVHOST_TEST_CALLS": str(calls_file),
        "DEVHOST_TEST_DELAY": "0.05",
        "PYTHONPATH": str(ROOT),
    }
    port = free_port()
    process = launch(app_dir, port, env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        started = requests.post(
            f"{base}/api/start/fan_out?id=crash-1&code={FUNCTION_KEY}",
            json={"count": 200, "activity": "slow_square"},
            timeout=30,
        )
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 60
        while len(calls(calls_file)) < 40:
            assert time.monotonic() < deadline, "the fan-out did not start"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        done_before = len(set(calls(calls_file)))
        assert 40 <= done_before < 200, "the kill should land in the middle of the fan-out"

        process = launch(app_dir, port, env, log)
        status_url = f"{base}/runtime/webhooks/durabletask/instances/crash-1?code={MASTER_KEY}"
        deadline = time.monotonic() + 120
        while True:
            response = requests.get(status_url, timeout=30)
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

        history = requests.get(status_url + "&showHistory=true", timeout=30).json()
        completed = [
            e["TaskScheduledId"]
            for e in history["historyEvents"]
            if e["EventType"] == "TaskCompleted"
        ]
        assert sorted(completed) == list(range(200))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
