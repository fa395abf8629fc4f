"""The run queue's rules (shared/azure/run_queue.py), on its state alone: what waits, what one
take runs, what a retry finds, and that no request is lost or run twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.azure import run_queue
from shared.azure.run_queue import QueueState, Waiting
from shared.planning.plan import Trigger
from shared.run.request import ConfigSourceRef, Finished, RunRequest, run_instance_id

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SOURCE = ConfigSourceRef(kind="git", location="https://git.example/config.git")


def push(commit: str, paths: list[str] | None = None) -> Waiting:
    trigger = Trigger(kind="push", commit=commit, changed_paths=paths or [])
    request = RunRequest(trigger=trigger, source=SOURCE.model_copy(update={"commit": commit}))
    return Waiting(id=run_instance_id(trigger, commit=commit), request=request, at=NOW)


def manual(key: str, *, images: list[str] | None = None, force: bool = False) -> Waiting:
    trigger = Trigger(kind="manual", families=images or [], force=force)
    request = RunRequest(trigger=trigger, source=SOURCE)
    return Waiting(id=run_instance_id(trigger, key=key), request=request, at=NOW)


def no_head(_: RunRequest) -> str | None:
    return None


def test_the_first_request_opens_the_queue_and_later_ones_wait_for_that_coordinator() -> None:
    state = QueueState()
    first = run_queue.enqueue(state, push("a" * 40))
    second = run_queue.enqueue(state, push("b" * 40))
    assert (first.outcome, first.start, first.epoch) == ("queued", True, 1)
    assert (second.outcome, second.start, second.epoch) == ("queued", False, 1)
    assert [w.id for w in state.waiting] == [f"push-{'a' * 40}", f"push-{'b' * 40}"]


def test_waiting_pushes_become_one_run_of_the_newest_head() -> None:
    state = QueueState()
    for commit in ("a", "b", "c"):
        run_queue.enqueue(state, push(commit * 40, [f"images/{commit}.yaml"]))
    taken = run_queue.take(state, "1:0", 1, lambda _: "d" * 40, NOW)
    assert taken.run == f"push-{'d' * 40}" and taken.request is not None
    assert taken.request.trigger.commit == taken.request.source.commit == "d" * 40
    assert taken.request.trigger.changed_paths == [
        "images/a.yaml",
        "images/b.yaml",
        "images/c.yaml",
    ]
    assert state.waiting == [] and state.current == taken.run
    older = state.requests[f"push-{'a' * 40}"]
    assert older.run == taken.run and older.note.startswith(f"superseded: {'a' * 40}")
    # Nothing waits any more: the next take closes the queue.
    run_queue.finish(state, taken.run, True, NOW)
    closing = run_queue.take(state, "1:1", 1, no_head, NOW)
    assert closing.run is None and not state.open
    assert {e.state for e in state.requests.values()} == {"completed"}


def test_without_the_head_the_newest_pushed_commit_stands() -> None:
    state = QueueState()
    run_queue.enqueue(state, push("a" * 40))
    run_queue.enqueue(state, push("b" * 40))
    assert run_queue.take(state, "1:0", 1, no_head, NOW).run == f"push-{'b' * 40}"


def test_a_head_that_was_built_already_runs_nothing_again() -> None:
    state = QueueState()
    run_queue.enqueue(state, push("a" * 40))
    first = run_queue.take(state, "1:0", 1, lambda _: "a" * 40, NOW)
    assert first.run is not None
    run_queue.enqueue(state, push("0" * 40))  # an older commit, delivered late
    run_queue.finish(state, first.run, True, NOW)
    again = run_queue.take(state, "1:1", 1, lambda _: "a" * 40, NOW)
    assert again.run is None and not state.open
    assert state.requests[f"push-{'0' * 40}"].run == first.run


def test_a_take_asked_twice_answers_the_same_and_takes_nothing_more() -> None:
    state = QueueState()
    run_queue.enqueue(state, push("a" * 40))
    first = run_queue.take(state, "1:0", 1, no_head, NOW)
    run_queue.enqueue(state, push("b" * 40))
    repeated = run_queue.take(state, "1:0", 1, no_head, NOW)
    assert repeated == first and [w.id for w in state.waiting] == [f"push-{'b' * 40}"]


def test_a_coordinator_of_an_epoch_that_is_over_takes_nothing() -> None:
    state = QueueState()
    run_queue.enqueue(state, push("a" * 40))
    assert run_queue.take(state, "1:0", 1, no_head, NOW).run is not None
    assert run_queue.take(state, "1:1", 1, no_head, NOW).run is None  # closes epoch 1
    run_queue.enqueue(state, push("b" * 40))  # opens epoch 2
    late = run_queue.take(state, "1:7", 1, no_head, NOW)
    assert late.stale and late.run is None and [w.id for w in state.waiting] == [f"push-{'b' * 40}"]


def test_a_forced_run_waits_for_nothing_and_is_taken_alone() -> None:
    state = QueueState()
    forced = manual("k", images=["win2022-base"], force=True)
    assert run_queue.enqueue(state, forced, exclusive=True).outcome == "queued"
    assert run_queue.enqueue(state, manual("k2", force=True), exclusive=True).outcome == "busy"
    run_queue.enqueue(state, push("a" * 40))
    taken = run_queue.take(state, "1:0", 1, no_head, NOW)
    assert taken.run == forced.id and taken.request == forced.request
    assert [w.id for w in state.waiting] == [f"push-{'a' * 40}"]


def test_manual_runs_of_some_images_join_into_one_and_a_full_run_covers_them() -> None:
    state = QueueState()
    run_queue.enqueue(state, manual("1", images=["a"]))
    run_queue.enqueue(state, manual("2", images=["b"]))
    taken = run_queue.take(state, "1:0", 1, no_head, NOW)
    assert taken.request is not None and taken.request.trigger.families == ["a", "b"]
    state = QueueState()
    run_queue.enqueue(state, manual("1", images=["a"]))
    run_queue.enqueue(state, push("c" * 40))
    taken = run_queue.take(state, "1:0", 1, no_head, NOW)
    assert taken.request is not None and taken.request.trigger.kind == "push"
    assert taken.request.trigger.families == []


def test_a_known_request_is_found_until_a_day_after_its_run_ended() -> None:
    state = QueueState()
    request = manual("retry-key")
    run_queue.enqueue(state, request)
    taken = run_queue.take(state, "1:0", 1, no_head, NOW)
    run_queue.finish(state, str(taken.run), True, NOW)
    run_queue.take(state, "1:1", 1, no_head, NOW)
    later = request.model_copy(update={"at": NOW + timedelta(hours=23)})
    found = run_queue.enqueue(state, later)
    assert found.outcome == "known" and found.entry is not None
    assert (found.entry.run, found.entry.state) == (request.id, "completed")
    forgotten = request.model_copy(update={"at": NOW + timedelta(hours=25)})
    assert run_queue.enqueue(state, forgotten).outcome == "queued"


def test_a_failed_push_run_may_run_again_when_redelivered() -> None:
    state = QueueState()
    run_queue.enqueue(state, push("a" * 40))
    taken = run_queue.take(state, "1:0", 1, no_head, NOW)
    run_queue.finish(state, str(taken.run), False, NOW)
    run_queue.take(state, "1:1", 1, no_head, NOW)
    assert run_queue.enqueue(state, push("a" * 40)).outcome == "known"
    assert run_queue.enqueue(state, push("a" * 40), retry=True).outcome == "queued"
    assert run_queue.take(state, "2:0", 2, no_head, NOW).run == taken.run


# Any interleaving of requests and takes: nothing lost, nothing run twice ---------------

Step = tuple[str, int]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("push"), st.integers(0, 6)),
            st.tuples(st.just("manual"), st.integers(0, 3)),
            st.tuples(st.just("take"), st.integers(0, 1)),
            st.tuples(st.just("lose"), st.just(0)),
        ),
        max_size=40,
    )
)
def test_every_request_is_covered_by_exactly_one_run_and_runs_never_overlap(
    steps: list[Step],
) -> None:
    state = QueueState()
    step = 0
    epoch = 0
    running: str | None = None
    started: list[str] = []
    completed: list[str] = []
    head = -1  # the branch head moves forward with every push

    def take() -> None:
        nonlocal step, running
        step += 1
        taken = run_queue.take(state, f"{epoch}:{step}", epoch, lambda _: f"{head:040x}", NOW)
        running = taken.run
        if taken.run is not None:
            started.append(taken.run)

    for kind, value in steps:
        if kind == "lose":  # the coordinator stops after its take; the next one is told
            if running is not None:
                missing = Finished(run=running, ok=False, missing=True)
                run_queue.ended(state, missing, NOW)
                running = None
                take()
            continue
        if kind == "take":
            if running is not None:  # the coordinator's run ends; it takes again
                run_queue.finish(state, running, bool(value), NOW)
                completed += [running] if value else []
                running = None
            if state.open:
                take()
            continue
        if kind == "push":
            head = max(head, value)
            item = push(f"{value:040x}")
        else:
            item = manual(str(value), images=["a"] if value % 2 else [])
        outcome = run_queue.enqueue(state, item)
        if outcome.start:
            epoch = outcome.epoch
            assert running is None, "a new epoch opened while a run was going"
    # Drain: the coordinator runs until the queue closes.
    for _ in range(100):
        if running is not None:
            run_queue.finish(state, running, True, NOW)
            completed.append(running)
            running = None
        if not state.open:
            break
        take()
    assert not state.open and not state.waiting
    # A run id starts again only after its run failed (a push of the branch asks for the
    # head again); a run that completed is never started a second time.
    assert len(completed) == len(set(completed)), completed
    for rid, entry in state.requests.items():
        assert entry.state in ("completed", "failed"), (rid, entry)
        assert entry.run in started, (rid, entry)
    if head >= 0:  # the newest head was built
        assert f"push-{head:040x}" in started


def test_a_run_taken_but_never_started_is_taken_again_as_it_was() -> None:
    """The coordinator stopped between its take and the start of the run: the next one
    is told the run is missing, and takes that run again first, with its requests."""
    state = QueueState()
    run_queue.enqueue(state, push("a" * 40))
    run_queue.enqueue(state, push("b" * 40))
    lost = run_queue.take(state, "1:0", 1, lambda _: "b" * 40, NOW)
    run_queue.enqueue(state, manual("later", images=["x"]))
    run_queue.ended(state, Finished(run=str(lost.run), ok=False, missing=True), NOW)
    again = run_queue.take(state, "1:99", 1, lambda _: "c" * 40, NOW)
    assert (again.run, again.request) == (lost.run, lost.request)
    assert [w.id for w in state.waiting] == [manual("later", images=["x"]).id]
    run_queue.finish(state, str(again.run), True, NOW)
    assert state.requests[f"push-{'a' * 40}"].state == "completed"
    # A run that did start and failed is recorded as failed, not taken again.
    failed = run_queue.take(state, "1:100", 1, no_head, NOW)
    run_queue.ended(state, Finished(run=str(failed.run), ok=False), NOW)
    assert state.requests[str(failed.run)].state == "failed"
