"""The retirement queue worker: keeps the newest N factory-owned versions of one family in
one lab and deletes the rest. Idempotent; the host moves a message that keeps failing to
the poison queue after `maxDequeueCount` (host.json)."""

from __future__ import annotations

import json
import logging

import azure.durable_functions as df
import azure.functions as func

from shared.function_names import RETIREMENT_QUEUE
from shared.payloads import RetirementRequest
from shared.retire import retire
from shared.telemetry import RUN_ID_PAYLOAD_KEY, run_scope

bp = df.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("retirement_worker")
@bp.queue_trigger(arg_name="message", queue_name=RETIREMENT_QUEUE, connection="AzureWebJobsStorage")
def retirement_worker(message: func.QueueMessage) -> None:
    body = message.get_body()
    request = RetirementRequest.model_validate_json(body)
    with run_scope(_run_id(body)):
        deleted = retire(request)
        log.info(
            "retirement of %s in %s: deleting %s",
            request.family,
            request.lab,
            ", ".join(deleted) or "nothing",
        )


def _run_id(body: bytes) -> str | None:
    """The run that queued this message (`runId`), if it says."""
    run_id = json.loads(body).get(RUN_ID_PAYLOAD_KEY)
    return run_id if isinstance(run_id, str) else None
