"""The retirement queue worker: re-checks one image family in one lab and deletes what the
lab no longer needs, keeping the newest N factory-owned versions.

A message names only what to re-check (lab, family, run). The policy comes from the
configuration as a run would read it now (the app settings' source, the head of the
branch) and a fresh read of the lab, never from the message. A message that is not a
request, or that arrives while the configuration does not validate, is moved to the
poison queue with a one-line reason (retrying cannot help). A lab or Git source that
cannot be read now raises, so the host retries it and, after `maxDequeueCount`
(host.json), moves it to the poison queue itself. Idempotent.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func

from shared.azure import clients
from shared.azure.retirement import InvalidMessage, parse_request, retire
from shared.config.loading import ConfigInvalid
from shared.function_names import RETIREMENT_QUEUE, RETIREMENT_WORKER
from shared.git.config_source import load_config
from shared.model.text import first_line
from shared.settings import get_settings
from shared.telemetry import run_scope

bp = df.Blueprint()
log = logging.getLogger(__name__)

POISON_QUEUE = RETIREMENT_QUEUE + "-poison"  # the name the Functions host uses


@bp.function_name(RETIREMENT_WORKER)
@bp.queue_trigger(arg_name="message", queue_name=RETIREMENT_QUEUE, connection="AzureWebJobsStorage")
def retirement_worker(message: func.QueueMessage) -> None:
    body = message.get_body()
    try:
        request = parse_request(body)
    except InvalidMessage as exc:
        _poison(body, f"not a retirement request: {exc}")
        return
    with run_scope(request.run_id):
        try:
            factory = load_config(get_settings().config_ref)
        except ConfigInvalid as exc:
            first = first_line(exc, "no details")
            _poison(body, f"the configuration does not validate, so nothing is retired: {first}")
            return
        outcome = retire(request, factory, datetime.now(UTC))
        for warning in outcome.warnings:
            log.warning("retirement of %s in %s: %s", request.family, request.lab, warning)
        nothing = f"nothing: {outcome.skipped}" if outcome.skipped else "nothing"
        deleting = ", ".join(outcome.deleted) or nothing
        log.info("retirement of %s in %s: deleting %s", request.family, request.lab, deleting)


def _poison(body: bytes, reason: str) -> None:
    """Move a message to the poison queue with why: the original text and one sentence."""
    log.warning("retirement message moved to %s: %s", POISON_QUEUE, reason)
    queue = clients.existing_queue(POISON_QUEUE)
    text = body.decode("utf-8", errors="replace")[:8192]
    queue.send_message(json.dumps({"reason": reason, "message": text}))
