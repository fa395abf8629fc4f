"""Enqueue retirement work: one queue message per (lab, image family)."""

from __future__ import annotations

import contextlib
from typing import Any

import azure.durable_functions as df
from azure.core.exceptions import ResourceExistsError

from shared import azure_clients
from shared.function_names import ENQUEUE_RETIREMENT, RETIREMENT_QUEUE
from shared.payloads import RetirementBatch

bp = df.Blueprint()


@bp.function_name(ENQUEUE_RETIREMENT)
@bp.activity_trigger(input_name="payload")
def enqueue_retirement(payload: dict[str, Any]) -> int:
    batch = RetirementBatch.model_validate(payload)
    queue = azure_clients.queue(RETIREMENT_QUEUE)
    with contextlib.suppress(ResourceExistsError):
        queue.create_queue()
    for message in batch.messages:
        queue.send_message(message.model_dump_json())
    return len(batch.messages)
