"""An orchestrator whose replay no longer matches its history fails with a clear message."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from devhost.host import DevHost
from tests.devhost.conftest import Start, failure, wait_status


@pytest.fixture
def behaviour(devhost: DevHost) -> Iterator[dict[str, str]]:
    orchestrator = devhost.app.functions["changing"].func
    user_code = getattr(orchestrator, "orchestrator_function")  # noqa: B009
    switches: dict[str, str] = user_code.__globals__["BEHAVIOUR"]
    saved = dict(switches)
    yield switches
    switches.clear()
    switches.update(saved)


@pytest.mark.parametrize(
    ("change", "runtime_status", "output"),
    [
        ({}, "Completed", "finished"),
        (
            {"first": "other"},
            "Failed",
            "Non-deterministic orchestrator 'changing': step 0: history has activity 'hello' "
            "but the orchestrator now schedules activity 'other'.",
        ),
    ],
    ids=["unchanged code replays fine", "a changed activity fails naming the step"],
)
def test_replay_after_the_first_activity(
    devhost: DevHost,
    start: Start,
    behaviour: dict[str, str],
    change: dict[str, str],
    runtime_status: str,
    output: str,
) -> None:
    instance_id = start("changing")
    devhost.engine.wait_for(instance_id, 30, statuses=("Running",))
    # Once the first activity's result is in the history, the code may change.
    while not any(e["EventType"] == 5 for e in devhost.store.history(instance_id)):
        time.sleep(0.02)
    behaviour.update(change)
    response = requests.post(devhost.url(f"event/{instance_id}/go"), json=None, timeout=30)
    assert response.status_code == 202, response.text
    status = wait_status(devhost, instance_id)
    assert (status["runtimeStatus"], status["output"]) == (runtime_status, output)


def test_sleeping_in_an_orchestrator_is_caught_even_if_swallowed(
    devhost: DevHost, start: Start
) -> None:
    assert failure(devhost, start("sleepy")) == (
        "Orchestrator function 'sleepy' failed: NonDeterministicCall: orchestrator 'sleepy' "
        "called time.sleep(), which is not replay-safe; use context.create_timer."
    )


def test_random_ids_in_an_orchestrator_are_caught(devhost: DevHost, start: Start) -> None:
    assert "called uuid.uuid4(), which is not replay-safe; use context.new_uuid()" in (
        failure(devhost, start("random_id"))
    )
