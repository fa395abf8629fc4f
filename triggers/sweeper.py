"""The orphan sweeper: on a timer, deletes expired build VMs and stale catalog blobs of
this factory. Never anything without this factory's id."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func

from shared.azure.sweep import sweep
from shared.function_names import ORPHAN_SWEEPER
from shared.git.config_source import load_config
from shared.settings import get_settings

bp = df.Blueprint()
log = logging.getLogger(__name__)

SWEEP_SCHEDULE = "0 17 * * * *"  # hourly, at 17 minutes past


@bp.function_name(ORPHAN_SWEEPER)
@bp.timer_trigger(arg_name="timer", schedule=SWEEP_SCHEDULE, run_on_startup=False)
def orphan_sweeper(timer: func.TimerRequest) -> None:
    settings = get_settings()
    factory = load_config(settings.config_ref)
    report = sweep(factory, datetime.now(UTC))
    log.info(
        "sweep: deleted VMs %s; deleted catalog blobs %s; errors %s",
        report.vms or "none",
        report.blobs or "none",
        report.errors or "none",
    )
