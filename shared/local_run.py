"""`imagefactory local-run`: the whole factory on this machine, as `make run` shows it.

Starts the emulator (with Azurite) and devhost as processes, starts a run through the
factory's own HTTP API, shows its progress live and prints the report. State persists
under `.local/`, so a second run finds the first run's images: change detection and
retirement at work.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.live import Live

from shared.payloads import RunReport
from shared.report_render import progress_view, render_report

DEMO_KEY = "local-demo-function-key"
EMULATOR_CLOCK = "1m=100ms"  # a 40-minute Windows build takes about 4 seconds
TIME_SCALE = 1 / 60  # a configured minute of timeout lasts one second here
START_TIMEOUT = 120.0


@dataclass
class LocalPaths:
    root: Path  # the project (holds function_app.py)
    state: Path  # .local/
    config: Path  # the configuration repository the factory reads
    scenario: Path

    @property
    def world(self) -> Path:
        return self.state / "world"

    @property
    def devhost(self) -> Path:
        return self.state / "devhost"


def _wait_for_file(path: Path, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not path.exists():
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{what} stopped while starting; its log ends:\n{tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {START_TIMEOUT:.0f} s; see {log}")
        time.sleep(0.1)


@contextmanager
def _process(args: list[str], log: Path, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            args,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _settings(paths: LocalPaths, world: dict[str, Any]) -> dict[str, Any]:
    ca = world["ca_file"]
    queue = f"https://127.0.0.1:{world['queue_port']}/devstoreaccount1"
    blob = f"https://127.0.0.1:{world['blob_port']}/devstoreaccount1"
    # Azurite's documented development account key (public, not a secret).
    key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    connection = (
        "DefaultEndpointsProtocol=https;AccountName=devstoreaccount1;"
        f"AccountKey={key};BlobEndpoint={blob};QueueEndpoint={queue};"
    )
    return {
        "IsEncrypted": False,
        "Values": {
            "FUNCTIONS_WORKER_RUNTIME": "python",
            "AzureWebJobsStorage": connection,
            "DEVHOST_FUNCTION_KEY": DEMO_KEY,
            "DEVHOST_CA_BUNDLE": ca,
            "IMAGEFACTORY_ARM_ENDPOINT": world["endpoint"],
            "IMAGEFACTORY_CA_BUNDLE": ca,
            "IMAGEFACTORY_CREDENTIAL": "local",
            "IMAGEFACTORY_CONFIG_SOURCE": "directory",
            "IMAGEFACTORY_CONFIG_LOCATION": str(paths.config),
            "IMAGEFACTORY_POLL_SECONDS": "0.5",
            "IMAGEFACTORY_TIME_SCALE": str(TIME_SCALE),
            "IMAGEFACTORY_SCHEDULE": "0 0 2 * * *",
        },
        "Host": {"LocalHttpPort": 0},
    }


@contextmanager
def local_world(paths: LocalPaths, console: Console) -> Iterator[str]:
    """Emulator + Azurite + devhost running; yields devhost's base URL."""
    info_file = paths.world / "local-world.json"
    info_file.unlink(missing_ok=True)
    emulator = [
        sys.executable, "-m", "emulator", "--scenario", str(paths.scenario),
        "--state-dir", str(paths.world), "--port", "0", "--persist",
        "--clock-scale", EMULATOR_CLOCK,
    ]  # fmt: skip
    with (
        console.status("Starting the DevTest Labs emulator and Azurite..."),
        _process(emulator, paths.state / "emulator.log", paths.root) as world_process,
    ):
        _wait_for_file(info_file, world_process, paths.state / "emulator.log", "the emulator")
        world = json.loads(info_file.read_text())
        settings_file = paths.state / "local.settings.json"
        settings_file.write_text(json.dumps(_settings(paths, world), indent=2))
        runtime = paths.devhost / "runtime.json"
        runtime.unlink(missing_ok=True)
        devhost = [
            sys.executable, "-m", "devhost", "--app-dir", str(paths.root),
            "--state-dir", str(paths.devhost), "start", "--port", "0",
            "--settings", str(settings_file), "--no-timers",
        ]  # fmt: skip
        console.print(f"Emulator at {world['endpoint']} (state in {paths.world})")
        with _process(devhost, paths.state / "devhost.log", paths.root) as host_process:
            _wait_for_file(runtime, host_process, paths.state / "devhost.log", "devhost")
            url = json.loads(runtime.read_text())["url"].rstrip("/")
            console.print(f"Function App (devhost) at {url}")
            yield url


def run_once(url: str, console: Console, options: dict[str, Any]) -> RunReport:
    headers = {"x-functions-key": DEMO_KEY}
    response = requests.post(f"{url}/api/runs", json=options, headers=headers, timeout=30)
    if response.status_code != 202:
        raise RuntimeError(f"starting the run failed: {response.status_code} {response.text}")
    run_id = response.json()["id"]
    status: dict[str, Any] = {}
    with Live(console=console, refresh_per_second=4, transient=False) as live:
        while True:
            status = requests.get(f"{url}/api/runs/{run_id}", headers=headers, timeout=30).json()
            live.update(progress_view(run_id, status))
            if status.get("status") not in ("Pending", "Running", "ContinuedAsNew"):
                break
            time.sleep(0.25)
    if status.get("status") != "Completed":
        raise RuntimeError(f"run {run_id} ended {status.get('status')}: {status.get('report')}")
    return RunReport.model_validate(status["report"])


def local_run(paths: LocalPaths, options: dict[str, Any], console: Console) -> RunReport:
    paths.state.mkdir(parents=True, exist_ok=True)
    with local_world(paths, console) as url:
        report = run_once(url, console, options)
        console.print()
        render_report(report, console)
        return report
