"""The timer: a run on the schedule in the app setting IMAGEFACTORY_SCHEDULE (NCRONTAB).

The instance id is `schedule-<occurrence>`, so one occurrence starts one run. A scheduled
run does not start while another `factory_run` is still going (builds take hours; the
next occurrence catches up, and the run in progress already plans over the same rules).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func

from shared.function_names import FACTORY_RUN, SCHEDULED_RUN
from shared.ncrontab import NcrontabError
from shared.schedule_runs import scheduled_run
from shared.settings import load_settings
from shared.telemetry import run_scope
from triggers.start import ACTIVE

log = logging.getLogger(__name__)

bp = df.Blueprint()


@bp.function_name(SCHEDULED_RUN)
@bp.timer_trigger(schedule="%IMAGEFACTORY_SCHEDULE%", arg_name="timer", use_monitor=True)
@bp.durable_client_input(client_name="client")
async def scheduled_factory_run(
    timer: func.TimerRequest, client: df.DurableOrchestrationClient
) -> None:
    settings = load_settings()
    try:
        request, instance_id = scheduled_run(settings, datetime.now(UTC))
    except (NcrontabError, ValueError) as exc:
        log.error("IMAGEFACTORY_SCHEDULE is invalid: %s", exc)
        return
    if await client.get_status(instance_id):  # this occurrence already has its run
        log.info("scheduled run %s exists already; not started again", instance_id)
        return
    running = await client.get_status_by(runtime_status=list(ACTIVE))
    busy = [s.instance_id for s in running if s.name == FACTORY_RUN]
    if busy:
        log.info("scheduled run %s not started: %s is still running", instance_id, busy[0])
        return
    with run_scope(instance_id):
        await client.start_new(FACTORY_RUN, instance_id, request.model_dump(mode="json"))
        log.info("scheduled run %s started (past due: %s)", instance_id, timer.past_due)
