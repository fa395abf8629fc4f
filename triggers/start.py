"""Starting a run from any trigger: one run per instance id, never two at once."""

from __future__ import annotations

import json
import logging

import azure.durable_functions as df
import azure.functions as func

from shared.function_names import FACTORY_RUN
from shared.run_request import RunRequest
from shared.telemetry import run_scope

log = logging.getLogger(__name__)

ACTIVE = {
    df.OrchestrationRuntimeStatus.Pending,
    df.OrchestrationRuntimeStatus.Running,
    df.OrchestrationRuntimeStatus.ContinuedAsNew,
    df.OrchestrationRuntimeStatus.Suspended,
}


async def is_active(client: df.DurableOrchestrationClient, instance_id: str) -> bool:
    status = await client.get_status(instance_id)
    return status is not None and status.runtime_status in ACTIVE


async def start_run(
    client: df.DurableOrchestrationClient,
    request: func.HttpRequest,
    run: RunRequest,
    instance_id: str,
    *,
    with_links: bool = True,
) -> func.HttpResponse:
    """Start `factory_run` unless that instance is already going; answer 202 either way,
    `started` saying whether this call started it.

    `with_links` adds the Durable status URLs (and `Location`). They carry the Durable
    extension's system key, so only callers that authenticated with a function key get
    them; webhook deliveries, which providers store and show, do not.
    """
    started = False
    with run_scope(instance_id):
        if not await is_active(client, instance_id):
            await client.start_new(FACTORY_RUN, instance_id, run.model_dump(mode="json"))
            started = True
        log.info("run %s %s", instance_id, "started" if started else "is already going")
    body: dict[str, object] = {"id": instance_id, "started": started}
    headers: dict[str, str] = {}
    if with_links:
        urls = client.get_client_response_links(request, instance_id)
        body.update(urls)
        headers["Location"] = urls["statusQueryGetUri"]
    return func.HttpResponse(
        json.dumps(body), status_code=202, mimetype="application/json", headers=headers
    )
