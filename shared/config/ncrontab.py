"""The six-field NCRONTAB expressions Azure Functions timers use: `sec min hour day month dow`."""

from __future__ import annotations

from datetime import datetime

from croniter import croniter


class NcrontabError(ValueError):
    """An invalid schedule; the message says what was expected."""


def check_ncrontab(expression: str) -> None:
    fields = expression.split()
    if len(fields) != 6:
        raise NcrontabError(
            f"schedule '{expression}' has {len(fields)} fields; expected six "
            "(second minute hour day month day-of-week), e.g. '0 0 2 * * *'"
        )
    if not croniter.is_valid(expression, second_at_beginning=True):
        raise NcrontabError(
            f"schedule '{expression}' is not a valid NCRONTAB expression "
            "(second minute hour day month day-of-week)"
        )


def next_fire(expression: str, after: datetime) -> datetime:
    check_ncrontab(expression)
    result: datetime = croniter(expression, after, second_at_beginning=True).get_next(datetime)
    return result
