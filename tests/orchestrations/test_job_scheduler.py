"""The run's job scheduler over random job graphs (hypothesis), and over real plans.

Every job runs once, after what it needs, within the limits; failures block exactly the
jobs that depend on them; ready jobs start longest-chain first and no slot idles while a
ready job waits for it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrations.job_scheduler import (
    Estimates,
    JobId,
    JobSpec,
    Kind,
    Limits,
    Pool,
    Scheduler,
    jobs_of,
)
from shared.planning import catalog
from shared.planning.inventory import CatalogEntry
from shared.planning.plan import Build, BuildReason, Trigger
from shared.planning.planner import plan as make_plan
from tests import factories as f

GROUPS = ["sub-a", "sub-b", "sub-c"]
FAMILIES = ["standarddsv5family", "standardbsfamily", ""]  # "": a size of unknown family


@st.composite
def graphs(draw: st.DrawFn) -> list[JobSpec]:
    """A random DAG: each job needs up to three earlier ones."""
    count = draw(st.integers(min_value=0, max_value=24))
    specs: list[JobSpec] = []
    for index in range(count):
        pool = draw(st.sampled_from([Pool.BUILDS, Pool.COPIES]))
        kind = Kind.BUILD if pool is Pool.BUILDS else Kind.DISTRIBUTE
        job = JobId(kind, f"f{index:02d}", "v1", "" if kind is Kind.BUILD else f"lab{index}")
        earlier = [s.id for s in specs]
        needs = draw(st.lists(st.sampled_from(earlier), max_size=3, unique=True)) if earlier else []
        group = draw(st.sampled_from(GROUPS)) if pool is Pool.COPIES else ""
        minutes = draw(st.floats(min_value=0, max_value=300, allow_nan=False))
        width = draw(st.integers(min_value=1, max_value=4)) if pool is Pool.COPIES else 1
        vms = draw(st.integers(min_value=1, max_value=2)) if pool is Pool.BUILDS else 0
        vcpus = vms * draw(st.sampled_from([2, 4, 8, 16])) if pool is Pool.BUILDS else 0
        family = draw(st.sampled_from(FAMILIES)) if pool is Pool.BUILDS else ""
        specs.append(JobSpec(job, pool, tuple(needs), group, minutes, width, vms, vcpus, family))
    return specs


limits = st.builds(
    Limits,
    builds=st.integers(min_value=1, max_value=4),
    copies=st.integers(min_value=1, max_value=6),
    copies_per_subscription=st.integers(min_value=1, max_value=4),
    vms=st.none() | st.integers(min_value=-1, max_value=6),
    vcpus=st.none() | st.integers(min_value=0, max_value=40),
    family_vcpus=st.dictionaries(
        st.sampled_from(FAMILIES[:2]), st.integers(min_value=0, max_value=24), max_size=2
    ),
)


def _by_family(builds: list[JobSpec]) -> Counter[str]:
    return Counter({f: sum(s.vcpus for s in builds if s.family == f) for f in FAMILIES})


@dataclass
class Trace:
    started: list[JobId] = field(default_factory=list)
    released: dict[JobId, bool] = field(default_factory=dict)
    finished: set[JobId] = field(default_factory=set)
    blocked: set[JobId] = field(default_factory=set)
    takes: list[list[JobId]] = field(default_factory=list)
    events: list[tuple[str, JobId, bool]] = field(default_factory=list)


def _simulate(
    specs: list[JobSpec], limit: Limits, failing: set[JobId], data: st.DataObject
) -> tuple[Scheduler, Trace]:
    """Run the scheduler to the end, the order of events drawn by hypothesis."""
    by_id = {s.id: s for s in specs}
    scheduler = Scheduler(specs, limit)
    trace = Trace()
    while not scheduler.done:
        taken = scheduler.take()
        trace.takes.append(taken)
        for job in taken:
            assert job not in trace.started, f"{job} started twice"
            assert all(trace.released.get(n) is True for n in by_id[job].needs), job
            trace.started.append(job)
        running = [j for j in trace.started if j not in trace.finished]
        for job in taken:
            assert 1 <= scheduler.slots(job) <= by_id[job].width
        _assert_within(limit, [(by_id[j], scheduler.slots(j)) for j in running])
        _assert_no_idle_slot(scheduler, limit, by_id, trace, running)
        events = [("release", j) for j in running if j not in trace.released]
        events += [("finish", j) for j in running if j in trace.released]
        assert events, "nothing runs, yet the scheduler is not done"
        event, job = data.draw(st.sampled_from(events))
        trace.events.append((event, job, job not in failing))
        if event == "release":
            ok = job not in failing
            trace.released[job] = ok
            if by_id[job].pool is Pool.COPIES:
                trace.blocked.update(scheduler.complete(job, ok))
                trace.finished.add(job)
            else:
                trace.blocked.update(scheduler.release(job, ok))
        else:
            scheduler.finish(job)
            trace.finished.add(job)
    return scheduler, trace


def _assert_within(limit: Limits, running: list[tuple[JobSpec, int]]) -> None:
    pools: Counter[Pool] = Counter()
    groups: Counter[str] = Counter()
    for spec, slots in running:
        pools[spec.pool] += slots
        if spec.pool is Pool.COPIES:
            groups[spec.group] += slots
    assert pools[Pool.BUILDS] <= limit.builds
    assert pools[Pool.COPIES] <= limit.copies
    assert all(n <= limit.copies_per_subscription for n in groups.values()), groups
    # Azure's limits: never over the lab's VM room nor the region's or a VM family's free
    # vCPUs, except one build alone that needs more than Azure leaves at all (Azure then
    # decides).
    builds = [spec for spec, _ in running if spec.pool is Pool.BUILDS]
    vms, vcpus = sum(s.vms for s in builds), sum(s.vcpus for s in builds)
    assert limit.fits(vms, vcpus) or len(builds) <= 1, (vms, vcpus, limit)
    # A family over its room holds one build at most (one that started alone).
    for family, used in _by_family(builds).items():
        members = [s for s in builds if s.family == family]
        assert limit.fits(0, 0, family, used) or len(members) <= 1, (family, used, limit)


def _assert_no_idle_slot(
    scheduler: Scheduler,
    limit: Limits,
    by_id: dict[JobId, JobSpec],
    trace: Trace,
    running: list[JobId],
) -> None:
    """A ready job waits only for a full pool or a full subscription; and it never waits
    while a job with a shorter chain ahead of it took a slot in the same take."""
    pools: Counter[Pool] = Counter()
    groups: Counter[str] = Counter()
    for j in running:
        pools[by_id[j].pool] += scheduler.slots(j)
        if by_id[j].pool is Pool.COPIES:
            groups[by_id[j].group] += scheduler.slots(j)
    last = trace.takes[-1]
    for job in scheduler.waiting:
        spec = by_id[job]
        if not all(trace.released.get(n) is True for n in spec.needs):
            continue
        full = pools[spec.pool] >= (limit.builds if spec.pool is Pool.BUILDS else limit.copies)
        group_full = (
            spec.pool is Pool.COPIES and groups[spec.group] >= limit.copies_per_subscription
        )
        held = [by_id[j] for j in running if by_id[j].pool is Pool.BUILDS]
        no_room = (
            spec.pool is Pool.BUILDS
            and bool(held)
            and not limit.fits(
                sum(s.vms for s in held) + spec.vms,
                sum(s.vcpus for s in held) + spec.vcpus,
                spec.family,
                _by_family([*held, spec])[spec.family],
            )
        )
        assert full or group_full or no_room, f"{job} is ready and a slot is free"
        if not group_full and not no_room:
            for other in last:
                if by_id[other].pool is spec.pool:
                    assert scheduler.remaining_minutes(other) >= scheduler.remaining_minutes(job)


def _failing(specs: list[JobSpec], data: st.DataObject) -> set[JobId]:
    """Which jobs fail when they run, drawn by hypothesis."""
    ids = [s.id for s in specs]
    return set(data.draw(st.lists(st.sampled_from(ids), unique=True))) if ids else set()


def _dependents_of(specs: list[JobSpec], failing: set[JobId]) -> set[JobId]:
    """What a failure blocks, computed the plain way: a job needing a failed or blocked job."""
    blocked: set[JobId] = set()
    for spec in specs:  # the strategy puts every need before its dependent
        if any(n in failing or n in blocked for n in spec.needs):
            blocked.add(spec.id)
    return blocked


@settings(max_examples=150, deadline=None)
@given(specs=graphs(), limit=limits, data=st.data())
def test_every_job_runs_once_after_its_needs_within_the_limits(
    specs: list[JobSpec], limit: Limits, data: st.DataObject
) -> None:
    failing = _failing(specs, data)
    scheduler, trace = _simulate(specs, limit, failing, data)

    blocked = _dependents_of(specs, failing)
    # A failed job that was blocked itself never ran, so it never failed.
    blocked_by_run = _dependents_of(specs, failing - blocked)
    assert trace.blocked == blocked_by_run
    assert set(trace.started) == {s.id for s in specs} - trace.blocked
    assert len(trace.started) == len(set(trace.started))
    assert trace.finished == set(trace.started)
    for job in trace.blocked:
        cause = scheduler.cause(job)
        assert cause in {n for n in next(s for s in specs if s.id == job).needs}
        assert cause in trace.blocked or trace.released.get(cause) is False


@settings(max_examples=60, deadline=None)
@given(specs=graphs(), limit=limits, data=st.data())
def test_the_same_events_give_the_same_decisions(
    specs: list[JobSpec], limit: Limits, data: st.DataObject
) -> None:
    """Replay: a fresh scheduler fed the same events takes the same jobs, in the same order."""
    by_id = {s.id: s for s in specs}
    failing = _failing(specs, data)
    _, trace = _simulate(specs, limit, failing, data)
    again = Scheduler(specs, limit)
    takes = [again.take()]
    for event, job, ok in trace.events:
        if event == "finish":
            again.finish(job)
        elif by_id[job].pool is Pool.COPIES:
            again.complete(job, ok)
        else:
            again.release(job, ok)
        takes.append(again.take())
    assert takes == [*trace.takes, []]
    assert again.done


def test_the_longest_chain_starts_first() -> None:
    """One build slot: the build whose chain (itself, its child) is longest goes first."""
    a, b, child = (JobId(Kind.BUILD, n, "v") for n in ("a", "b", "child"))
    specs = [
        JobSpec(a, Pool.BUILDS, minutes=60),
        JobSpec(b, Pool.BUILDS, minutes=100),
        JobSpec(child, Pool.BUILDS, (a,), minutes=60),
    ]
    scheduler = Scheduler(specs, Limits(builds=1, copies=1, copies_per_subscription=1))
    assert scheduler.take() == [a]  # 120 minutes ahead of it, against b's 100
    scheduler.release(a, True)
    assert scheduler.take() == []  # a's VM still holds the slot
    scheduler.finish(a)
    assert scheduler.take() == [b]  # now b's 100 minutes against the child's 60


def test_a_released_build_frees_its_dependents_before_its_vm_is_gone() -> None:
    build = JobId(Kind.BUILD, "a", "v")
    copy = JobId(Kind.DISTRIBUTE, "a", "v", "lab")
    scheduler = Scheduler(
        [JobSpec(build, Pool.BUILDS), JobSpec(copy, Pool.COPIES, (build,), "s")],
        Limits(builds=1, copies=1, copies_per_subscription=1),
    )
    assert scheduler.take() == [build]
    scheduler.release(build, True)
    assert scheduler.take() == [copy]
    assert scheduler.running == [build, copy]
    scheduler.complete(copy, True)
    assert not scheduler.done
    scheduler.finish(build)
    assert scheduler.done


def test_misuse_is_refused() -> None:
    job = JobId(Kind.BUILD, "a", "v")
    with pytest.raises(ValueError, match="not a job of this run"):
        Scheduler([JobSpec(job, Pool.BUILDS, (JobId(Kind.BUILD, "x", "v"),))], Limits(1, 1, 1))
    with pytest.raises(ValueError, match="cycle"):
        Scheduler([JobSpec(job, Pool.BUILDS, (job,))], Limits(1, 1, 1))
    with pytest.raises(ValueError, match="at least one"):
        Limits(0, 1, 1)
    scheduler = Scheduler([JobSpec(job, Pool.BUILDS)], Limits(1, 1, 1))
    with pytest.raises(ValueError, match="not running"):
        scheduler.release(job, True)
    scheduler.take()
    with pytest.raises(ValueError, match="not released"):
        scheduler.finish(job)


def _layered_plan() -> tuple[list[JobSpec], dict[str, JobId]]:
    config = f.factory(
        {"base": f.gallery(), "child": f.layered("base"), "other": f.gallery("s2")},
        {"dev": 'images: ["*"]\n', "qa": "images: [base]\n"},
    )
    plan = make_plan(config, f.inventory([]), f.NOW, Trigger())
    specs = jobs_of(plan, f.FACTORY_LAB, Estimates(per_family={"other": 500}))
    names = {
        f"{s.id.kind}:{s.id.family}:{s.id.lab.rsplit('/', 1)[-1] if s.id.lab else ''}": s.id
        for s in specs
    }
    return specs, names


def test_a_plan_becomes_jobs_with_their_dependencies() -> None:
    specs, ids = _layered_plan()
    assert set(ids) == {
        "build:base:",
        "build:child:",
        "build:other:",
        "distribute:base:factory",
        "distribute to labs:base:",
        "distribute to labs:child:",
        "distribute to labs:other:",
    }
    needs = {s.id: s.needs for s in specs}
    feed = ids["distribute:base:factory"]
    assert needs[ids["build:child:"]] == (feed,)  # its parent's image in the factory lab
    assert needs[feed] == (ids["build:base:"],)
    assert needs[ids["distribute to labs:child:"]] == (ids["build:child:"],)
    assert needs[ids["build:base:"]] == () and needs[ids["build:other:"]] == ()
    by_id = {s.id: s for s in specs}
    assert by_id[ids["build:other:"]].minutes == 500
    assert by_id[feed].group == f.SUB_A.lower()
    # base goes to dev and qa, both in one subscription: one batch that can use two slots.
    batch = by_id[ids["distribute to labs:base:"]]
    assert batch.width == 2 and batch.id.subscription == f.SUB_A.lower()
    scheduler = Scheduler(specs, Limits(builds=1, copies=2, copies_per_subscription=2))
    # 'other' is estimated at 500 minutes: its chain is longer than base -> copy -> child.
    assert scheduler.take() == [ids["build:other:"]]


def test_a_batch_gets_the_slots_that_are_free() -> None:
    specs, ids = _layered_plan()
    scheduler = Scheduler(specs, Limits(builds=4, copies=3, copies_per_subscription=3))
    scheduler.take()
    scheduler.release(ids["build:base:"], True)
    feed, batch = ids["distribute:base:factory"], ids["distribute to labs:base:"]
    assert scheduler.take() == [feed, batch]  # the feed's chain (the child) is longer
    assert (scheduler.slots(feed), scheduler.slots(batch)) == (1, 2)
    scheduler.release(ids["build:other:"], True)
    assert scheduler.take() == []  # three copy slots are in use
    scheduler.complete(feed, True)
    assert scheduler.take() == [ids["build:child:"], ids["distribute to labs:other:"]]
    assert scheduler.slots(ids["distribute to labs:other:"]) == 1


def test_a_failed_parent_blocks_only_its_line() -> None:
    specs, ids = _layered_plan()
    scheduler = Scheduler(specs, Limits(builds=4, copies=4, copies_per_subscription=4))
    started = scheduler.take()
    assert set(started) == {ids["build:base:"], ids["build:other:"]}
    blocked = scheduler.release(ids["build:base:"], False)
    assert blocked == [
        ids["distribute:base:factory"],
        ids["distribute to labs:base:"],
        ids["build:child:"],
        ids["distribute to labs:child:"],
    ]
    assert scheduler.cause(ids["distribute to labs:child:"]) == ids["build:child:"]
    scheduler.finish(ids["build:base:"])
    scheduler.release(ids["build:other:"], True)
    assert scheduler.take() == [ids["distribute to labs:other:"]]


def test_learned_durations_order_the_next_run() -> None:
    """A family's recorded build time replaces the default; the newest recording counts,
    and a scaled run's minutes are read back in configured minutes."""
    config = f.factory({"base": f.gallery(), "other": f.gallery("s2")}, {})
    early = f.built(config, "base", f.NOW - timedelta(days=2))
    late = f.built(config, "base", f.NOW - timedelta(days=1))
    blob_early = catalog.metadata(_build(early), f.FACTORY_ID, None, early.created, 0.5)
    blob_late = catalog.metadata(_build(late), f.FACTORY_ID, None, late.created, 0.25)
    entries = [catalog.entry(m, f.FACTORY_ID) for m in (blob_early, blob_late)]
    unrecorded = f.built(config, "other", f.NOW)
    estimates = Estimates.learned([e for e in entries if e] + [unrecorded], time_scale=1 / 600)
    assert estimates.per_family == {"base": 150.0}
    assert estimates.of_build("other") == Estimates().build
    bad = {**blob_late, "buildminutes": "NaN"}
    assert catalog.entry(bad, f.FACTORY_ID).build_minutes is None  # type: ignore[union-attr]


def _build(entry: CatalogEntry) -> Build:
    return Build(
        family=entry.family,
        version=entry.version,
        build_id=f"{entry.family}-{entry.version}",
        definition_hash=entry.definition_hash,
        base=entry.base,
        wave=1,
        reason=BuildReason.NEW,
        vm_name="vm-000000",
    )
