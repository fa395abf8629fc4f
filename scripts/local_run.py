"""`make run`: the whole factory on this machine.

    python -m scripts.local_run [--config examples/factory] [--scenario examples/local-world.yaml]

1. Makes the local configuration repository `.local/config.git` from `--config` (the
   first time only; `make clean` starts over) and starts the emulator (with Azurite) and
   devhost as processes, the Function App reading that repository as it would in Azure.
2. Starts a run through the factory's HTTP API, shows its progress live, prints the report.
3. Pushes: commits a change to one image definition and delivers the signed GitHub
   webhook to the Function App; follows the run it starts, over exactly that commit.

State persists under `.local/`, so a second `make run` finds the first run's images: the
first run changes nothing (change detection), the push rebuilds one image and the oldest
version beyond a lab's `keep` is retired.
"""

from __future__ import annotations

import argparse
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

from devhost.process import DevHostProcess
from emulator.runner import WorldInfo
from scripts.local_settings import app_settings
from scripts.push_demo import (
    deliver_github,
    github_push_payload,
    init_repository,
    toggle_vm_size,
)
from shared.cli.report_view import progress_view, render_report
from shared.config.loading import ConfigInvalid, load_directory
from shared.run.payloads import RunReport

DEMO_KEY = "local-demo-function-key"
DEMO_SECRET = "local-demo-webhook-secret"
PUSHED_IMAGE = "ubuntu2204-base"
EMULATOR_CLOCK = "1m=100ms"  # a 40-minute Windows build takes about 4 seconds
TIME_SCALE = 1 / 60  # a configured minute of timeout lasts one second here
START_TIMEOUT = 120.0


@dataclass
class LocalPaths:
    root: Path  # the project (holds function_app.py)
    state: Path  # .local/
    config: Path  # the configuration the local repository starts from
    scenario: Path

    @property
    def repository(self) -> Path:
        return self.state / "config.git"

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


def _settings(paths: LocalPaths, world: WorldInfo) -> dict[str, str]:
    """The app in the world, reading the local repository, with the demo's key and secret."""
    return {
        **app_settings(world, poll_seconds=0.5, time_scale=TIME_SCALE),
        "DEVHOST_FUNCTION_KEY": DEMO_KEY,
        "IMAGEFACTORY_CONFIG_SOURCE": "git",
        "IMAGEFACTORY_CONFIG_LOCATION": str(paths.repository),
        "IMAGEFACTORY_GITHUB_SECRET": DEMO_SECRET,
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
        world = WorldInfo(**json.loads(info_file.read_text()))
        console.print(f"Emulator at {world.endpoint} (state in {paths.world})")
        devhost = DevHostProcess(
            paths.root,
            state_dir=paths.devhost,
            values=_settings(paths, world),
            extra_args=["--no-timers"],
            log_file=paths.state / "devhost.log",
        )
        with devhost:
            console.print(f"Function App (devhost) at {devhost.base_url}")
            yield devhost.base_url


def start_run(url: str, options: dict[str, Any]) -> str:
    headers = {"x-functions-key": DEMO_KEY}
    response = requests.post(f"{url}/api/runs", json=options, headers=headers, timeout=30)
    if response.status_code != 202:
        raise RuntimeError(f"starting the run failed: {response.status_code} {response.text}")
    return str(response.json()["id"])


def push(url: str, paths: LocalPaths, console: Console) -> str:
    """Commit a change to one image and deliver the signed push webhook; the run's id."""
    before, after, changed = toggle_vm_size(paths.repository, PUSHED_IMAGE)
    console.print(f"Pushed {after[:12]} to {paths.repository}: {changed} changed")
    payload = github_push_payload(str(paths.repository), before, after, modified=[changed])
    response = deliver_github(f"{url}/api/webhooks/github", DEMO_SECRET, payload)
    answer = response.json()
    if response.status_code >= 400 or not answer.get("id"):
        raise RuntimeError(f"the push webhook was refused: {response.text}")
    started = "started" if answer.get("started") else "already known"
    console.print(f"Webhook delivered: {response.status_code}, run {answer['id']} {started}")
    return str(answer["id"])


def follow(url: str, run_id: str, console: Console) -> RunReport:
    headers = {"x-functions-key": DEMO_KEY}
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


def local_run(paths: LocalPaths, console: Console) -> list[RunReport]:
    paths.state.mkdir(parents=True, exist_ok=True)
    head = init_repository(paths.repository, source=paths.config)
    console.print(f"Configuration repository {paths.repository} at {head[:12]}")
    reports = []
    with local_world(paths, console) as url:
        console.rule("A run over the head of main")
        reports.append(follow(url, start_run(url, {}), console))
        render_report(reports[-1], console)
        console.rule("A push to the configuration repository")
        reports.append(follow(url, push(url, paths, console), console))
        render_report(reports[-1], console)
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the image factory on this machine.")
    parser.add_argument("--config", default="examples/factory", help="the starting configuration")
    parser.add_argument(
        "--scenario", default="examples/local-world.yaml", help="the emulator's world"
    )
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 160)
    root = Path(__file__).resolve().parent.parent
    paths = LocalPaths(
        root=root,
        state=root / ".local",
        config=Path(args.config).resolve(),
        scenario=Path(args.scenario).resolve(),
    )
    try:
        load_directory(paths.config)
    except ConfigInvalid as exc:
        console.print(str(exc), markup=False, highlight=False)
        return 1
    try:
        reports = local_run(paths, console)
    except RuntimeError as exc:
        console.print(f"local run failed: {exc}", markup=False, highlight=False)
        return 1
    return 1 if any(r.failed or r.problems for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
