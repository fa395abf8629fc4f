"""Which occurrence of IMAGEFACTORY_SCHEDULE a timer invocation belongs to, and its run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.config.ncrontab import NcrontabError, next_fire
from shared.run.schedule import GRACE, occurrence, scheduled_run
from tests.webhooks import payloads as p

SCHEDULES = ["0 0 2 * * *", "0 */15 * * * *", "30 5 4 * * 1-5", "0 0 0 1 * *"]
moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@given(schedule=st.sampled_from(SCHEDULES), start=moments, fraction=st.floats(0, 0.999))
def test_every_moment_of_one_occurrence_window_maps_to_that_occurrence(
    schedule: str, start: datetime, fraction: float
) -> None:
    """From the occurrence (minus the clock-skew grace) until the next one: one run id."""
    fired = next_fire(schedule, start)
    following = next_fire(schedule, fired)
    window = following - fired
    moment = fired - GRACE + window * fraction
    assert occurrence(schedule, moment) == fired


def test_a_timer_firing_a_little_late_or_early_belongs_to_the_occurrence() -> None:
    at = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    assert occurrence("0 0 2 * * *", at + timedelta(milliseconds=30)) == at
    assert occurrence("0 0 2 * * *", at + timedelta(hours=3)) == at  # past due, caught up
    assert occurrence("0 0 2 * * *", at - timedelta(seconds=2)) == at
    assert occurrence("0 0 2 * * *", at - timedelta(minutes=1)) == at - timedelta(days=1)


def test_timespan_schedules_align_to_the_interval() -> None:
    at = datetime(2026, 11, 24, 1, 59, 50, tzinfo=UTC)
    assert occurrence("00:05:00", at) == datetime(2026, 11, 24, 1, 55, tzinfo=UTC)
    assert occurrence("1.00:00:00", at) == datetime(2026, 11, 24, tzinfo=UTC)


@pytest.mark.parametrize("schedule", ["0 2 * * *", "every day", "0 0 25 * * *"])
def test_invalid_schedules_are_refused(schedule: str) -> None:
    with pytest.raises(NcrontabError):
        occurrence(schedule, datetime(2026, 11, 24, tzinfo=UTC))


def test_the_scheduled_run_reads_the_branch_head_and_is_named_by_the_occurrence() -> None:
    config = p.settings(schedule="0 0 2 * * *")
    request, instance_id = scheduled_run(config, datetime(2026, 11, 24, 2, 0, 1, tzinfo=UTC))
    assert instance_id == "schedule-20261124T020000Z"
    assert request.trigger.kind == "schedule"
    assert request.source == config.config_ref
    assert request.source.commit is None
