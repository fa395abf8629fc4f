"""Enqueue retirement work: one queue message per (lab, image family)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import azure.durable_functions as df
from azure.core.exceptions import ResourceExistsError

from activities._scope import run_scoped
from shared import azure_clients
from shared.function_names import ENQUEUE_RETIREMENT, RETIREMENT_QUEUE
from shared.payloads import RetirementBatch
from shared.telemetry import RUN_ID_PAYLOAD_KEY, current_run_id

bp = df.Blueprint()


@bp.function_name(ENQUEUE_RETIREMENT)
@bp.activity_trigger(input_name="payload")
@run_scoped
def enqueue_retirement(payload: dict[str, Any]) -> int:
    batch = RetirementBatch.model_validate(payload)
    queue = azure_clients.queue(RETIREMENT_QUEUE)
    with contextlib.suppress(ResourceExistsError):
        queue.create_queue()
    run_id = current_run_id()  # the worker logs each retirement under the run that asked
    for message in batch.messages:
        body = message.model_dump(mode="json")
        if run_id:
            body[RUN_ID_PAYLOAD_KEY] = run_id
        queue.send_message(json.dumps(body))
    return len(batch.messages)
