"""devhost is as strict as the real Durable host, and says so when it does less.

Each rule is the behaviour of Azure/azure-functions-durable-extension (HttpApiHandler,
DurableClient, OutOfProcOrchestrationShim) and Azure/durabletask (the Azure Storage
tracking store); devhost/README.md names the source of each.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import requests

from devhost.host import DevHost
from tests.devhost.conftest import Start, failure, wait_status


def rpc(devhost: DevHost) -> str:
    return devhost.rpc_base_url.rstrip("/")


# Functions that are not registered ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "what", "known"),
    [
        ("activity", "activity", "The following are the known activity functions: '"),
        ("sub", "sub-orchestrator", "The following are the known orchestrator functions: '"),
    ],
)
def test_an_unregistered_function_fails_the_instance_and_cannot_be_caught(
    devhost: DevHost,
    start: Start,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    what: str,
    known: str,
) -> None:
    name = f"no_such_{kind}"
    with caplog.at_level(logging.ERROR, logger="devhost.engine"):
        instance_id = start("catches_missing", {"kind": kind, "name": name})
        status = wait_status(devhost, instance_id)
    # The orchestrator's try/except never sees a failure: the instance fails as a whole.
    assert status["runtimeStatus"] == "Failed", status
    output = status["output"]
    assert output.startswith(
        f"Orchestrator 'catches_missing' calls the {what} '{name}', which is not registered; "
        "in Azure the call is never scheduled and the instance stays Running forever"
    )
    assert f"The function '{name}' doesn't exist, is disabled, or is not an" in output
    assert known in output
    assert ("'hello'" if kind == "activity" else "'chaining'") in output.split(known)[1]
    # Nothing was scheduled, and nothing was delivered to the orchestrator.
    kinds = {e["EventType"] for e in devhost.store.history(instance_id)}
    assert not kinds & {4, 6, 7, 9}  # TaskScheduled, TaskFailed, SubOrchestration*
    assert any(
        r.levelno == logging.ERROR and instance_id in r.getMessage() and name in r.getMessage()
        for r in caplog.records
    )


def test_a_sub_orchestration_under_the_callers_own_id_fails_the_instance(
    devhost: DevHost, start: Start
) -> None:
    instance_id = f"reuse-{uuid.uuid4().hex[:8]}"
    status = wait_status(devhost, start("reuses_own_id", instance_id=instance_id))
    assert status["runtimeStatus"] == "Failed", status
    assert status["output"] == (
        f"Orchestrator 'reuses_own_id' starts the sub-orchestrator 'instant' with instance ID "
        f"'{instance_id.upper()}', which the extension refuses (The instance ID of a "
        "sub-orchestration must be different than the instance ID of a parent orchestration.); "
        "in Azure the call is never scheduled and the instance stays Running forever, so "
        "devhost fails it."
    )


def test_a_registered_sub_orchestrator_still_runs(devhost: DevHost, start: Start) -> None:
    status = wait_status(devhost, start("catches_missing", {"kind": "sub", "name": "instant"}))
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == "called"


# Instance queries ---------------------------------------------------------------------------


def test_instance_queries_page_by_100_with_a_continuation_token(devhost: DevHost) -> None:
    prefix = f"page-{uuid.uuid4().hex[:6]}-"
    # The SDK's client JSON-encodes an input twice; so does this.
    ids = [
        devhost.engine.start_new("instant", f"{prefix}{n:03d}", json.dumps(json.dumps(n)))
        for n in range(250)
    ]
    for instance_id in ids:
        assert devhost.engine.wait_for(instance_id, 60).status == "Completed"
    url = f"{rpc(devhost)}/instances/"
    pages: list[list[dict[str, Any]]] = []
    token = ""
    while True:
        headers: dict[str, str] = {"x-ms-continuation-token": token} if token else {}
        response = requests.get(
            url, params={"instanceIdPrefix": prefix}, headers=headers, timeout=30
        )
        assert response.status_code == 200, response.text
        pages.append(response.json())
        token = response.headers["x-ms-continuation-token"]
        if not token:
            break
    assert [len(page) for page in pages] == [100, 100, 50]
    listed = [s["instanceId"] for page in pages for s in page]
    assert listed == sorted(ids)  # instance id order, each once
    # `input` is shown unless showInput=false.
    assert pages[0][0]["input"] == "0"
    hidden = requests.get(
        url, params={"instanceIdPrefix": prefix, "showInput": "false"}, timeout=30
    )
    assert hidden.json()[0]["input"] is None
    # `top` sets the page size.
    small = requests.get(url, params={"instanceIdPrefix": prefix, "top": "30"}, timeout=30)
    assert len(small.json()) == 30 and small.headers["x-ms-continuation-token"]
    # The SDK's client sends no token and reads one page only.
    seen = requests.get(devhost.url("instances", prefix=prefix), timeout=30).json()
    assert seen == sorted(ids)[:100]


def test_a_continuation_token_devhost_did_not_give_is_refused(devhost: DevHost) -> None:
    response = requests.get(
        f"{rpc(devhost)}/instances/", headers={"x-ms-continuation-token": "%%%"}, timeout=30
    )
    assert response.status_code == 400
    assert "x-ms-continuation-token" in response.json()["Message"]


# Purge, suspend, resume ---------------------------------------------------------------------


def test_purge_by_time_window_without_a_status_deletes_running_instances(
    devhost: DevHost, start: Start
) -> None:
    instance_id = start("approval", {"timeout_ms": 60_000})
    running = devhost.engine.wait_for(instance_id, 30, statuses=("Running",))
    window = {"createdTimeFrom": running.created_at, "createdTimeTo": running.created_at}
    url = f"{rpc(devhost)}/instances/"
    # A terminal status in the filter leaves running instances alone ...
    kept = requests.delete(url, params={**window, "runtimeStatus": "Completed"}, timeout=30)
    assert kept.status_code == 404
    assert devhost.store.instance(instance_id) is not None
    # ... no status filter deletes whatever was created in the window, running or not.
    purged = requests.delete(url, params=window, timeout=30)
    assert purged.status_code == 200, purged.text
    assert purged.json() == {"instancesDeleted": 1}
    assert devhost.store.instance(instance_id) is None


def test_a_running_only_status_filter_filters_nothing(devhost: DevHost, start: Start) -> None:
    # The tracking store keeps only terminal statuses of the filter: "Running" leaves none.
    instance_id = start("approval", {"timeout_ms": 60_000})
    running = devhost.engine.wait_for(instance_id, 30, statuses=("Running",))
    params = {
        "createdTimeFrom": running.created_at,
        "createdTimeTo": running.created_at,
        "runtimeStatus": "Running",
    }
    purged = requests.delete(f"{rpc(devhost)}/instances/", params=params, timeout=30)
    assert purged.json() == {"instancesDeleted": 1}
    assert devhost.store.instance(instance_id) is None


def test_suspending_a_suspended_or_resuming_a_running_instance_is_an_error(
    devhost: DevHost, start: Start
) -> None:
    instance_id = start("approval", {"timeout_ms": 60_000})
    devhost.engine.wait_for(instance_id, 30, statuses=("Running",))
    url = f"{rpc(devhost)}/instances/{instance_id}"
    resumed = requests.post(f"{url}/resume", timeout=30)
    assert resumed.status_code == 500
    assert resumed.json() == {
        "Message": "Something went wrong while processing your request",
        "ExceptionMessage": f"Cannot resume the orchestration instance {instance_id} because "
        "instance is in the Running state.",
        "ExceptionType": "System.InvalidOperationException",
    }
    assert requests.post(f"{url}/suspend", timeout=30).status_code == 202
    devhost.engine.wait_for(instance_id, 30, statuses=("Suspended",))
    again = requests.post(f"{url}/suspend", timeout=30)
    assert again.status_code == 500
    assert again.json()["ExceptionMessage"] == (
        f"Cannot suspend the orchestration instance {instance_id} because instance is in the "
        "Suspended state."
    )
    assert requests.post(f"{url}/resume", timeout=30).status_code == 202
    devhost.engine.wait_for(instance_id, 30, statuses=("Running",))
    requests.post(f"{url}/terminate", timeout=30)
    assert wait_status(devhost, instance_id)["runtimeStatus"] == "Terminated"


# Instance ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance_id", "exception_message"),
    [
        ("@entity", "instanceId (Parameter 'Orchestration instance ids must not start with @.')"),
        (
            "tab\there",
            "instanceId (Parameter 'Orchestration instance ids must not contain /, \\, #, ?, or "
            "control characters.')",
        ),
        ("x" * 257, "Instance ID lengths must not exceed 256 characters."),
    ],
)
def test_instance_ids_the_extension_refuses_are_refused(
    devhost: DevHost, instance_id: str, exception_message: str
) -> None:
    response = requests.post(
        f"{rpc(devhost)}/orchestrators/instant/{quote(instance_id, safe='')}", timeout=30
    )
    assert response.status_code == 400
    assert response.json() == {
        "Message": "One or more of the arguments submitted is incorrect",
        "ExceptionMessage": exception_message,
        "ExceptionType": "System.ArgumentException",
    }
    assert devhost.store.instance(instance_id) is None


def test_an_instance_id_of_256_characters_is_fine(devhost: DevHost) -> None:
    instance_id = uuid.uuid4().hex + "y" * 224
    response = requests.post(f"{rpc(devhost)}/orchestrators/instant/{instance_id}", timeout=30)
    assert response.status_code == 202, response.text
    assert devhost.engine.wait_for(instance_id, 30).status == "Completed"


# History ------------------------------------------------------------------------------------


def test_show_history_returns_the_folded_history(devhost: DevHost, start: Start) -> None:
    instance_id = start("monitor", {"ready": 2, "interval_ms": 10})
    wait_status(devhost, instance_id)
    url = f"{rpc(devhost)}/instances/{instance_id}"
    history = requests.get(
        url, params={"showHistory": "true", "showHistoryOutput": "true"}, timeout=30
    ).json()["historyEvents"]
    kinds = [e["EventType"] for e in history]
    assert kinds == [
        "ExecutionStarted",
        "TaskCompleted",
        "TimerCreated",
        "TimerFired",
        "TaskCompleted",
        "ExecutionCompleted",
    ]
    started, first, _, fired, _, completed = history
    assert started["FunctionName"] == "monitor" and "OrchestrationInstance" not in started
    assert first["FunctionName"] == "check_job"
    assert json.loads(first["Input"]) == {"poll": 1, "ready": 2}
    assert first["Result"] == "running" and "ScheduledTime" in first
    assert "TimerId" not in fired and "FireAt" in fired
    assert completed["OrchestrationStatus"] == "Completed"
    assert completed["Result"] == {"polls": 2}
    for event in history:
        assert not {"EventId", "IsPlayed", "TaskScheduledId"} & set(event), event
    # Without showHistoryOutput results are left out; with showInput=false inputs too.
    bare = requests.get(
        url, params={"showHistory": "true", "showInput": "false"}, timeout=30
    ).json()["historyEvents"]
    assert all("Result" not in e and "Input" not in e for e in bare)


# The orchestration context ----------------------------------------------------------------


def timers_created(devhost: DevHost, instance_id: str) -> list[datetime]:
    return [
        datetime.fromisoformat(e["FireAt"].replace("Z", "+00:00"))
        for e in devhost.store.history(instance_id)
        if e["EventType"] == 10  # TimerCreated
    ]


def test_a_timer_beyond_six_days_is_a_chain_of_three_day_timers(
    devhost: DevHost, start: Start
) -> None:
    # The extension offers the SDK replay schema V3 with the Azure Storage provider's
    # timer limits; the SDK then splits a long timer into intervals.
    instance_id = start("long_wait")
    began = datetime.now(UTC)
    deadline = time.monotonic() + 30
    while not timers_created(devhost, instance_id):
        assert time.monotonic() < deadline, "no timer was created"
        time.sleep(0.02)
    [first] = timers_created(devhost, instance_id)
    assert timedelta(days=3) - timedelta(minutes=1) < first - began < timedelta(days=3, minutes=1)
    # Fire it now: the SDK schedules the next interval, and the instance keeps waiting.
    with devhost.store.transaction() as conn:
        conn.execute(
            "UPDATE work SET fire_at = ? WHERE instance_id = ? AND kind = 'timer'",
            (time.time(), instance_id),
        )
    while len(timers_created(devhost, instance_id)) < 2:
        assert time.monotonic() < deadline, "the next interval was not scheduled"
        time.sleep(0.02)
    second = timers_created(devhost, instance_id)[1]
    assert second - first < timedelta(minutes=1)  # three days from now again, not the end
    instance = devhost.store.instance(instance_id)
    assert instance is not None and instance.status == "Running"
    requests.post(f"{rpc(devhost)}/instances/{instance_id}/terminate", timeout=30)
    assert wait_status(devhost, instance_id)["runtimeStatus"] == "Terminated"


# What devhost does not do, it says ----------------------------------------------------------


@pytest.mark.parametrize(
    ("orchestrator", "what"),
    [
        ("uses_entity", "durable entities (call_entity)"),
        ("uses_http", "durable HTTP calls (call_http)"),
    ],
)
def test_actions_devhost_does_not_run_are_refused_clearly(
    devhost: DevHost, start: Start, orchestrator: str, what: str
) -> None:
    assert failure(devhost, start(orchestrator)) == (
        f"Orchestrator function '{orchestrator}' failed: devhost does not support {what}."
    )


def test_reading_an_entity_is_refused_not_reported_missing(devhost: DevHost) -> None:
    direct = requests.get(f"{rpc(devhost)}/entities/counter/one", timeout=30)
    assert direct.status_code == 501
    assert direct.json()["Message"].startswith("devhost does not support durable entities")
    through_sdk = requests.get(devhost.url("entity/counter/one"), timeout=30)
    assert through_sdk.status_code == 502
    assert through_sdk.json() == {
        "error": "The operation failed with an unexpected status code 501"
    }


def test_rewind_is_refused_clearly(devhost: DevHost, start: Start) -> None:
    instance_id = start("failing")
    wait_status(devhost, instance_id)
    response = requests.post(f"{rpc(devhost)}/instances/{instance_id}/rewind", timeout=30)
    assert response.status_code == 501
    assert response.json()["Message"] == "devhost does not support rewind."


def test_restart_starts_the_orchestrator_again_with_its_input(
    devhost: DevHost, start: Start
) -> None:
    instance_id = start("chaining", "again")
    first = wait_status(devhost, instance_id)
    url = f"{rpc(devhost)}/instances/{instance_id}/restart"
    # A new instance id by default, as DurableClient.RestartAsync.
    response = requests.post(url, timeout=30)
    assert response.status_code == 202, response.text
    new_id = response.json()["id"]
    assert new_id != instance_id
    restarted = wait_status(devhost, new_id)
    assert (restarted["name"], restarted["input"]) == ("chaining", first["input"])
    assert restarted["output"] == first["output"]
    # The same id when asked; it ran again.
    same = requests.post(url, params={"restartWithNewInstanceId": "false"}, timeout=30)
    assert same.status_code == 202 and same.json()["id"] == instance_id
    assert wait_status(devhost, instance_id)["output"] == first["output"]
    missing = requests.post(f"{rpc(devhost)}/instances/no-such-instance/restart", timeout=30)
    assert missing.status_code == 400
    assert missing.json()["Message"] == "InstanceId does not match a valid orchestration instance."
