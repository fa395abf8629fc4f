"""Starting a run from any trigger: the request goes into the run queue, and the
coordinator that runs the queue one run at a time is started when none serves it.

`submit` records the request first (`shared.azure.run_queue.enqueue`, one compare-and-swap),
then makes sure a coordinator serves the queue's current epoch (`ensure_coordinator`):
a request recorded while the queue is open is taken by that epoch's coordinator before
it may close; one recorded while it was closed opened a new epoch, and the coordinator
for it is started here. A coordinator of an earlier epoch may still be finishing (its
last take closed the queue, it has yet to complete): the start then answers that the
instance exists, and is tried again until it is through.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.azure import run_queue
from shared.azure.run_queue import Enqueued, RunQueue, Waiting
from shared.function_names import FACTORY_RUN, RUN_COORDINATOR
from shared.run.request import COORDINATOR_ID, GOING, Finished, RunRequest, TakeRequest
from shared.telemetry import run_scope

log = logging.getLogger(__name__)

ACTIVE = {df.OrchestrationRuntimeStatus(name) for name in GOING}
FINISHING_WAIT_SECONDS = 60.0  # a coordinator that closed the queue completes within this


def hub_of(client: df.DurableOrchestrationClient) -> str:
    """The client's task hub (the binding carries it; the client has no public accessor)."""
    return str(client._orchestration_bindings.task_hub_name)


async def is_active(client: df.DurableOrchestrationClient, instance_id: str) -> bool:
    status = await client.get_status(instance_id)
    return status is not None and status.runtime_status in ACTIVE


async def submit(
    client: df.DurableOrchestrationClient,
    run: RunRequest,
    request_id: str,
    *,
    exclusive: bool = False,
    retry: bool = False,
    note: str = "",
    queue: RunQueue | None = None,
) -> Enqueued:
    """Record the request `request_id` in the run queue and see that it will be run."""
    queue = queue or run_queue.default(hub_of(client))
    item = Waiting(id=request_id, request=run, at=datetime.now(UTC), note=note)
    ended: str | None = None
    if exclusive:  # a run that just ended counts as over before the coordinator records it
        current = (await asyncio.to_thread(queue.read)).current
        if current is not None and not await is_active(client, current):
            ended = current
    with run_scope(request_id):
        outcome: Enqueued = await asyncio.to_thread(
            queue.update,
            lambda state: run_queue.enqueue(
                state, item, exclusive=exclusive, retry=retry, ended=ended
            ),
        )
        log.info(
            "request %s: %s%s",
            request_id,
            outcome.outcome,
            f" behind {outcome.behind}" if outcome.behind else "",
        )
    if outcome.outcome == "queued":
        await ensure_coordinator(client, queue)
    return outcome


async def ensure_coordinator(client: df.DurableOrchestrationClient, queue: RunQueue) -> None:
    """Return once a coordinator serves the queue's current epoch (or the queue is closed:
    then everything recorded was taken)."""
    deadline = time.monotonic() + FINISHING_WAIT_SECONDS
    while time.monotonic() < deadline:
        state = await asyncio.to_thread(queue.read)
        if not state.open:
            return
        status = await client.get_status(COORDINATOR_ID, show_input=True)
        if status is not None and status.runtime_status in ACTIVE:
            if _epoch(status.input_) == state.epoch:
                return
            await asyncio.sleep(0.2)  # an earlier epoch's coordinator is completing
            continue
        finished: Finished | None = None
        if state.current is not None:
            # The coordinator stopped (failed, or was terminated) during a run: the next
            # one starts only once that run is over, and records how it ended.
            run = await client.get_status(state.current)
            if run is not None and run.runtime_status in ACTIVE:
                log.warning(
                    "run %s of a stopped coordinator is still going; the queue waits for it",
                    state.current,
                )
                return
            missing = run is None or run.runtime_status is None
            ok = not missing and run.runtime_status == df.OrchestrationRuntimeStatus.Completed
            finished = Finished(run=state.current, ok=ok, missing=missing)
        # A step of its own: a take never repeats an earlier coordinator's answer.
        ask = TakeRequest(
            hub=hub_of(client),
            epoch=state.epoch,
            step=time.time_ns() // 1000,
            finished=finished,
        )
        try:
            await client.start_new(RUN_COORDINATOR, COORDINATOR_ID, ask.model_dump(mode="json"))
            log.info("run coordinator started for queue epoch %s", state.epoch)
            return
        except Exception as exc:  # the SDK raises the Durable API's answer as is
            if "already exists" not in str(exc):
                raise
    log.warning("the run coordinator did not start in time; the next trigger starts it")


def _epoch(value: Any) -> int | None:
    """The queue epoch in a coordinator's input (the SDK may hand it JSON-encoded)."""
    for _ in range(2):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
    epoch = value.get("epoch") if isinstance(value, dict) else None
    return epoch if isinstance(epoch, int) else None


async def start_run(
    client: df.DurableOrchestrationClient,
    request: func.HttpRequest,
    run: RunRequest,
    instance_id: str,
    *,
    with_links: bool = True,
) -> func.HttpResponse:
    """Start `factory_run` at once, outside the queue (a dry run changes nothing), unless
    an instance with that id exists: a run's record is never replaced."""
    started = False
    with run_scope(instance_id):
        if not await exists(client, instance_id):
            await client.start_new(FACTORY_RUN, instance_id, run.model_dump(mode="json"))
            started = True
        log.info("run %s %s", instance_id, "started" if started else "exists already")
    body: dict[str, object] = {"id": instance_id, "started": started}
    return answer(client, request, body, 202 if started else 200, with_links=with_links)


async def exists(client: df.DurableOrchestrationClient, instance_id: str) -> bool:
    status = await client.get_status(instance_id)
    return status is not None and status.runtime_status is not None


def answer(
    client: df.DurableOrchestrationClient,
    request: func.HttpRequest,
    body: dict[str, object],
    status: int,
    *,
    with_links: bool,
) -> func.HttpResponse:
    """A JSON answer about run `body["id"]`.

    `with_links` adds the Durable status URLs (and `Location`). They carry the Durable
    extension's system key, so only callers that authenticated with a function key get
    them; webhook deliveries, which providers store and show, do not.
    """
    headers: dict[str, str] = {}
    if with_links:
        urls = client.get_client_response_links(request, str(body["id"]))
        body = {**body, **urls}
        headers["Location"] = urls["statusQueryGetUri"]
    return func.HttpResponse(
        json.dumps(body), status_code=status, mimetype="application/json", headers=headers
    )


def queued_body(outcome: Enqueued) -> dict[str, object]:
    """The answer to a request the run queue recorded now, or already knew."""
    if outcome.outcome == "known" and outcome.entry is not None:
        entry = outcome.entry
        return {
            "id": outcome.id,
            "started": False,
            "run": entry.run,
            "runtimeStatus": STATE_STATUS[entry.state],
        }
    return {
        "id": outcome.id,
        "started": True,
        "queued": outcome.behind is not None or not outcome.start,
        "behind": outcome.behind,
    }


STATE_STATUS = {
    "waiting": "Pending",
    "running": "Running",
    "completed": "Completed",
    "failed": "Failed",
}
