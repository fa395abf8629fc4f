"""The timer through devhost: one run per occurrence, none while another run is going."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from scripts.push_demo import deliver_github, github_push_payload, init_repository, toggle_vm_size
from shared.function_names import SCHEDULED_RUN
from shared.run.schedule import scheduled_run
from shared.settings import load_settings
from tests.webhooks.conftest import MASTER_KEY, App, devhost_process

SECRET = "schedule-e2e-secret"


class Blackhole:
    """A TCP port that accepts connections and never answers: calls to it stay in flight."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture(scope="module")
def blackhole() -> Iterator[Blackhole]:
    hole = Blackhole()
    yield hole
    hole.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, blackhole: Blackhole) -> Iterator[App]:
    work = tmp_path_factory.mktemp("schedule-e2e")
    repo = work / "config.git"
    init_repository(repo)
    values = {
        "IMAGEFACTORY_CONFIG_SOURCE": "git",
        "IMAGEFACTORY_CONFIG_LOCATION": str(repo),
        "IMAGEFACTORY_GITHUB_SECRET": SECRET,
        "IMAGEFACTORY_SCHEDULE": "0 0 2 * * *",
        # Azure calls of a run hang here until the test lets them fail.
        "IMAGEFACTORY_ARM_ENDPOINT": f"https://127.0.0.1:{blackhole.port}",
        "IMAGEFACTORY_CREDENTIAL": "local",
    }
    with devhost_process(work, values) as url:
        yield App(url, values)


def fire_timer(app: App) -> None:
    response = requests.post(
        f"{app.url}/admin/functions/{SCHEDULED_RUN}", params={"code": MASTER_KEY}, timeout=30
    )
    assert response.status_code == 202, response.text


def wait_for_log(work_log: Path, text: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while work_log.read_text(errors="replace").count(text) < count:
        assert time.monotonic() < deadline, f"devhost never logged {text!r} {count} times"
        time.sleep(0.05)


def terminate_all(app: App) -> None:
    for instance_id, status in app.instances().items():
        if status["runtimeStatus"] in ("Pending", "Running"):
            requests.post(
                f"{app.url}/runtime/webhooks/durabletask/instances/{instance_id}/terminate",
                params={"code": MASTER_KEY, "reason": "test"},
                timeout=30,
            )
    deadline = time.monotonic() + 30
    while any(s["runtimeStatus"] in ("Pending", "Running") for s in app.instances().values()):
        assert time.monotonic() < deadline, "runs did not stop"
        time.sleep(0.05)


def test_no_scheduled_run_starts_while_another_run_is_going(app: App, blackhole: Blackhole) -> None:
    repo = app.settings["IMAGEFACTORY_CONFIG_LOCATION"]
    before, after, changed = toggle_vm_size(repo)
    payload = github_push_payload(repo, before, after, modified=[changed])
    started = deliver_github(app.hook("github"), SECRET, payload)
    assert started.status_code == 202, started.text
    push_run = f"push-{after}"
    deadline = time.monotonic() + 30
    while not blackhole.accepted:  # the run reached Azure: it is going, and stays so
        assert time.monotonic() < deadline, "the push run never called the management API"
        time.sleep(0.05)
    assert app.instances(push_run)[push_run]["runtimeStatus"] == "Running"

    log = Path(app.settings["IMAGEFACTORY_CONFIG_LOCATION"]).parent / "devhost.log"
    fire_timer(app)
    wait_for_log(log, f"not started: {push_run} is still running", 1)
    assert app.instances("schedule-") == {}

    blackhole.close()  # the hanging calls fail now, and so does any later one
    terminate_all(app)
    config = load_settings(app.settings)
    _, expected_before = scheduled_run(config, datetime.now(UTC))
    fire_timer(app)
    deadline = time.monotonic() + 30
    while not (scheduled := app.instances("schedule-")):
        assert time.monotonic() < deadline, "the timer started no run"
        time.sleep(0.05)
    _, expected_after = scheduled_run(config, datetime.now(UTC))
    [instance_id] = scheduled
    assert instance_id in {expected_before, expected_after}
    run = app.run_input(instance_id)
    assert run.trigger.kind == "schedule"
    assert run.source == config.config_ref and run.source.commit is None
    terminate_all(app)
