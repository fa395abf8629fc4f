"""The canonical Durable Functions patterns produce the right outputs under devhost.

Every orchestration is started through an HTTP starter that uses the SDK's
DurableOrchestrationClient, and replayed by the SDK's own orchestrator entry point.
"""

from __future__ import annotations

import json
import time

import requests

from devhost.host import DevHost
from tests.devhost.conftest import Start, wait_status


def test_function_chaining(devhost: DevHost, start: Start) -> None:
    status = wait_status(devhost, start("chaining", "ada"))
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == ["Hello ada-1!", "Hello ada-2!", "Hello ada-3!"]
    # The SDK's client sends the input JSON-encoded twice; the status shows what Azure shows.
    assert status["input"] == '"ada"'


def test_fan_out_fan_in_of_1000(devhost: DevHost, start: Start) -> None:
    instance_id = start("fan_out", {"count": 1000})
    status = wait_status(devhost, instance_id, timeout=120)
    assert status["runtimeStatus"] == "Completed"
    output = status["output"]
    assert output["count"] == 1000
    assert output["results"] == [i * i for i in range(1000)]
    instance = devhost.store.instance(instance_id)
    assert instance is not None
    # Completions are batched: far fewer replays than activities.
    assert instance.replays < 200


def test_monitor_with_durable_timers(devhost: DevHost, start: Start) -> None:
    status = wait_status(devhost, start("monitor", {"ready": 4, "interval_ms": 30}))
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == {"polls": 4}
    assert status["customStatus"] == {"polls": 4, "state": "done"}


def test_human_interaction_event_arrives(devhost: DevHost, start: Start) -> None:
    instance_id = start("approval", {"timeout_ms": 60_000})
    devhost.engine.wait_for(instance_id, 30, statuses=("Running",))
    response = requests.post(
        devhost.url(f"event/{instance_id}/Approval"), json={"approved": True}, timeout=30
    )
    assert response.status_code == 202, response.text
    status = wait_status(devhost, instance_id)
    assert status["runtimeStatus"] == "Completed"
    # As in Azure, raise_event's payload reaches the orchestrator still JSON-encoded once.
    assert status["output"] == {"outcome": "decided", "decision": '{"approved": true}'}
    # The cancelled 60 s timer is not left behind.
    assert devhost.store.pending_work(instance_id) == []


def test_human_interaction_times_out(devhost: DevHost, start: Start) -> None:
    status = wait_status(devhost, start("approval", {"timeout_ms": 100}))
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == {"outcome": "timed out"}


def test_sub_orchestrations(devhost: DevHost, start: Start) -> None:
    instance_id = start("parent")
    status = wait_status(devhost, instance_id)
    assert status["runtimeStatus"] == "Completed"
    output = status["output"]
    assert output["children"] == [
        ["Hello a-1!", "Hello a-2!", "Hello a-3!"],
        ["Hello b-1!", "Hello b-2!", "Hello b-3!"],
    ]
    assert "the failing orchestrator failed on purpose" in output["failure"]
    named = devhost.store.instance(f"{instance_id}-named")
    assert named is not None and named.status == "Completed"
    assert named.parent_instance_id == instance_id


def test_retries_recover_and_exhaust(devhost: DevHost, start: Start) -> None:
    instance_id = start("retries")
    status = wait_status(devhost, instance_id)
    assert status["runtimeStatus"] == "Completed", status
    output = status["output"]
    assert output["recovered"] == "succeeded on attempt 3"
    assert "attempt 3 failed" in output["exhausted"]
    assert output["after"] == "Hello after retries!"
    kinds = [e["EventType"] for e in devhost.store.history(instance_id)]
    # Two failed attempts + one success, then three failed attempts: five retry timers.
    assert kinds.count(6) == 5  # TaskFailed
    assert kinds.count(11) == 5  # TimerFired


def test_retries_inside_a_fan_out(devhost: DevHost, start: Start) -> None:
    status = wait_status(devhost, start("parallel_retries", 30))
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"]["results"] == [f"succeeded on attempt {i % 3 + 1}" for i in range(30)]
    assert status["output"]["tail"] == 900


def test_sub_orchestration_retries(devhost: DevHost, start: Start) -> None:
    instance_id = start("sub_retries")
    status = wait_status(devhost, instance_id)
    assert status["runtimeStatus"] == "Completed", status
    assert "the failing orchestrator failed on purpose" in status["output"]["failure"]
    assert status["output"]["after"] == ["Hello after-1!", "Hello after-2!", "Hello after-3!"]
    kinds = [e["EventType"] for e in devhost.store.history(instance_id)]
    assert kinds.count(9) == 2  # SubOrchestrationInstanceFailed: two attempts
    assert kinds.count(11) == 2  # TimerFired: one retry timer per failure


def test_continue_as_new(devhost: DevHost, start: Start) -> None:
    instance_id = start("counter", 0)
    status = wait_status(devhost, instance_id)
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == 5
    instance = devhost.store.instance(instance_id)
    assert instance is not None and instance.generation == 5
    # Only the last execution's history is kept.
    history = devhost.store.history(instance_id)
    assert sum(1 for e in history if e["EventType"] == 0) == 1


def test_eternal_orchestration_runs_until_terminated(devhost: DevHost, start: Start) -> None:
    instance_id = start("eternal", 0)
    deadline = time.monotonic() + 30
    while True:
        instance = devhost.store.instance(instance_id)
        assert instance is not None
        custom = json.loads(instance.custom_status or "null")
        if custom and custom["iteration"] >= 3:
            break
        assert time.monotonic() < deadline, f"stuck at generation {instance.generation}"
        time.sleep(0.05)
    response = requests.post(devhost.url(f"terminate/{instance_id}", reason="enough"), timeout=30)
    assert response.status_code == 202, response.text
    status = wait_status(devhost, instance_id)
    assert status["runtimeStatus"] == "Terminated"
    assert status["output"] == "enough"
    instance = devhost.store.instance(instance_id)
    assert instance is not None and instance.generation >= 4
    assert devhost.store.pending_work(instance_id) == []


def test_failing_orchestrator_reports_the_error(devhost: DevHost, start: Start) -> None:
    status = wait_status(devhost, start("failing"))
    assert status["runtimeStatus"] == "Failed"
    # The SDK reports str(exception); the extension prefixes the orchestrator's name.
    assert status["output"] == (
        "Orchestrator function 'failing' failed: the failing orchestrator failed on purpose"
    )
