"""`python -m emulator` runs the local world in the foreground and stops cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from emulator.runner import INFO_FILE


def test_cli_starts_writes_info_and_stops_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--state-dir", str(tmp_path), "--clock-scale",
         "1m=10ms"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        info_file = tmp_path / INFO_FILE
        deadline = time.monotonic() + 60
        while not info_file.exists() and time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.1)
        info = json.loads(info_file.read_text())
        assert info["clock_scale"] == 6000
        assert "afactorylab01" in info["storage_accounts"]
        health = requests.get(
            f"{info['endpoint']}/_admin/health", verify=info["ca_file"], timeout=30
        )
        assert health.json() == {"status": "ok"}
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert f"emulator  {info['endpoint']}" in output
    assert f"CA file   {info['ca_file']}" in output


def test_cli_rejects_a_bad_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("subscriptions: [{id: nope}]\n")
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--scenario", str(scenario)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "subscriptions.0.id" in result.stderr
