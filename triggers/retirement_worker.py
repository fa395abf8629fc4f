"""The retirement queue worker: keeps the newest N factory-owned versions of one family in
one lab and deletes the rest. Idempotent; the host moves a message that keeps failing to
the poison queue after `maxDequeueCount` (host.json)."""

from __future__ import annotations

import logging

import azure.durable_functions as df
import azure.functions as func

from shared.function_names import RETIREMENT_QUEUE
from shared.payloads import RetirementRequest
from shared.retire import retire

bp = df.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("retirement_worker")
@bp.queue_trigger(arg_name="message", queue_name=RETIREMENT_QUEUE, connection="AzureWebJobsStorage")
def retirement_worker(message: func.QueueMessage) -> None:
    request = RetirementRequest.model_validate_json(message.get_body())
    deleted = retire(request)
    log.info(
        "retirement of %s in %s: deleting %s",
        request.family,
        request.lab,
        ", ".join(deleted) or "nothing",
    )
