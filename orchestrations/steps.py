"""Building blocks the orchestrators share: retries, the monitor loop and the typed waits
built on it, bounded fan-out.

All of it is deterministic: time comes from the context, waiting is durable timers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

import azure.durable_functions as df

from shared.function_names import (
    CREATE_CUSTOM_IMAGE,
    CUSTOM_IMAGE_STATUS,
    LAB_COPY_STATUS,
    START_LAB_COPY,
    VM_STATUS,
)
from shared.run.payloads import (
    CopyStatus,
    ImageRef,
    ImageRequest,
    ImageStatus,
    LabCopyRequest,
    VmRef,
    VmStatus,
)
from shared.telemetry import RUN_ID_PAYLOAD_KEY, run_id_of

# Transient failures (throttling that outlasts the SDK's own retries, a restarted host)
# are retried by the orchestrator with backoff; the activities themselves are idempotent.
RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=2_000, max_number_of_attempts=4)

Orchestration = Generator[Any, Any, Any]
S = TypeVar("S")


def call(context: df.DurableOrchestrationContext, name: str, payload: Any) -> Any:
    """An activity task with the standard retry policy; a dict payload carries the run id
    (the instance id up to its first ':'), so the activity logs under its run."""
    if isinstance(payload, dict):
        payload = {**payload, RUN_ID_PAYLOAD_KEY: run_id_of(context.instance_id)}
    return context.call_activity_with_retry(name, RETRY, payload)


@dataclass(frozen=True)
class Waited(Generic[S]):
    """The last status a monitor read, whether the deadline passed first, and how long the
    operation took as far as the reads tell: it ended between the last read that saw it
    under way and the one that saw it done, so the seconds from the monitor's start to
    midway between them (to the first read when that one saw it done). What a run learns
    from it holds no systematic polling lag, so the next run's sleeps do not grow with it."""

    status: S
    timed_out: bool
    seconds: float = 0.0


@dataclass(frozen=True)
class Patience:
    """How a monitor waits for one long operation.

    Up to `timeout_seconds`, as configured. With no expectation it reads at once and then
    every `poll_seconds`. Expecting the operation to take `expected_seconds` (learned from
    the family's last build), it sleeps until then, reads, and reads again after a
    quarter of the poll interval, doubling up to the interval: an operation that ends as
    expected costs one or two reads. Expectations shorter than two intervals are not used,
    so a monitor never reads more often than one that polls from the start. A status that
    carries the service's Retry-After waits that long instead. A `brisk` monitor, for an
    operation that takes seconds (a disk grant or revoke) but holds up the build VM, reads
    at once and then at a quarter interval, doubling up to the interval.
    """

    timeout_seconds: float
    poll_seconds: float
    expected_seconds: float = 0.0
    brisk: bool = False

    @property
    def first_sleep(self) -> float:
        """Seconds before the first read."""
        expected = min(self.expected_seconds, self.timeout_seconds)
        return expected if expected >= 2 * self.poll_seconds else 0.0

    def intervals(self) -> Iterator[float]:
        """Seconds between one read and the next, in order."""
        interval = self.poll_seconds / 4 if self.first_sleep or self.brisk else self.poll_seconds
        while True:
            yield interval
            interval = min(self.poll_seconds, interval * 2)

    def read_times(self, seconds: float) -> list[float]:
        """When the reads of an operation that takes `seconds` happen (seconds from the
        start; Retry-After aside)."""
        times = [self.first_sleep]
        intervals = self.intervals()
        while times[-1] < min(seconds, self.timeout_seconds):
            times.append(min(self.timeout_seconds, times[-1] + next(intervals)))
        return times


def monitor(
    context: df.DurableOrchestrationContext,
    activity: str,
    payload: Any,
    parse: Callable[[Any], S],
    done: Callable[[S], bool],
    patience: Patience,
) -> Generator[Any, Any, Waited[S]]:
    """Read `activity`'s status (parsed once, typed) until `done`, sleeping on durable
    timers, up to the deadline."""
    start = context.current_utc_datetime
    deadline = start + timedelta(seconds=patience.timeout_seconds)
    if patience.first_sleep:
        yield context.create_timer(start + timedelta(seconds=patience.first_sleep))
    intervals = patience.intervals()
    unfinished: float | None = None  # when a read last saw the operation under way
    while True:
        status = parse((yield call(context, activity, payload)))
        now = context.current_utc_datetime
        elapsed = (now - start).total_seconds()
        took = elapsed if unfinished is None else (unfinished + elapsed) / 2
        if done(status):
            return Waited(status, timed_out=False, seconds=took)
        if now >= deadline:
            return Waited(status, timed_out=True, seconds=took)
        unfinished = elapsed
        after = getattr(status, "retry_after", None) or next(intervals)
        yield context.create_timer(min(deadline, now + timedelta(seconds=after)))


def watch_vm(
    context: df.DurableOrchestrationContext,
    vm: VmRef,
    done: Callable[[VmStatus], bool],
    patience: Patience,
) -> Generator[Any, Any, Waited[VmStatus]]:
    """Read the VM's status until `done`."""
    waited: Waited[VmStatus] = yield from monitor(
        context, VM_STATUS, vm.model_dump(), VmStatus.model_validate, done, patience
    )
    return waited


def vm_gone(status: VmStatus) -> bool:
    return status.state == "missing"


def create_image(
    context: df.DurableOrchestrationContext,
    request: ImageRequest,
    image: ImageRef,
    patience: Patience,
) -> Generator[Any, Any, Waited[ImageStatus]]:
    """Start creating the custom image from its VHD and read its status until it settles."""
    yield call(context, CREATE_CUSTOM_IMAGE, request.model_dump(mode="json"))
    waited: Waited[ImageStatus] = yield from monitor(
        context,
        CUSTOM_IMAGE_STATUS,
        image.model_dump(),
        ImageStatus.model_validate,
        lambda s: s.settled,
        patience,
    )
    return waited


def copy_to_lab(
    context: df.DurableOrchestrationContext, copy: LabCopyRequest, patience: Patience
) -> Generator[Any, Any, Waited[CopyStatus]]:
    """Start copying a catalog VHD into a lab's storage and read the copy until it settles."""
    yield call(context, START_LAB_COPY, copy.model_dump())
    waited: Waited[CopyStatus] = yield from monitor(
        context,
        LAB_COPY_STATUS,
        copy.destination.model_dump(),
        CopyStatus.model_validate,
        lambda s: s.settled,
        patience,
    )
    return waited


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
