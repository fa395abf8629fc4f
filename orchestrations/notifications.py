"""A run's last step: post how it ended to the receivers factory.yaml names."""

from __future__ import annotations

import azure.durable_functions as df

from orchestrations.steps import Orchestration, call
from shared.config.models import Factory
from shared.function_names import NOTIFY_RUN
from shared.model.text import first_line
from shared.run.notifications import NotifyRequest, NotifyResult, summarize, wanted
from shared.run.payloads import RunReport


def notify_end(
    context: df.DurableOrchestrationContext, factory: Factory, report: RunReport
) -> Orchestration:
    """The report, with a warning for each receiver not reached: a notification never
    fails the run."""
    notifications = factory.settings.notifications
    summary = summarize(report, factory.settings.factory_id, context.current_utc_datetime)
    chosen = [n for n in notifications if wanted(n, summary)]
    if not chosen:
        return report
    request = NotifyRequest(notifications=chosen, summary=summary)
    try:
        found = yield call(context, NOTIFY_RUN, request.model_dump(mode="json"))
        warnings = NotifyResult.model_validate(found).warnings
    except Exception as exc:
        warnings = [first_line(f"the run's notifications were not sent: {exc}")]
    if not warnings:
        return report
    return report.model_copy(update={"warnings": [*report.warnings, *warnings]})
