"""Stored histories of the factory's orchestrators, replayed against today's code.

A Durable orchestrator is replayed from its history every time it wakes, so a change that
makes it schedule other work for the same history breaks every instance in flight when the
change is deployed. Each stored history (recorded by `record_histories`) is replayed here
through the SDK exactly as the host calls it: the orchestrator must ask for the same
activities, sub-orchestrations and timers in the same order, finish, and return the same
output. When a change is meant to break replay, re-record and say so in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from devhost.engine import CONTEXT_FIELDS, action_kind, flatten_actions
from devhost.loader import LoadedApp, load_app
from tests.orchestrations.record_histories import HERE, ORCHESTRATORS

ROOT = Path(__file__).resolve().parents[2]
TASK_SCHEDULED, SUB_CREATED, TIMER_CREATED, EXECUTION_COMPLETED = 4, 7, 10, 1


@pytest.fixture(scope="module")
def app() -> LoadedApp:
    return load_app(ROOT)


def _stored(name: str) -> dict[str, Any]:
    return dict(json.loads((HERE / f"{name}.json").read_text(encoding="utf-8")))


def _scheduled(history: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What the history says the orchestrator asked for, in task id order."""
    asked = []
    for e in history:
        kind = int(e["EventType"])
        if kind == TASK_SCHEDULED:
            asked.append((int(e["EventId"]), ("activity", str(e["Name"]))))
        elif kind == SUB_CREATED:
            asked.append((int(e["EventId"]), ("suborchestration", str(e["Name"]))))
        elif kind == TIMER_CREATED:
            asked.append((int(e["EventId"]), ("timer", "")))
    return [what for _, what in sorted(asked)]


def _replay(app: LoadedApp, stored: dict[str, Any]) -> dict[str, Any]:
    info = app.get(stored["name"], "orchestrationTrigger")
    assert info is not None, f"{stored['name']} is no longer an orchestrator of the app"
    context = (
        '{"history":'
        + json.dumps(stored["history"])
        + ',"instanceId":'
        + json.dumps(stored["instanceId"])
        + ',"isReplaying":true,"parentInstanceId":'
        + json.dumps(stored["parentInstanceId"])
        + ',"input":'
        + (stored["input"] if stored["input"] is not None else "null")
        + CONTEXT_FIELDS
        + "}"
    )
    return dict(json.loads(info.func(func.OrchestrationContext(context))))


@pytest.mark.parametrize("name", ORCHESTRATORS)
def test_stored_history_replays_unchanged(app: LoadedApp, name: str) -> None:
    stored = _stored(name)
    state = _replay(app, stored)
    asked = [action_kind(a)[:2] for a in flatten_actions(state.get("actions") or [])]
    recorded = _scheduled(stored["history"])
    for step, (then, now) in enumerate(zip(recorded, asked, strict=False)):
        assert then == now, f"{name}: step {step}: the history has {then}, the code asks {now}"
    assert len(asked) == len(recorded), (
        f"{name}: the history has {len(recorded)} tasks, the code asks for {len(asked)}"
    )
    (completed,) = [e for e in stored["history"] if int(e["EventType"]) == EXECUTION_COMPLETED]
    assert state.get("isDone") is True, f"{name} no longer finishes on its stored history"
    assert state.get("output") == json.loads(completed["Result"]), f"{name}: another output"


def test_a_changed_orchestrator_is_caught(app: LoadedApp) -> None:
    """The check can fail: a history with one task renamed no longer replays."""
    stored = _stored("build_image")
    history = [dict(e) for e in stored["history"]]
    first = next(e for e in history if int(e["EventType"]) == TASK_SCHEDULED)
    first["Name"] = "not_what_the_code_calls"
    asked = [action_kind(a)[:2] for a in flatten_actions(_replay(app, stored)["actions"])]
    assert _scheduled(history) != asked[: len(_scheduled(history))]
