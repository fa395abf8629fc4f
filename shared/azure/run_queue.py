"""The run queue: one run of the factory at a time, whatever starts it.

Every trigger records its request here before anything runs; the coordinator
orchestration (`orchestrations/run_coordinator.py`) takes what is waiting, runs it as
one `factory_run`, and takes again until nothing waits. The state is one JSON blob in
the Functions storage (`AzureWebJobsStorage`), changed only by compare-and-swap on its
ETag, so concurrent triggers and the coordinator see each change whole or not at all.

- `open` says a coordinator is responsible for what waits. A trigger that finds it
  closed opens it, starting a new `epoch`, and must start the coordinator for that
  epoch; the coordinator closes it only when nothing waits, and then completes. A
  request recorded while open is therefore taken by that epoch's coordinator, and one
  recorded while closed by the coordinator its trigger starts.
- Each take carries a token (epoch and step), and the state keeps the last take's
  answer: an activity that runs twice (a crash, a replay) gets the same answer and
  takes nothing twice.
- `requests` remembers what became of every request id handed out (waiting, which run
  covered it, how that run ended) until 24 hours after its run ended: retries with the
  same id (an `Idempotency-Key`, a redelivered push) find it, and no run id is started
  twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobServiceClient, ContainerClient
from pydantic import BaseModel, Field

from shared.azure import clients
from shared.azure.clients import tls_options
from shared.azure.errors import reason
from shared.planning.plan import Trigger
from shared.run.listing import WaitingRequest
from shared.run.request import Finished, RunRequest, Take, run_instance_id
from shared.settings import get_settings

CONTAINER = "imagefactory-runs"  # one blob in it per task hub: `<hub>.json`
REMEMBER = timedelta(hours=24)  # a request id (and its key) is remembered this long after its run
MAX_ATTEMPTS = 200  # compare-and-swap retries; each loses only to another writer's success

State = Literal["waiting", "running", "completed", "failed"]


class Waiting(BaseModel):
    """A request recorded and not yet taken by the coordinator."""

    id: str
    request: RunRequest
    at: datetime
    note: str = ""
    again: bool = Field(
        default=False, description="A run taken before that never started: taken as it was."
    )


class Entry(BaseModel):
    """What became of one request id."""

    state: State = "waiting"
    run: str | None = Field(default=None, description="The run that covers the request.")
    note: str = ""
    ended_at: datetime | None = None


class QueueState(BaseModel):
    epoch: int = 0
    open: bool = False
    current: str | None = Field(default=None, description="The run going now.")
    waiting: list[Waiting] = Field(default_factory=list)
    requests: dict[str, Entry] = Field(default_factory=dict)
    last_take: Take | None = None


Outcome = Literal["queued", "known", "busy"]


def waiting_requests(state: QueueState) -> list[WaitingRequest]:
    """What waits for a run, oldest first, as the list of runs shows it."""
    return [
        WaitingRequest(
            id=item.id,
            trigger=item.request.trigger.kind,
            since=item.at.isoformat(),
            commit=item.request.trigger.commit or item.request.source.commit,
            images=item.request.trigger.families,
            force=item.request.trigger.force,
            dry_run=item.request.trigger.dry_run,
            note=item.note,
        )
        for item in sorted(state.waiting, key=lambda w: w.at)
    ]


class Enqueued(BaseModel):
    """What recording one request did."""

    outcome: Outcome
    id: str
    entry: Entry | None = None
    epoch: int = 0
    start: bool = Field(default=False, description="This caller opened the queue: start it.")
    behind: str | None = Field(default=None, description="The run going now, if any.")


class RunQueueError(Exception):
    """The queue's storage cannot be read or written now."""


# The rules (pure) -----------------------------------------------------------------------


def is_full(trigger: Trigger) -> bool:
    """A run over everything (push, schedule, manual without images): the planner decides."""
    return trigger.kind != "manual" or not trigger.families


def prune(state: QueueState, now: datetime) -> None:
    state.requests = {
        rid: entry
        for rid, entry in state.requests.items()
        if entry.ended_at is None or entry.ended_at + REMEMBER > now
    }


def enqueue(
    state: QueueState,
    item: Waiting,
    *,
    exclusive: bool = False,
    retry: bool = False,
    ended: str | None = None,
) -> Enqueued:
    """Record `item` in `state` (changed in place).

    `exclusive`: only when nothing runs or waits (the timer; a forced run), else `busy`;
    `ended` names a run the caller saw ended, which the coordinator has yet to record.
    `retry`: a request whose earlier run failed may run again under its id (a push
    redelivered after its run failed); otherwise a known id is never started again.
    """
    prune(state, item.at)
    known = state.requests.get(item.id)
    if known is not None and not (retry and known.state == "failed"):
        return Enqueued(outcome="known", id=item.id, entry=known, epoch=state.epoch)
    going = state.current is not None and state.current != ended
    if exclusive and (state.waiting or going):
        first = state.current or state.waiting[0].id
        return Enqueued(outcome="busy", id=item.id, epoch=state.epoch, behind=first)
    start = not state.open
    if start:
        state.open = True
        state.epoch += 1
    state.waiting.append(item)
    state.requests[item.id] = Entry(note=item.note)
    return Enqueued(
        outcome="queued", id=item.id, epoch=state.epoch, start=start, behind=state.current
    )


def ended(state: QueueState, finished: Finished, now: datetime) -> None:
    """Record the coordinator's last run: how it ended, or, when it never started, put
    it back first in line to be taken again as it was."""
    last = state.last_take
    if finished.missing and last is not None and last.run == finished.run and last.request:
        again = Waiting(id=finished.run, request=last.request, at=now, again=True)
        state.waiting.insert(0, again)
        state.current = None
        return
    finish(state, finished.run, finished.ok, now)


def finish(state: QueueState, run: str, ok: bool, now: datetime) -> None:
    """Record how `run` ended, for every request it covered."""
    for entry in state.requests.values():
        if entry.run == run and entry.state == "running":
            entry.state = "completed" if ok else "failed"
            entry.ended_at = now
    if state.current == run:
        state.current = None


def take(
    state: QueueState,
    token: str,
    epoch: int,
    head: Callable[[RunRequest], str | None],
    now: datetime,
) -> Take:
    """The coordinator's next run (changing `state` in place), or none: then it closes.

    A forced run is taken alone (it never waits behind anything, so it is first); every
    other waiting request becomes one run over the newest head of the branch. `head`
    names that head for a push (None if it cannot be read now: then the newest pushed
    commit stands).
    """
    if state.last_take is not None and state.last_take.token == token:
        return state.last_take
    if epoch != state.epoch or not state.open:  # started late, for an epoch already over
        return Take(token=token, stale=True)
    result = Take(token=token)
    while state.waiting and result.run is None:
        first = state.waiting[0]
        alone = first.request.trigger.force or first.again
        group = [first] if alone else list(state.waiting)
        state.waiting = state.waiting[len(group) :]
        notes: dict[str, str] = {}
        if first.again:
            run_id, request = first.id, first.request
        else:
            run_id, request, notes = coalesce(group, head)
        previous = state.requests.get(run_id)
        rerun = previous is not None and previous.state == "failed"
        covered = previous is not None and not rerun and all(w.id != run_id for w in group)
        state_now: State = "running"
        if covered:  # that run exists already (an earlier take built the same head)
            assert previous is not None
            state_now = previous.state
        for item in group:
            entry = state.requests.setdefault(item.id, Entry())
            entry.state, entry.run = state_now, run_id
            entry.note = notes.get(item.id, entry.note)
            entry.ended_at = previous.ended_at if covered and previous else None
        if not covered:
            state.requests[run_id] = Entry(state="running", run=run_id, note=notes.get(run_id, ""))
            state.current = run_id
            result = Take(token=token, run=run_id, request=request)
    if result.run is None:
        state.open = False
        state.current = None
    state.last_take = result
    return result


def coalesce(
    group: list[Waiting], head: Callable[[RunRequest], str | None]
) -> tuple[str, RunRequest, dict[str, str]]:
    """One run for every request of `group`: its id, its request, and a note per request."""
    notes: dict[str, str] = {}
    pushes = [w for w in group if w.request.trigger.kind == "push"]
    if pushes:
        newest = pushes[-1]
        commit = head(newest.request) or newest.request.trigger.commit or ""
        paths: list[str] = []
        if all(w.request.trigger.changed_paths for w in pushes):
            paths = sorted({p for w in pushes for p in w.request.trigger.changed_paths})
        trigger = Trigger(kind="push", commit=commit, changed_paths=paths)
        source = newest.request.source.model_copy(update={"commit": commit})
        request = RunRequest(trigger=trigger, source=source)
        run_id = run_instance_id(trigger, commit=commit)
        for w in pushes:
            pushed = w.request.trigger.commit
            if pushed and pushed != commit:
                branch = w.request.source.branch
                notes[w.id] = (
                    f"superseded: {pushed} is no longer the head of {branch}; "
                    f"the run {run_id} builds the head {commit}"
                )
    else:
        full = [w for w in group if is_full(w.request.trigger)]
        if full:
            newest = full[-1]
            run_id, request = newest.id, newest.request
        else:  # manual runs of some images: one run of them all
            newest = group[-1]
            families = sorted({f for w in group for f in w.request.trigger.families})
            trigger = newest.request.trigger.model_copy(update={"families": families})
            run_id, request = newest.id, newest.request.model_copy(update={"trigger": trigger})
    for w in group:
        if w.id != run_id and w.id not in notes:
            notes[w.id] = f"coalesced into the run {run_id}"
    return run_id, request, notes


# Storage: one blob, changed by compare-and-swap -----------------------------------------


class RunQueue:
    """The queue's state in a blob; `update` applies a change under the blob's ETag."""

    def __init__(self, container: ContainerClient, hub: str) -> None:
        self.container = container
        self.blob = container.get_blob_client(f"{hub.lower()}.json")

    def read(self) -> QueueState:
        state, _ = self._read()
        return state

    def update(self, change: Callable[[QueueState], Any]) -> Any:
        """Apply `change` to the current state and write it back if nothing else wrote in
        between (If-Match on the ETag; If-None-Match for a new blob); retry otherwise."""
        for attempt in range(MAX_ATTEMPTS):
            state, etag = self._read()
            result = change(state)
            body = state.model_dump_json().encode()
            try:
                if etag is None:
                    self.blob.upload_blob(body, overwrite=False, timeout=30)
                else:
                    self.blob.upload_blob(
                        body,
                        overwrite=True,
                        etag=etag,
                        match_condition=MatchConditions.IfNotModified,
                        timeout=30,
                    )
                return result
            except ResourceExistsError:
                pass  # another writer created it first
            except HttpResponseError as exc:
                if exc.status_code != 412:
                    raise RunQueueError(reason(exc)) from exc
            except (ServiceRequestError, ServiceResponseError) as exc:
                raise RunQueueError(f"the storage did not answer: {exc}") from exc
            time.sleep(min(0.5, 0.01 * (attempt + 1)))
        raise RunQueueError("the run queue is changed by others too often; try again")

    def _read(self) -> tuple[QueueState, str | None]:
        try:
            download = self.blob.download_blob(timeout=30)
            data = download.readall()
            etag = download.properties.etag
        except ResourceNotFoundError as exc:
            if getattr(exc, "error_code", None) == "ContainerNotFound":
                self._create_container()
            return QueueState(), None
        except HttpResponseError as exc:
            raise RunQueueError(reason(exc)) from exc
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise RunQueueError(f"the storage did not answer: {exc}") from exc
        return QueueState.model_validate(json.loads(data)), etag

    def _create_container(self) -> None:
        with contextlib.suppress(ResourceExistsError):
            self.container.create_container(timeout=30)


def from_settings(
    hub: str,
    connection_setting: str,
    ca_bundle: str | None,
    credential: Callable[[], Any],
    blob_endpoint: str = "https://{account}.blob.core.windows.net",
) -> RunQueue:
    """The queue on the Functions storage, as the Functions host reads that connection: a
    connection string, or identity-based `__blobServiceUri` or `__accountName` (whose
    blob endpoint follows IMAGEFACTORY_BLOB_ENDPOINT)."""
    options = tls_options(ca_bundle)
    connection = os.environ.get(connection_setting)
    if connection:
        service = BlobServiceClient.from_connection_string(connection, **options)
    else:
        uri = os.environ.get(f"{connection_setting}__blobServiceUri")
        account = os.environ.get(f"{connection_setting}__accountName")
        if not uri and account:
            uri = blob_endpoint.format(account=account)
        if not uri:
            raise RunQueueError(
                f"no storage for the run queue: set {connection_setting}, "
                f"{connection_setting}__blobServiceUri or {connection_setting}__accountName"
            )
        service = BlobServiceClient(uri, credential=credential(), **options)
    return RunQueue(service.get_container_client(CONTAINER), hub)


@cache
def default(hub: str) -> RunQueue:
    """The queue of the task hub `hub` on this app's Functions storage, built once per
    process. (Apps sharing a storage account have task hubs of their own.)"""
    settings = get_settings()
    return from_settings(
        hub,
        settings.queue_connection,
        settings.ca_bundle,
        clients.credential,
        settings.blob_endpoint,
    )
