"""The manual HTTP API: start a run (function key), read a run's status and report.

POST /api/runs            {"images": [...], "force": false, "dryRun": false}
GET  /api/runs/{id}       the run's status, progress and (when done) its report
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from shared import azure_clients
from shared.plan import Trigger
from shared.run_request import RunRequest, run_instance_id
from triggers.start import start_run

bp = df.Blueprint()

MAX_BODY_BYTES = 64 * 1024


class StartOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    images: list[str] = Field(default_factory=list, description="only these image families")
    force: bool = False
    dry_run: bool = False


def error(status: int, code: str, message: str) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps({"error": {"code": code, "message": message}}),
        status_code=status,
        mimetype="application/json",
    )


@bp.function_name("http_start_run")
@bp.route(route="runs", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def http_start_run(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    body = req.get_body() or b"{}"
    if len(body) > MAX_BODY_BYTES:
        return error(413, "BodyTooLarge", f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        options = StartOptions.model_validate(json.loads(body))
    except json.JSONDecodeError as exc:
        return error(400, "InvalidJson", f"the body is not JSON: {exc.msg} at position {exc.pos}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return error(400, "InvalidOptions", f"{where}: {first['msg']}")
    trigger = Trigger(
        kind="manual", families=options.images, force=options.force, dry_run=options.dry_run
    )
    run = RunRequest(trigger=trigger, source=azure_clients.settings().config_ref)
    key = req.headers.get("Idempotency-Key") or datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return await start_run(client, req, run, run_instance_id(trigger, key=key))


@bp.function_name("http_run_status")
@bp.route(route="runs/{instance_id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def http_run_status(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    instance_id = req.route_params.get("instance_id", "")
    status = await client.get_status(instance_id)
    if status is None or status.runtime_status is None:
        return error(404, "RunNotFound", f"no run has the id '{instance_id}'")
    body: dict[str, Any] = {
        "id": instance_id,
        "status": status.runtime_status.value,
        "progress": status.custom_status,
        "createdTime": _iso(status.created_time),
        "lastUpdatedTime": _iso(status.last_updated_time),
        "report": status.output,
    }
    return func.HttpResponse(json.dumps(body), status_code=200, mimetype="application/json")


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else (str(value) if value else None)
