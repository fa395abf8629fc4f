"""Push webhooks, one endpoint per provider of `shared.webhooks.providers`: read, let
shared decide, start.

Each provider's endpoint is `POST /api/webhooks/<key>`, its function the provider's
`function_name`. The routes are anonymous at the Functions level: the provider's own
secret (an HMAC signature, a token, basic auth) is the authentication, checked by
`shared.webhooks.intake` before anything else is looked at. A push of the configuration
starts `factory_run` over the head of the branch, as run `push-<commit>`, through the run
queue (one run at a time): a redelivery, or another push of the same commit, finds that
run and starts nothing; a commit that is not on the branch starts nothing either.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.azure.run_queue import RunQueueError
from shared.settings import get_settings
from shared.webhooks.intake import NoRun, StartRun, WebhookRejected, locate, receive
from shared.webhooks.provider import WebhookProvider
from shared.webhooks.providers import PROVIDERS
from triggers.start import queued_body, submit

log = logging.getLogger(__name__)

bp = df.Blueprint()


def _json(status: int, body: dict[str, Any]) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")


async def _receive(
    provider: str, req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    settings = get_settings()
    try:
        outcome = receive(provider, dict(req.headers.items()), req.get_body(), settings)
        if isinstance(outcome, StartRun):
            outcome = await asyncio.to_thread(locate, outcome, settings)
    except WebhookRejected as exc:
        log.warning("%s webhook refused with %s: %s", provider, exc.status, exc.code)
        return _json(exc.status, exc.body())
    if isinstance(outcome, NoRun):
        log.info("%s webhook %s starts no run: %s", provider, outcome.delivery_id, outcome.code)
        return _json(200, outcome.body())
    instance_id = outcome.instance_id
    log.info("%s webhook %s: push of %s", provider, outcome.push.delivery_id, instance_id)
    extra: dict[str, Any] = {"superseded": outcome.superseded} if outcome.superseded else {}
    existing = await client.get_status(instance_id)
    status = existing.runtime_status if existing else None
    # One run per commit, however often it is delivered; a run that failed or was
    # terminated may be started again by a redelivery.
    if status is not None and status not in RETRYABLE:
        return _json(
            200, {"id": instance_id, "started": False, "runtimeStatus": status.value, **extra}
        )
    try:
        queued = await submit(client, outcome.request, instance_id, retry=status is not None)
    except RunQueueError as exc:
        error = {
            "code": "queue_unavailable",
            "message": f"The run queue cannot be read now ({exc}); redeliver later.",
        }
        return _json(503, {"error": error})
    # No status URLs in the answer: they carry the Durable system key, and providers keep
    # and show every delivery's response.
    body = queued_body(queued)
    return _json(202 if body["started"] else 200, {**body, **extra})


RETRYABLE = {
    df.OrchestrationRuntimeStatus.Failed,
    df.OrchestrationRuntimeStatus.Terminated,
    df.OrchestrationRuntimeStatus.Canceled,
}


def _register(provider: WebhookProvider) -> None:
    async def webhook(
        req: func.HttpRequest, client: df.DurableOrchestrationClient
    ) -> func.HttpResponse:
        return await _receive(provider.key, req, client)

    webhook.__name__ = webhook.__qualname__ = f"{provider.function_name}_endpoint"
    bp.function_name(provider.function_name)(
        bp.route(
            route=f"webhooks/{provider.key}",
            methods=["POST"],
            auth_level=func.AuthLevel.ANONYMOUS,
        )(bp.durable_client_input(client_name="client")(webhook))
    )


for _provider in PROVIDERS.values():
    _register(_provider)
