"""The manual HTTP API: start a run (function key), read a run's status and report.

POST /api/runs            {"images": [...], "force": false, "dryRun": false}
GET  /api/runs            the runs, newest first: ?top=N (at most 100), ?pageToken=...
GET  /api/runs/{id}       the run's status, progress and (when done) its report
GET  /api/report          the fleet report page (HTML): the configuration, the labs read
                          now and the last runs' reports

A run goes through the run queue (one run at a time); a dry run changes nothing and
starts at once. An `Idempotency-Key` names the request: a retry with the same key and
options finds the first run, until 24 hours after that run ended.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
import azure.durable_functions as df
import azure.functions as func
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from shared.azure import run_queue
from shared.azure.inventory_reader import CatalogUnreadable, read_inventory
from shared.azure.run_queue import REMEMBER, RunQueueError
from shared.cli.report_page import fleet, render_page
from shared.config.loading import ConfigInvalid
from shared.config.messages import unknown_images
from shared.function_names import HTTP_LIST_RUNS, HTTP_REPORT, HTTP_RUN_STATUS, HTTP_START_RUN
from shared.git.config_source import load_config
from shared.git.source import GitSourceError
from shared.json_body import BodyError, parse_json
from shared.model.base import first_error
from shared.planning.plan import Trigger
from shared.run import listing
from shared.run.payloads import RunReport
from shared.run.request import ConfigSourceRef, RunRequest, run_instance_id
from shared.settings import get_settings
from triggers.start import (
    ACTIVE,
    STATE_STATUS,
    answer,
    hub_of,
    queued_body,
    start_run,
    submit,
)

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


@bp.function_name(HTTP_START_RUN)
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
        return error(400, "InvalidOptions", first_error(exc, "body"))
    source = get_settings().config_ref
    if options.images:
        refused = await asyncio.to_thread(_check_images, options.images, source)
        if refused is not None:
            return refused
    trigger = Trigger(
        kind="manual", families=options.images, force=options.force, dry_run=options.dry_run
    )
    run = RunRequest(trigger=trigger, source=source)
    now = datetime.now(UTC)
    # Without a key every request is a run of its own (a run's record is never replaced).
    key = req.headers.get("Idempotency-Key") or f"{now.isoformat()}/{uuid.uuid4().hex}"
    request_id = run_instance_id(trigger, key=key)
    earlier = await client.get_status(request_id)
    if earlier is not None and earlier.runtime_status is not None:
        ended = earlier.runtime_status not in ACTIVE
        last = earlier.last_updated_time
        if not ended or last is None or _aware(last) + REMEMBER > now:
            found: dict[str, object] = {
                "id": request_id,
                "started": False,
                "runtimeStatus": earlier.runtime_status.value,
            }
            return answer(client, req, found, 202, with_links=True)
        # The key is forgotten 24 hours after its run ended; a run's record stays as it is,
        # so the new run has an id of its own.
        request_id = run_instance_id(trigger, key=f"{key}@{now.isoformat()}")
    if trigger.dry_run:
        return await start_run(client, req, run, request_id)
    try:
        outcome = await submit(client, run, request_id, exclusive=trigger.force)
    except RunQueueError as exc:
        return error(503, "QueueUnavailable", f"the run queue cannot be read now: {exc}")
    if outcome.outcome == "busy":
        going = f" (first: {outcome.behind})" if outcome.behind else ""
        return error(
            409,
            "RunInProgress",
            f"a forced run starts only when no run is going or waiting{going}; "
            "send it again once the factory is idle",
        )
    return answer(client, req, queued_body(outcome), 202, with_links=True)


@bp.function_name(HTTP_LIST_RUNS)
@bp.route(route="runs", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def http_list_runs(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """One page of the factory's runs, newest first; `nextPage` is the next page's token.
    The first page also holds the requests waiting in the run queue, oldest first."""
    top_text = req.params.get("top", str(listing.DEFAULT_PAGE))
    if not top_text.isdigit() or not 1 <= int(top_text) <= listing.MAX_PAGE:
        return error(400, "InvalidQuery", f"top must be a number from 1 to {listing.MAX_PAGE}")
    token = req.params.get("pageToken") or None
    try:
        until = listing.created_until(token)
    except listing.BadPageToken as exc:
        return error(400, "InvalidQuery", str(exc))
    try:
        instances = await _instances(client, until)
    except (aiohttp.ClientError, RuntimeError) as exc:
        return error(503, "RunsUnavailable", f"the runs cannot be listed now: {exc}")
    found = listing.page(instances, int(top_text), token)
    if token is None:  # the runs are listed even when the queue cannot be read
        try:
            state = await asyncio.to_thread(run_queue.default(hub_of(client)).read)
            update: dict[str, Any] = {"waiting": run_queue.waiting_requests(state)}
        except RunQueueError as exc:
            update = {"waiting_unread": f"the run queue cannot be read now: {exc}"}
        found = found.model_copy(update=update)
    return func.HttpResponse(
        found.model_dump_json(by_alias=True), status_code=200, mimetype="application/json"
    )


async def _instances(
    client: df.DurableOrchestrationClient, until: datetime | None
) -> list[dict[str, Any]]:
    """Every instance created until `until`, through the Durable extension's instance query
    on the client binding's RPC endpoint, page by page: the SDK's client reads only the
    first page (`x-ms-continuation-token` carries where the next one starts)."""
    base = client._orchestration_bindings.rpc_base_url  # the binding has no public accessor
    if not base:
        raise RuntimeError("the Durable client binding has no RPC endpoint")
    query = {"showInput": "false", "top": "100"}
    if until is not None:
        query["createdTimeTo"] = until.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    found: list[dict[str, Any]] = []
    token = ""
    async with aiohttp.ClientSession() as session:
        while True:
            headers = {"x-ms-continuation-token": token} if token else {}
            async with session.get(f"{base}instances/", params=query, headers=headers) as r:
                if r.status != 200:
                    raise RuntimeError(f"the instance query answered {r.status}")
                found.extend(await r.json())
                token = r.headers.get("x-ms-continuation-token", "")
            if not token:
                return found


REPORT_RUNS = 10  # the last runs the report page shows


@bp.function_name(HTTP_REPORT)
@bp.route(route="report", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def http_report(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """The fleet report page: the configuration at the head of the branch, every lab it
    names read now (read-only) and the last runs' reports."""
    try:
        factory = await asyncio.to_thread(load_config, get_settings().config_ref)
    except ConfigInvalid as exc:
        first = exc.problems[0]
        return error(409, "ConfigurationInvalid", f"the configuration is invalid: {first}")
    except GitSourceError as exc:
        return error(503, "ConfigurationUnavailable", _clause(str(exc)))
    try:
        inventory = await asyncio.to_thread(read_inventory, factory)
    except CatalogUnreadable as exc:
        return error(503, "InventoryUnavailable", _clause(str(exc)))
    try:
        runs = await _last_reports(client, REPORT_RUNS)
    except (aiohttp.ClientError, RuntimeError) as exc:
        return error(503, "RunsUnavailable", f"the runs cannot be listed now: {exc}")
    page = render_page(fleet(factory, inventory, datetime.now(UTC)), runs)
    return func.HttpResponse(page, status_code=200, mimetype="text/html", charset="utf-8")


async def _last_reports(client: df.DurableOrchestrationClient, count: int) -> list[RunReport]:
    """The reports of the last `count` runs that have one, newest first (the instance query
    carries each run's output)."""
    reports: list[RunReport] = []
    for run in listing.newest(await _instances(client, None))[:count]:
        output = run.get("output")
        if isinstance(output, dict):
            try:
                reports.append(RunReport.model_validate(output))
            except ValidationError:
                continue  # a failed run's output is its error, not a report
    return reports


@bp.function_name(HTTP_RUN_STATUS)
@bp.route(route="runs/{instance_id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def http_run_status(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    instance_id = req.route_params.get("instance_id", "")
    status = await client.get_status(instance_id)
    try:
        state = await asyncio.to_thread(run_queue.default(hub_of(client)).read)
    except RunQueueError as exc:
        if status is None or status.runtime_status is None:
            return error(503, "QueueUnavailable", f"the run queue cannot be read now: {exc}")
        state = None
    if status is not None and status.runtime_status is not None:
        body = _status_body(instance_id, status)
        if state is not None:  # the requests this run covered for others, and why
            body["coalesced"] = [
                {"id": rid, "note": entry.note}
                for rid, entry in sorted(state.requests.items())
                if entry.run == instance_id and rid != instance_id
            ]
        return func.HttpResponse(json.dumps(body), status_code=200, mimetype="application/json")
    # A request that waits in the run queue, or that a run of another id covered.
    assert state is not None
    entry = state.requests.get(instance_id)
    if entry is None:
        return error(404, "RunNotFound", f"no run has the id '{instance_id}'")
    body = {"id": instance_id, "run": entry.run, "note": entry.note or None}
    run = await client.get_status(entry.run) if entry.run else None
    if run is None or run.runtime_status is None:
        behind = f"the run {state.current}" if state.current else "the run going now"
        waiting = {"phase": f"waiting for {behind} to end"} if entry.state == "waiting" else None
        known = STATE_STATUS[entry.state] if entry.ended_at else "Pending"
        body |= {"status": known, "progress": waiting, "report": None}
    else:
        body |= {k: v for k, v in _status_body(instance_id, run).items() if k != "id"}
    return func.HttpResponse(json.dumps(body), status_code=200, mimetype="application/json")


def _status_body(instance_id: str, status: df.DurableOrchestrationStatus) -> dict[str, Any]:
    assert status.runtime_status is not None
    return {
        "id": instance_id,
        "status": status.runtime_status.value,
        "progress": status.custom_status,
        "createdTime": _iso(status.created_time),
        "lastUpdatedTime": _iso(status.last_updated_time),
        "report": status.output,
    }


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
    refused = unknown_images(images, defined)
    return None if refused is None else error(400, "UnknownImages", f"images: {refused}")


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else (str(value) if value else None)
