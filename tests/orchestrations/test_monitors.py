"""Monitors that sleep until a step is expected to end, then read at a short interval.

`Patience` is the schedule `steps.monitor` follows: the properties hold for any duration,
poll interval and expectation; the learned durations it is given come from the catalog.
"""

from __future__ import annotations

import itertools
import math
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrations.job_inputs import EXPECTED_FRACTION, JobInputs
from orchestrations.job_scheduler import Estimates, JobId, Kind, jobs_of
from orchestrations.steps import Patience
from shared.planning import catalog
from shared.planning.plan import Trigger
from shared.planning.planner import plan as make_plan
from shared.run.payloads import MonitorTiming, StepSeconds
from tests import factories as f
from tests.orchestrations.test_job_scheduler import _build

seconds = st.floats(min_value=0, max_value=20_000, allow_nan=False)
polls = st.floats(min_value=1, max_value=600, allow_nan=False)


def _today(duration: float, poll: float, timeout: float) -> int:
    """Reads of a monitor that reads at once and then every interval (no expectation)."""
    return len(Patience(timeout, poll).read_times(duration))


@settings(max_examples=300, deadline=None)
@given(duration=seconds, poll=polls, expected=seconds, timeout=seconds)
def test_an_expectation_never_costs_more_reads(
    duration: float, poll: float, expected: float, timeout: float
) -> None:
    patience = Patience(timeout, poll, expected)
    times = patience.read_times(duration)
    assert len(times) <= _today(duration, poll, timeout)
    # The deadline holds: no read after it, and the last read is at or after the end
    # (or the deadline).
    assert all(t <= max(timeout, 0) + 1e-6 for t in times)
    assert times[-1] >= min(duration, timeout) - 1e-6
    # Reads after the first are never further apart than the poll interval.
    assert all(b - a <= poll + 1e-6 for a, b in itertools.pairwise(times))


@settings(max_examples=200, deadline=None)
@given(duration=st.floats(min_value=200, max_value=20_000, allow_nan=False), poll=polls)
def test_an_accurate_expectation_costs_one_or_two_reads(duration: float, poll: float) -> None:
    """Expecting a little less than the step took (as the next run does), the monitor
    reads about when it ends: within a quarter interval, so at most two reads."""
    expected = duration * EXPECTED_FRACTION
    patience = Patience(duration * 2, poll, expected)
    if expected < 2 * poll:  # too short to be worth a sleep: polls as before
        assert patience.first_sleep == 0
        return
    times = patience.read_times(duration)
    assert times[0] == expected
    gap = duration - expected
    assert len(times) <= 2 + max(0, math.ceil((gap - poll * 3 / 4) / poll)) + 1
    if gap <= poll / 4:
        assert len(times) <= 2


def test_no_expectation_polls_from_the_start() -> None:
    assert Patience(600, 60).read_times(150) == [0, 60, 120, 180]
    assert Patience(600, 60, expected_seconds=300).read_times(330) == [300, 315, 345]


@settings(max_examples=200, deadline=None)
@given(duration=seconds, poll=polls, timeout=seconds)
def test_a_brisk_monitor_reads_at_once_then_at_a_quarter_interval(
    duration: float, poll: float, timeout: float
) -> None:
    """A disk grant or revoke takes seconds: it is seen done a quarter interval after its
    start when it ends by then, and never more than one interval after its end."""
    times = Patience(timeout, poll, brisk=True).read_times(duration)
    assert times[0] == 0
    assert all(b - a <= poll + 1e-6 for a, b in itertools.pairwise(times))
    assert times[-1] <= max(0.0, min(duration, timeout)) + poll + 1e-6
    if duration <= poll / 4 and timeout >= poll / 4:
        assert times[-1] <= poll / 4 + 1e-6


def test_brisk_schedule() -> None:
    assert Patience(600, 60, brisk=True).read_times(10) == [0, 15]
    assert Patience(600, 60, brisk=True).read_times(100) == [0, 15, 45, 105]
    # An expectation still comes first.
    assert Patience(600, 60, 300, brisk=True).read_times(330) == [300, 315, 345]


def test_step_seconds_are_stored_with_the_version_and_learned() -> None:
    config = f.factory(
        {"base": f.gallery() + "testArtifacts: [{name: t}]\n", "other": f.gallery("s2")},
        {"dev": 'images: ["*"]\n'},
    )
    entry = f.built(config, "base", f.NOW - timedelta(days=1))
    took = {
        "vm_create": 1200.0,
        "deallocate": 60.0,
        "disk_copy": 300.0,
        "image_create": 240.0,  # the gate image's
        "test_gate": 900.0,
    }
    blob = catalog.metadata(_build(entry), f.FACTORY_ID, None, entry.created, 45.0, took)
    read = catalog.entry(blob, f.FACTORY_ID)
    assert read is not None and read.step_seconds == took
    garbled = {**blob, "stepseconds": "vm_create=NaN;bad name=3;disk_copy=-1;deallocate=7"}
    assert catalog.entry(garbled, f.FACTORY_ID).step_seconds == {"deallocate": 7.0}  # type: ignore[union-attr]

    estimates = Estimates.learned([read], time_scale=1.0)
    assert estimates.seconds("base") == took
    assert estimates.of_copy("base") == 5.0  # the capture's copy, in minutes
    assert estimates.of_copy("other") == Estimates().copy

    plan = make_plan(config, f.inventory([]), f.NOW, Trigger(force=True))
    inputs = JobInputs(config, MonitorTiming(poll_seconds=30), plan, "run-1", estimates)
    build = next(b for b in plan.builds if b.family == "base")
    expected = inputs.build(JobId(Kind.BUILD, "base", build.version)).expected
    assert expected == StepSeconds(
        vm_create=1080.0, deallocate=54.0, disk_copy=270.0, image_create=216.0, test_gate=810.0
    )
    # A copy of the version expects what its capture and its gate image took.
    dist = next(d for d in plan.distributions if d.family == "base")
    copy = inputs.distribute(JobId(Kind.DISTRIBUTE, "base", dist.version, lab=dist.lab))
    assert copy.expected == StepSeconds(disk_copy=270.0, image_create=216.0)
    assert inputs.build(JobId(Kind.BUILD, "other", plan.builds[1].version)).expected == (
        StepSeconds()
    )
    copies = [s for s in jobs_of(plan, f.FACTORY_LAB, estimates) if s.id.kind is not Kind.BUILD]
    assert {s.id.family: s.minutes for s in copies} == {"base": 5.0, "other": 20.0}
