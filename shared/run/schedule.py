"""The timer's run: which occurrence of IMAGEFACTORY_SCHEDULE fired, and the run it starts.

The instance id is `schedule-<occurrence>`: the latest occurrence of the schedule at (or
a few seconds after, for clock skew) the moment the timer function runs, so a timer
fired twice for one occurrence (a retry, a second host) maps to the same run. A
scheduled run reads the head of the configuration branch; the planner rebuilds what is
older than its max age or whose base image has a newer version, and what changed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from croniter import croniter

from shared.config.ncrontab import check_ncrontab
from shared.planning.plan import Trigger
from shared.run.request import RunRequest, run_instance_id
from shared.settings import Settings

GRACE = timedelta(seconds=5)
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def occurrence(expression: str, now: datetime, grace: timedelta = GRACE) -> datetime:
    """The schedule occurrence that fired at `now`: NCRONTAB (six fields) or a TimeSpan."""
    moment = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC) + grace
    span = _TIMESPAN.match(expression.strip())
    if span:
        days, hours, minutes, seconds = (int(x or 0) for x in span.groups())
        interval = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if interval <= timedelta(0):
            raise ValueError(f"schedule '{expression}' is an empty interval")
        return _EPOCH + ((moment - _EPOCH) // interval) * interval
    check_ncrontab(expression)
    times = croniter(expression, moment, second_at_beginning=True)
    previous: datetime = times.get_prev(datetime)
    following: datetime = times.get_next(datetime)  # the first after `previous`
    latest = following if following <= moment else previous  # at or before `moment`
    return latest if latest.tzinfo else latest.replace(tzinfo=UTC)


def scheduled_run(settings: Settings, now: datetime) -> tuple[RunRequest, str]:
    """The run request of the occurrence firing at `now`, and its instance id."""
    at = occurrence(settings.schedule, now)
    trigger = Trigger(kind="schedule")
    request = RunRequest(trigger=trigger, source=settings.config_ref)
    return request, run_instance_id(trigger, at=at)
