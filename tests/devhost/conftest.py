"""Fixtures for devhost: the test app of canonical Durable patterns, run in this process."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devhost.host import DevHost
from devhost.settings import SETTINGS_FILE, write_settings

APP_DIR = Path(__file__).resolve().parent / "app"
FUNCTION_KEY = "test-function-key"
MASTER_KEY = "test-master-key"


def write_test_settings(path: Path, **values: str) -> Path:
    """A local.settings.json with the test keys, the test app's settings and `values`."""
    test_values = {
        "DEVHOST_FUNCTION_KEY": FUNCTION_KEY,
        "DEVHOST_MASTER_KEY": MASTER_KEY,
        "TEST_TIMER_SCHEDULE": "0 0 * * * *",
        "TEST_QUEUE": "devhost-test",
    }
    return write_settings(path, {**test_values, **values})


def copy_app(target: Path, host_json: dict[str, Any] | None = None, **values: str) -> Path:
    """A copy of the test app with its own local.settings.json (and host.json)."""
    shutil.copytree(APP_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    write_test_settings(target / SETTINGS_FILE, **values)
    if host_json is not None:
        (target / "host.json").write_text(json.dumps(host_json), encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def devhost(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevHost]:
    """The test app running in this process on a free port (queues off)."""
    root = tmp_path_factory.mktemp("devhost")
    settings = write_test_settings(root / SETTINGS_FILE)
    with DevHost(
        APP_DIR, port=0, state_dir=root / "state", settings_file=settings, queues=False
    ) as host:
        yield host


Start = Callable[..., str]


@pytest.fixture
def start(devhost: DevHost) -> Start:
    """Start an orchestrator through the app's HTTP starter; returns the instance id."""

    def run(orchestrator: str, payload: Any = None, instance_id: str | None = None) -> str:
        params = {"id": instance_id} if instance_id else {}
        response = requests.post(
            devhost.url(f"start/{orchestrator}", **params), json=payload, timeout=30
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    return run


def wait_status(devhost: DevHost, instance_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll the status URL (as a client would) until the instance is no longer running."""
    url = devhost.management_urls(instance_id)["statusQueryGetUri"]
    deadline = time.monotonic() + timeout
    while True:
        response = requests.get(url, timeout=30)
        if response.status_code == 200:
            return dict(response.json())
        assert response.status_code == 202, response.text
        assert time.monotonic() < deadline, f"{instance_id} still {response.json()}"
        time.sleep(0.05)


def failure(devhost: DevHost, instance_id: str) -> str:
    """What an instance that must fail failed with (its output)."""
    status = wait_status(devhost, instance_id)
    assert status["runtimeStatus"] == "Failed", status
    return str(status["output"])
