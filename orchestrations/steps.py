"""Building blocks the orchestrators share: retries, the monitor loop, bounded fan-out.

All of it is deterministic: time comes from the context, waiting is durable timers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Hashable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from shared.telemetry import RUN_ID_PAYLOAD_KEY, run_id_of

# Transient failures (throttling that outlasts the SDK's own retries, a restarted host)
# are retried by the orchestrator with backoff; the activities themselves are idempotent.
RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=2_000, max_number_of_attempts=4)

Orchestration = Generator[Any, Any, Any]


def call(context: df.DurableOrchestrationContext, name: str, payload: Any) -> Any:
    """An activity task with the standard retry policy; a dict payload carries the run id
    (the instance id up to its first ':'), so the activity logs under its run."""
    if isinstance(payload, dict):
        payload = {**payload, RUN_ID_PAYLOAD_KEY: run_id_of(context.instance_id)}
    return context.call_activity_with_retry(name, RETRY, payload)


@dataclass(frozen=True)
class Waited:
    """The last status a monitor read, and whether the deadline passed first."""

    status: Any
    timed_out: bool


def monitor(
    context: df.DurableOrchestrationContext,
    activity: str,
    payload: Any,
    done: Callable[[Any], bool],
    timeout_seconds: float,
    poll_seconds: float,
) -> Generator[Any, Any, Waited]:
    """Poll `activity` until `done(status)`, sleeping on durable timers, up to a deadline."""
    deadline = context.current_utc_datetime + timedelta(seconds=timeout_seconds)
    while True:
        status = yield call(context, activity, payload)
        if done(status):
            return Waited(status, timed_out=False)
        now = context.current_utc_datetime
        if now >= deadline:
            return Waited(status, timed_out=True)
        wake = min(deadline, now + timedelta(seconds=poll_seconds))
        yield context.create_timer(wake)


@dataclass(frozen=True)
class Job:
    """One sub-orchestration to run: a key for its result, and its group (subscription)."""

    key: Hashable
    start: Callable[[], Any]
    group: str = ""


def bounded(
    context: df.DurableOrchestrationContext,
    jobs: Sequence[Job],
    limit: int,
    group_limit: int | None = None,
) -> Generator[Any, Any, dict[Hashable, Any]]:
    """Run jobs with at most `limit` in flight (and `group_limit` per group); a sliding window."""
    results: dict[Hashable, Any] = {}
    pending = list(jobs)
    running: list[tuple[Job, Any]] = []
    while pending or running:
        in_group = Counter(job.group for job, _ in running)
        for job in list(pending):
            if len(running) >= limit:
                break
            if group_limit is not None and in_group[job.group] >= group_limit:
                continue
            running.append((job, job.start()))
            in_group[job.group] += 1
            pending.remove(job)
        finished = yield context.task_any([task for _, task in running])
        for entry in list(running):
            job, task = entry
            if task is finished:
                results[job.key] = task.result
                running.remove(entry)
    return results


def best_effort(
    context: df.DurableOrchestrationContext, activity: str, payload: Any
) -> Generator[Any, Any, bool]:
    """Run a clean-up activity; its failure is not the run's (the sweeper finishes the job)."""
    try:
        yield call(context, activity, payload)
    except Exception:
        return False
    return True
