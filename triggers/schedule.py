"""The timer: a run on the schedule in the app setting IMAGEFACTORY_SCHEDULE (NCRONTAB).

The run id is `schedule-<occurrence>`, so one occurrence starts one run. A scheduled
run does not start while another `factory_run` is going or a request waits in the run
queue (builds take hours; the next occurrence catches up, and the run in progress
already plans over the same rules): it is recorded only when the queue is idle.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import aiohttp
import azure.durable_functions as df
import azure.functions as func
from azure.durable_functions.models.RpcManagementOptions import RpcManagementOptions

from shared.azure import run_queue
from shared.config.ncrontab import NcrontabError
from shared.function_names import FACTORY_RUN, SCHEDULED_RUN
from shared.run.request import COORDINATOR_ID
from shared.run.schedule import scheduled_run
from shared.settings import get_settings
from shared.telemetry import run_scope
from triggers.start import ACTIVE, hub_of, submit

log = logging.getLogger(__name__)

bp = df.Blueprint()

CONTINUATION = "x-ms-continuation-token"


async def run_going(client: df.DurableOrchestrationClient) -> str | None:
    """The id of a `factory_run` still going, or None, over every page of the query.

    The Durable HTTP API returns instance queries a page (100) at a time, with the
    header `x-ms-continuation-token` for the next one; the SDK's `get_status_by` reads
    only the first page, so with more than 100 active instances it can miss a run. This
    asks the same API, at the URL the SDK builds, and follows the token.
    """
    options = RpcManagementOptions(runtime_status=list(ACTIVE))
    # The local RPC endpoint the SDK's client calls (the binding has no public accessor).
    url = options.to_url(client._orchestration_bindings.rpc_base_url) + "&showInput=false"
    token = ""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        while True:
            headers = {CONTINUATION: token} if token else {}
            async with session.get(url, headers=headers) as response:
                if response.status != 200:
                    body = await response.text()
                    raise RuntimeError(f"listing instances failed: {response.status} {body}")
                page = await response.json(content_type=None)
                token = response.headers.get(CONTINUATION, "")
            for status in page:
                if status.get("name") == FACTORY_RUN:
                    return str(status["instanceId"])
            if not token:
                return None


@bp.function_name(SCHEDULED_RUN)
@bp.timer_trigger(schedule="%IMAGEFACTORY_SCHEDULE%", arg_name="timer", use_monitor=True)
@bp.durable_client_input(client_name="client")
async def scheduled_factory_run(
    timer: func.TimerRequest, client: df.DurableOrchestrationClient
) -> None:
    settings = get_settings()
    try:
        request, instance_id = scheduled_run(settings, datetime.now(UTC))
    except (NcrontabError, ValueError) as exc:
        log.error("IMAGEFACTORY_SCHEDULE is invalid: %s", exc)
        return
    if await client.get_status(instance_id):  # this occurrence already has its run
        log.info("scheduled run %s exists already; not started again", instance_id)
        return
    busy = await run_going(client)
    if busy:
        log.info("scheduled run %s not started: %s is still running", instance_id, busy)
        return
    queue = run_queue.default(hub_of(client))
    # Nothing runs, but the queue may still be open: a coordinator that stopped (failed,
    # terminated) left it so. Then this request joins what waits and a coordinator is
    # started for it; otherwise it is recorded only when nothing runs or waits.
    coordinator = await client.get_status(COORDINATOR_ID)
    serving = coordinator is not None and coordinator.runtime_status in ACTIVE
    with run_scope(instance_id):
        outcome = await submit(client, request, instance_id, exclusive=serving, queue=queue)
        if outcome.outcome == "busy":
            going = outcome.behind or "another run"
            log.info("scheduled run %s not started: %s is still running", instance_id, going)
        elif outcome.outcome == "known":
            log.info("scheduled run %s exists already; not started again", instance_id)
        else:
            log.info("scheduled run %s started (past due: %s)", instance_id, timer.past_due)
