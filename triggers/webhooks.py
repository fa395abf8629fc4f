"""Push webhooks of GitHub, Azure DevOps and GitLab: read, let shared decide, start.

The routes are anonymous at the Functions level: the provider's own secret (an HMAC
signature, a token, basic auth) is the authentication, checked by `shared.webhook_intake`
before anything else is looked at. A push of the configuration starts `factory_run` over
exactly the pushed commit, as instance `push-<commit>`: a redelivery, or another push of
the same commit, finds that instance and starts nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.function_names import WEBHOOK_AZURE_DEVOPS, WEBHOOK_GITHUB, WEBHOOK_GITLAB
from shared.push_events import Provider
from shared.settings import load_settings
from shared.webhook_intake import NoRun, WebhookRejected, receive
from triggers.start import start_run

log = logging.getLogger(__name__)

bp = df.Blueprint()


def _json(status: int, body: dict[str, Any]) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")


async def _receive(
    provider: Provider, req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    try:
        outcome = receive(provider, dict(req.headers.items()), req.get_body(), load_settings())
    except WebhookRejected as exc:
        log.warning("%s webhook refused with %s: %s", provider, exc.status, exc.code)
        return _json(exc.status, exc.body())
    if isinstance(outcome, NoRun):
        log.info("%s webhook %s starts no run: %s", provider, outcome.delivery_id, outcome.code)
        return _json(200, outcome.body())
    instance_id = outcome.instance_id
    log.info("%s webhook %s: push of %s", provider, outcome.push.delivery_id, instance_id)
    existing = await client.get_status(instance_id)
    status = existing.runtime_status if existing else None
    # One run per pushed commit, however often it is delivered; a run that failed or was
    # terminated may be started again by a redelivery.
    if status is not None and status not in RETRYABLE:
        body = {"id": instance_id, "started": False, "runtimeStatus": status.value}
        return _json(200, body)
    # No status URLs in the answer: they carry the Durable system key, and providers keep
    # and show every delivery's response.
    return await start_run(client, req, outcome.request, instance_id, with_links=False)


RETRYABLE = {
    df.OrchestrationRuntimeStatus.Failed,
    df.OrchestrationRuntimeStatus.Terminated,
    df.OrchestrationRuntimeStatus.Canceled,
}


@bp.function_name(WEBHOOK_GITHUB)
@bp.route(route="webhooks/github", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def github_webhook(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    return await _receive("github", req, client)


@bp.function_name(WEBHOOK_AZURE_DEVOPS)
@bp.route(route="webhooks/azure-devops", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def azure_devops_webhook(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    return await _receive("azure-devops", req, client)


@bp.function_name(WEBHOOK_GITLAB)
@bp.route(route="webhooks/gitlab", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def gitlab_webhook(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    return await _receive("gitlab", req, client)
