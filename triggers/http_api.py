"""The manual HTTP API: start a run (function key), read a run's status and report.

POST /api/runs            {"images": [...], "force": false, "dryRun": false}
GET  /api/runs/{id}       the run's status, progress and (when done) its report
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from shared import azure_clients
from shared.config_source import load_config
from shared.git_source import GitSourceError
from shared.json_body import BodyError, parse_json
from shared.plan import Trigger
from shared.run_request import ConfigSourceRef, RunRequest, run_instance_id
from shared.validation import ConfigInvalid
from triggers.start import start_run

bp = df.Blueprint()

MAX_BODY_BYTES = 64 * 1024


class StartOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    images: list[str] = Field(
        default_factory=list, max_length=1000, description="only these image families"
    )
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
        options = StartOptions.model_validate(parse_json(body))
    except BodyError as exc:
        return error(400, "InvalidJson", _clause(exc.message))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return error(400, "InvalidOptions", f"{where}: {first['msg']}")
    source = azure_clients.settings().config_ref
    if options.images:
        refused = await asyncio.to_thread(_check_images, options.images, source)
        if refused is not None:
            return refused
    trigger = Trigger(
        kind="manual", families=options.images, force=options.force, dry_run=options.dry_run
    )
    run = RunRequest(trigger=trigger, source=source)
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


def _clause(sentence: str) -> str:
    """A sentence as this API's messages read: lower-case start, no full stop."""
    return sentence[:1].lower() + sentence[1:].rstrip(".")


def _check_images(images: list[str], source: ConfigSourceRef) -> func.HttpResponse | None:
    """An answer refusing image names the configuration does not define, or None."""
    try:
        defined = load_config(source).images
    except ConfigInvalid as exc:
        first = exc.problems[0]
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        message = f"the configuration is invalid: {_clause(str(first))}{more}"
        return error(409, "ConfigurationInvalid", message)
    except GitSourceError as exc:
        return error(503, "ConfigurationUnavailable", _clause(str(exc)))
    unknown = sorted(set(images) - set(defined))
    if not unknown:
        return None
    names = ", ".join(f"'{name}'" for name in unknown)
    return error(
        400,
        "UnknownImages",
        f"images: {names} {'is' if len(unknown) == 1 else 'are'} not an image definition; "
        f"expected names of: {', '.join(sorted(defined))}",
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else (str(value) if value else None)
