"""Timer triggers (NCRONTAB, %SETTING%, fire now, past due) and queue triggers on Azurite."""

from __future__ import annotations

import base64
import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.storage.queue import QueueClient

from devhost.cli import main as devhost_cli
from devhost.engine import iso
from devhost.host import DevHost
from devhost.settings import DB_FILE
from emulator.azurite import AzuriteEndpoints
from tests.devhost.conftest import FUNCTION_KEY, MASTER_KEY, copy_app


def app_globals(host: DevHost, function: str) -> dict[str, Any]:
    return dict(host.app.functions[function].func.__globals__)


def wait_until(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_timer_schedule_from_a_setting_fires(tmp_path: Path) -> None:
    app_dir = copy_app(tmp_path / "app", TEST_TIMER_SCHEDULE="*/1 * * * * *")
    with DevHost(app_dir, port=0, queues=False) as host:
        calls: list[bool] = app_globals(host, "every_hour")["TIMER_CALLS"]
        before = len(calls)
        wait_until(lambda: len(calls) >= before + 2, what="two timer firings")
        assert host.timers.timers["every_hour"].schedule.expression == "*/1 * * * * *"


def test_fire_timer_now_through_admin_api_and_cli(tmp_path: Path) -> None:
    app_dir = copy_app(tmp_path / "app")
    with DevHost(app_dir, port=0, queues=False) as host:
        calls: list[bool] = app_globals(host, "every_hour")["TIMER_CALLS"]
        start = len(calls)
        url = f"{host.base_url}/admin/functions/every_hour"
        assert requests.post(url, params={"code": FUNCTION_KEY}, timeout=30).status_code == 401
        fired = requests.post(url, params={"code": MASTER_KEY}, json={}, timeout=30)
        assert fired.status_code == 202
        wait_until(lambda: len(calls) == start + 1, what="the admin firing")
        assert calls[-1] is False
        code = devhost_cli(["--app-dir", str(app_dir), "fire-timer", "every_hour"])
        assert code == 0
        wait_until(lambda: len(calls) == start + 2, what="the CLI firing")
        assert devhost_cli(["--app-dir", str(app_dir), "fire-timer", "nope"]) == 1
        unknown = requests.post(
            f"{host.base_url}/admin/functions/nope?code={MASTER_KEY}", timeout=30
        )
        assert unknown.status_code == 404
        assert unknown.json()["Message"] == "No function named 'nope' in this app."


def test_missed_schedule_fires_past_due_on_start(tmp_path: Path) -> None:
    app_dir = copy_app(tmp_path / "app")
    state = app_dir / ".local" / "devhost"
    state.mkdir(parents=True)
    with DevHost(app_dir, port=0, queues=False, timers=False) as host:
        pass  # creates the database
    with sqlite3.connect(state / DB_FILE) as conn:
        two_hours_ago = iso(datetime.now(UTC) - timedelta(hours=2))
        conn.execute(
            "INSERT INTO timer_triggers(name, last_fire) VALUES ('every_hour', ?)", (two_hours_ago,)
        )
    with DevHost(app_dir, port=0, queues=False) as host:
        calls: list[bool] = app_globals(host, "every_hour")["TIMER_CALLS"]
        wait_until(lambda: True in calls, what="a past-due firing")


def test_invalid_schedule_or_missing_connection_skips_the_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TestStorage", raising=False)
    app_dir = copy_app(tmp_path / "app", TEST_TIMER_SCHEDULE="every hour")
    with DevHost(app_dir, port=0) as host:
        reason = host.app.unsupported["every_hour"]
        assert reason.startswith("Timer function 'every_hour': schedule 'every hour'")
        assert host.app.unsupported["work_item"] == (
            "The storage connection setting 'TestStorage' is not defined in local.settings.json."
        )
        # The other functions run.
        assert requests.get(f"{host.base_url}/api/ping", timeout=30).text == "pong"
        assert "every_hour" not in host.timers.timers
        assert host.pollers == []


def test_failing_queue_message_ends_in_the_poison_queue(
    tmp_path: Path, azurite: AzuriteEndpoints
) -> None:
    queue = f"devhost-{uuid.uuid4().hex[:10]}"
    host_json = {
        "version": "2.0",
        "extensions": {
            "queues": {
                "maxDequeueCount": 3,
                "visibilityTimeout": "00:00:00",
                "maxPollingInterval": "00:00:00.2",
            }
        },
    }
    app_dir = copy_app(
        tmp_path / "app",
        host_json,
        TestStorage=azurite.connection_string(),
        TEST_QUEUE=queue,
        DEVHOST_CA_BUNDLE=str(azurite.ca_file),
    )
    client = QueueClient.from_connection_string(
        azurite.connection_string(), queue, connection_verify=str(azurite.ca_file)
    )
    client.create_queue()
    for body in ("ok-1", "fail-1"):
        client.send_message(base64.b64encode(body.encode()).decode())
    poison = QueueClient.from_connection_string(
        azurite.connection_string(), f"{queue}-poison", connection_verify=str(azurite.ca_file)
    )
    with DevHost(app_dir, port=0) as host:
        seen: list[str] = app_globals(host, "work_item")["QUEUE_SEEN"]

        def poisoned() -> bool:
            try:
                return len(poison.peek_messages(max_messages=5)) == 1
            except Exception:
                return False

        wait_until(poisoned, timeout=60, what="the poison queue")
        assert [s for s in seen if s.startswith("fail-1")] == ["fail-1#1", "fail-1#2", "fail-1#3"]
        assert "ok-1#1" in seen
        moved = poison.peek_messages(max_messages=5)[0]
        assert base64.b64decode(moved.content) == b"fail-1"
        assert client.peek_messages(max_messages=5) == []
