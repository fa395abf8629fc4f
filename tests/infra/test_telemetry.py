"""The run id reaches every log record of a run: triggers, orchestrators' activity calls,
activities. No Application Insights is needed: the records are read where they are made."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import azure.durable_functions as df
import pytest

import activities
from activities import inventory
from orchestrations.steps import call
from shared.telemetry import (
    RUN_ID_ATTRIBUTE,
    RunIdFilter,
    configure_telemetry,
    current_run_id,
    run_id_of,
    run_scope,
)

ROOT = Path(__file__).resolve().parents[2]


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[Capture]:
    """A handler on the root logger, with the filter configure_telemetry installs."""
    handler = Capture()
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        assert configure_telemetry(environ={}) is False  # no connection string: no export
        assert any(isinstance(f, RunIdFilter) for f in handler.filters)
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_records_inside_a_run_scope_carry_the_run_id(captured: Capture) -> None:
    log = logging.getLogger("imagefactory.test")
    log.info("before")
    with run_scope("push-0123abc"):
        log.info("inside")
        with run_scope("manual-nested"):
            log.info("nested")
        log.info("inside again")
    log.info("after")
    by_message = {r.getMessage(): r for r in captured.records if r.name == "imagefactory.test"}
    assert getattr(by_message["inside"], "run_id", None) == "push-0123abc"
    assert getattr(by_message["inside"], RUN_ID_ATTRIBUTE, None) == "push-0123abc"
    assert getattr(by_message["nested"], "run_id", None) == "manual-nested"
    assert getattr(by_message["inside again"], "run_id", None) == "push-0123abc"
    assert not hasattr(by_message["before"], "run_id")
    assert not hasattr(by_message["after"], "run_id")
    assert current_run_id() is None


def test_configure_telemetry_installs_the_filter_once(captured: Capture) -> None:
    configure_telemetry(environ={})
    assert sum(isinstance(f, RunIdFilter) for f in captured.filters) == 1


def test_a_sub_orchestration_belongs_to_its_run() -> None:
    assert run_id_of("schedule-20261124T020000Z:build:win2022-base-20261124") == (
        "schedule-20261124T020000Z"
    )
    assert run_id_of("manual-20261124T101500") == "manual-20261124T101500"


def _context(instance_id: str) -> df.DurableOrchestrationContext:
    started = {
        "EventType": 12,
        "EventId": -1,
        "IsPlayed": False,
        "Timestamp": "2026-11-24T12:00:00Z",
    }
    body = {
        "history": [started],
        "instanceId": instance_id,
        "isReplaying": False,
        "parentInstanceId": None,
        "input": None,
    }
    return df.DurableOrchestrationContext.from_json(json.dumps(body))


def test_activity_calls_carry_the_run_id_of_the_instance() -> None:
    context = _context("push-0123abc:distribute:win2022-base-20261124-ab12cd34:dev-weu")
    task = call(context, "vm_status", {"lab": "lab-id", "name": "vm"})
    sent = json.loads(task.action_repr[0].to_json()["input"])
    assert sent == {"lab": "lab-id", "name": "vm", "runId": "push-0123abc"}
    listed = call(context, "vm_status", ["not", "a", "dict"])
    assert json.loads(listed.action_repr[0].to_json()["input"]) == ["not", "a", "dict"]


def test_an_activity_runs_inside_its_run_scope(captured: Capture) -> None:
    """The real load_config activity, called as the Functions host calls it."""
    load_config = inventory.load_config._function.get_user_function()
    payload = {"kind": "directory", "location": str(ROOT / "examples" / "factory")}
    result = load_config(payload={**payload, "runId": "manual-scoped"})
    assert result["factory"] is not None and not result["problems"]
    unscoped = load_config(payload=payload)
    assert unscoped["factory"] == result["factory"]
    starts = [r for r in captured.records if r.name == "activities._scope"]
    assert [getattr(r, "run_id", None) for r in starts] == ["manual-scoped", None]


def test_every_activity_is_run_scoped() -> None:
    """Each registered activity's user function is the run_scoped wrapper."""
    names = []
    for blueprint in activities.blueprints:
        for builder in blueprint._function_builders:
            function = builder._function
            names.append(function.get_function_name())
            user = function.get_user_function()
            assert getattr(user, "__wrapped__", None) is not None, function.get_function_name()
    assert "load_config" in names and "enqueue_retirement" in names
