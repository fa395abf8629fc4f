"""The timer sees a run going even when it is not on the first page of an instance query.

The Durable HTTP API pages instance queries (100 a page, `x-ms-continuation-token`), and
the SDK's `get_status_by` reads the first page only. With more than 100 active
instances ahead of the running `factory_run` in that order, a check that relies on one
page starts a second run; the product's check follows the pages.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.function_names import FACTORY_RUN, SCHEDULED_RUN
from tests.localworld import app_process, functions_storage

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "tests" / "fixtures" / "schedule_app"
MASTER_KEY = "schedule-paging-master-key"
FILLERS = 150
RUN_ID = "zz-push-run"  # after every filler in instance id order: not on the first page


@dataclass
class Host:
    url: str
    log: Path

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, f"{self.url}/runtime/webhooks/durabletask/{path}", timeout=30, **kwargs
        )

    def instances(self, prefix: str) -> list[dict[str, Any]]:
        """Every instance with the prefix, over all pages."""
        found: list[dict[str, Any]] = []
        token = ""
        while True:
            response = self.api(
                "GET",
                "instances/",
                params={"code": MASTER_KEY, "instanceIdPrefix": prefix},
                headers={"x-ms-continuation-token": token} if token else {},
            )
            assert response.status_code == 200, response.text
            found += response.json()
            token = response.headers.get("x-ms-continuation-token", "")
            if not token:
                return found

    def start(self, name: str, instance_id: str) -> None:
        response = self.api(
            "POST", f"orchestrators/{name}/{instance_id}", params={"code": MASTER_KEY}
        )
        assert response.status_code == 202, response.text

    def wait(self, instance_id: str, status: str) -> None:
        deadline = time.monotonic() + 60
        while True:
            response = self.api("GET", f"instances/{instance_id}", params={"code": MASTER_KEY})
            if response.status_code in (200, 202) and response.json()["runtimeStatus"] == status:
                return
            assert time.monotonic() < deadline, f"{instance_id} never {status}: {response.text}"
            time.sleep(0.05)

    def fire_timer(self, times: int) -> None:
        """Run the timer function now and wait until it has run `times` times in all."""
        response = requests.post(
            f"{self.url}/admin/functions/{SCHEDULED_RUN}", params={"code": MASTER_KEY}, timeout=30
        )
        assert response.status_code == 202, response.text
        deadline = time.monotonic() + 60
        while self.log.read_text(errors="replace").count("scheduled run schedule-") < times:
            assert time.monotonic() < deadline, "the timer function did not finish"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    work = tmp_path_factory.mktemp("schedule-paging")
    app_dir = work / "app"
    shutil.copytree(APP, app_dir, ignore=shutil.ignore_patterns("__pycache__"))
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    # The run queue lives in the Functions storage: an Azurite of its own.
    with functions_storage(work) as storage:
        values = {
            "DEVHOST_MASTER_KEY": MASTER_KEY,
            "DEVHOST_FUNCTION_KEY": "schedule-paging-function-key",
            "IMAGEFACTORY_SCHEDULE": "0 0 2 * * *",
            **storage,
        }
        env = {"PYTHONPATH": pythonpath}
        with app_process(app_dir, work, values, queues=False, env=env) as running:
            yield Host(running.base_url, work / "devhost.log")


def test_a_run_beyond_the_first_page_keeps_the_timer_from_starting_another(host: Host) -> None:
    for n in range(FILLERS):
        host.start("filler", f"a-filler-{n:03d}")
    host.start(FACTORY_RUN, RUN_ID)
    for n in range(FILLERS):
        host.wait(f"a-filler-{n:03d}", "Running")
    host.wait(RUN_ID, "Running")
    # What the SDK's client would see: one page of the active instances, without the run.
    first_page = host.api(
        "GET", "instances/", params={"code": MASTER_KEY, "runtimeStatus": "Running"}
    )
    assert len(first_page.json()) == 100
    assert RUN_ID not in {s["instanceId"] for s in first_page.json()}
    assert first_page.headers["x-ms-continuation-token"]

    host.fire_timer(times=1)
    assert f"not started: {RUN_ID} is still running" in host.log.read_text(errors="replace")
    assert host.instances("schedule-") == []

    # Once that run is over, the next occurrence starts its run.
    response = host.api(
        "POST", f"instances/{RUN_ID}/raiseEvent/finish", params={"code": MASTER_KEY}, json=True
    )
    assert response.status_code == 202, response.text
    host.wait(RUN_ID, "Completed")
    host.fire_timer(times=2)
    # The timer only queues the run; the coordinator starts it a moment later.
    deadline = time.monotonic() + 60
    while not (started := host.instances("schedule-")):
        assert time.monotonic() < deadline, "the scheduled run never started"
        time.sleep(0.05)
    assert [s["name"] for s in started] == [FACTORY_RUN]
