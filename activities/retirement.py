"""Enqueue retirement work: one queue message per (lab, image family)."""

from __future__ import annotations

import azure.durable_functions as df

from activities._scope import activity
from shared.azure import clients
from shared.function_names import ENQUEUE_RETIREMENT, RETIREMENT_QUEUE
from shared.run.payloads import RetirementBatch
from shared.telemetry import current_run_id

bp = df.Blueprint()


@activity(bp, ENQUEUE_RETIREMENT)
def enqueue_retirement(batch: RetirementBatch) -> int:
    queue = clients.existing_queue(RETIREMENT_QUEUE)
    run_id = current_run_id()  # the worker logs each retirement under the run that asked
    for message in batch.messages:
        named = message.model_copy(update={"run_id": message.run_id or run_id})
        queue.send_message(named.model_dump_json(by_alias=True, exclude_none=True))
    return len(batch.messages)
