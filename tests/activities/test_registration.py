"""How every activity is registered: the host's JSON payload in, the typed input to the
function, a returned model back out as JSON, inside the run's telemetry scope."""

from __future__ import annotations

import inspect
from typing import Any

import azure.durable_functions as df
import pytest
from pydantic import ValidationError

from activities._scope import activity
from shared.model.base import Record
from shared.telemetry import current_run_id


class Probe(Record):
    lab: str
    count: int = 0


class Seen(Record):
    lab: str
    doubled: int
    run_id: str | None


def _registered() -> Any:
    bp = df.Blueprint()

    @activity(bp, "probe_activity")
    def probe(request: Probe) -> Seen | None:
        """What the activity saw."""
        if request.lab == "none":
            return None
        return Seen(lab=request.lab, doubled=request.count * 2, run_id=current_run_id())

    return probe._function  # the FunctionBuilder's function, as the host indexes it


def test_the_host_sees_one_payload_binding_under_the_activity_name() -> None:
    function = _registered()
    assert function.get_function_name() == "probe_activity"
    assert [b.name for b in function.get_bindings()] == ["payload"]
    assert list(inspect.signature(function.get_user_function()).parameters) == ["payload"]
    assert function.get_user_function().__doc__ == "What the activity saw."


def test_the_payload_is_validated_into_the_input_and_the_result_dumped() -> None:
    call = _registered().get_user_function()
    out = call(payload={"lab": "alpha", "count": 3, "runId": "manual-1"})
    assert out == {"lab": "alpha", "doubled": 6, "run_id": "manual-1"}
    assert call(payload={"lab": "none"}) is None  # what is not a model passes through


def test_a_payload_that_is_not_the_input_fails_the_activity() -> None:
    call = _registered().get_user_function()
    with pytest.raises(ValidationError, match="count"):
        call(payload={"lab": "alpha", "count": "many"})
