"""The example factory's local world for end-to-end tests: emulator + Azurite (in this
process) and devhost running the real function_app.py (a child process, so it can be
killed with -9 and restarted)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from devhost.process import DevHostProcess
from emulator.runner import LocalWorld, WorldInfo
from emulator.scenario import load_scenario
from scripts.local_settings import app_settings
from tests.localworld import app_process

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "factory"
SCENARIO = ROOT / "examples" / "local-world.yaml"
FUNCTION_KEY = "pipeline-test-key"
CLOCK_SCALE = 6000.0  # one simulated minute takes 10 ms
TIME_SCALE = 1 / 600  # the factory's timeouts: one configured minute takes 100 ms


def start_world(state_dir: Path) -> tuple[LocalWorld, WorldInfo]:
    world = LocalWorld(
        scenario=load_scenario(SCENARIO), state_dir=state_dir, clock_scale=CLOCK_SCALE
    )
    return world, world.start()


@dataclass
class FactoryHost:
    """devhost serving the factory's function_app.py against a local world."""

    info: WorldInfo
    queue_connection: str
    work: Path
    config_dir: Path = field(init=False)
    process: DevHostProcess | None = None
    url: str = ""
    values: dict[str, str] = field(default_factory=dict)  # app settings to add or override

    def __post_init__(self) -> None:
        self.config_dir = self.work / "config"
        if not self.config_dir.exists():
            shutil.copytree(EXAMPLE, self.config_dir)
        self.state_dir = self.work / "devhost"
        self.log = self.work / "devhost.log"

    def settings(self) -> dict[str, str]:
        return {
            **app_settings(self.info, poll_seconds=0.1, time_scale=TIME_SCALE),
            "AzureWebJobsStorage": self.queue_connection,
            "DEVHOST_FUNCTION_KEY": FUNCTION_KEY,
            "IMAGEFACTORY_CONFIG_SOURCE": "directory",
            "IMAGEFACTORY_CONFIG_LOCATION": str(self.config_dir),
            **self.values,
        }

    def start(self) -> FactoryHost:
        """Start devhost (again, after a kill: same state directory, so it resumes)."""
        self.work.mkdir(parents=True, exist_ok=True)
        if self.process is None:
            self.process = app_process(ROOT, self.work, self.settings())
        self.process.start()
        self.url = self.process.base_url
        return self

    def kill(self) -> None:
        """kill -9: no chance to clean up."""
        if self.process is not None:
            self.process.kill()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    # The factory's HTTP API, as an operator would call it ------------------------------

    def start_run(self, **options: Any) -> str:
        response = requests.post(
            f"{self.url}/api/runs",
            json=options,
            headers={"x-functions-key": FUNCTION_KEY},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def run_status(self, instance_id: str) -> dict[str, Any]:
        response = requests.get(
            f"{self.url}/api/runs/{instance_id}",
            headers={"x-functions-key": FUNCTION_KEY},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_run(self, instance_id: str, timeout: float = 240.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.run_status(instance_id)
            if status["status"] not in ("Pending", "Running", "ContinuedAsNew"):
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"run {instance_id} still {status}; log: {self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def running_host(info: WorldInfo, queue_connection: str, work: Path) -> Iterator[FactoryHost]:
    host = FactoryHost(info, queue_connection, work).start()
    try:
        yield host
    finally:
        host.stop()
