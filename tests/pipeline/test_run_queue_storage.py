"""The run queue's storage against Azurite: concurrent writers never lose a change.

Forty triggers record their requests at once while a coordinator takes and finishes
runs; every change is a compare-and-swap on the blob's ETag, so each request ends up
covered by a run, and no run is taken twice.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from azure.storage.blob import BlobServiceClient

from emulator.azurite import DEFAULT_ACCOUNT
from shared.azure import run_queue
from shared.azure.credential import LocalTokenCredential
from shared.azure.run_queue import QueueState, RunQueue, Waiting
from shared.planning.plan import Trigger
from shared.run.request import ConfigSourceRef, RunRequest, Take, run_instance_id
from tests.pipeline.conftest import World

SOURCE = ConfigSourceRef(kind="git", location="https://git.example/config.git")


def queue_of(world: World) -> RunQueue:
    service = BlobServiceClient.from_connection_string(
        world.queue_connection, connection_verify=world.info.ca_file
    )
    container = service.get_container_client(f"runs-{uuid.uuid4().hex[:12]}")
    return RunQueue(container, "TestHub")


def push(n: int) -> Waiting:
    commit = f"{n:040x}"
    trigger = Trigger(kind="push", commit=commit)
    request = RunRequest(trigger=trigger, source=SOURCE.model_copy(update={"commit": commit}))
    return Waiting(
        id=run_instance_id(trigger, commit=commit), request=request, at=datetime.now(UTC)
    )


def test_concurrent_requests_and_takes_lose_nothing(example_world: World) -> None:
    queue = queue_of(example_world)
    done = threading.Event()
    taken: list[str] = []
    step = 0

    def coordinator() -> None:
        nonlocal step
        running: str | None = None
        while True:
            finished = running

            def change(state: QueueState, finished: str | None = finished, at: int = step) -> Take:
                now = datetime.now(UTC)
                if finished is not None:
                    run_queue.finish(state, finished, True, now)
                return run_queue.take(
                    state, f"{state.epoch}:{at}", state.epoch, lambda _: None, now
                )

            step += 1
            result: Take = queue.update(change)
            running = result.run
            if running is not None:
                taken.append(running)
            elif done.is_set() and not queue.read().open:
                return
            else:
                time.sleep(0.01)

    worker = threading.Thread(target=coordinator)
    worker.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(
            pool.map(
                lambda n: queue.update(lambda state: run_queue.enqueue(state, push(n))), range(40)
            )
        )
    done.set()
    worker.join(timeout=120)
    assert not worker.is_alive()

    state = queue.read()
    assert all(o.outcome == "queued" for o in outcomes)
    assert not state.open and not state.waiting
    assert len(state.requests) >= 40
    for n in range(40):
        entry = state.requests[push(n).id]
        assert entry.state == "completed" and entry.run in taken, (n, entry)
    assert len(taken) == len(set(taken)), taken


def test_an_identity_based_storage_connection_is_read_as_the_host_reads_it(
    example_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`<connection>__accountName` (what the deploy template sets) with the factory's own
    identity: the blob endpoint follows IMAGEFACTORY_BLOB_ENDPOINT."""
    info = example_world.info
    endpoint = f"https://127.0.0.1:{info.blob_port}/{{account}}"
    monkeypatch.setenv("RunQueueTest__accountName", DEFAULT_ACCOUNT)
    queue = run_queue.from_settings(
        "IdentityHub", "RunQueueTest", info.ca_file, LocalTokenCredential, endpoint
    )
    outcome = queue.update(lambda state: run_queue.enqueue(state, push(7)))
    assert outcome.outcome == "queued"
    assert [w.id for w in queue.read().waiting][-1] == push(7).id
    monkeypatch.delenv("RunQueueTest__accountName")
    with pytest.raises(run_queue.RunQueueError, match="no storage for the run queue: set Run"):
        run_queue.from_settings("IdentityHub", "RunQueueTest", None, LocalTokenCredential)
