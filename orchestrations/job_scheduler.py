"""The run's job scheduler: which build and which copy starts next. Pure and deterministic.

A run's work is a graph of jobs: build F; distribute F to lab L (a copy into the factory
lab is one of them, and a layered child's build needs it). A job is ready when every job
it needs has released a good result: a child's build right after its parent's image is in
the factory lab, F's distributions right after F is captured, gated and labelled. Ready
jobs start in critical-path order (the longest chain of estimated minutes still ahead
first), within the run's limits: builds, copies, and copies per subscription, and what
Azure allows the factory lab: the VMs its MaxVmsAllowedPerLab policy leaves room for and
the vCPUs its region's quota leaves free (each build counts its VMs and their vCPUs).
A build that needs more than Azure leaves at all starts alone, when no other build holds
a VM: Azure then refuses or allows it, and a refusal is waited out, not a failure.

A build has two events. *Released*: its image is ready (or its failure is known), so its
dependents may start or are blocked. *Finished*: its build VM is confirmed gone, so its
build slot is free. A copy is released and finished at once.

A failed job blocks exactly the jobs that need it, directly or through another blocked
job; nothing else waits for it. The scheduler holds no clock and no randomness: the same
events in the same order give the same decisions, which is what replay needs.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from shared.model.arm_ids import parse_lab_id
from shared.planning.inventory import CatalogEntry
from shared.planning.plan import Distribution, Plan


class Kind(StrEnum):
    BUILD = "build"
    DISTRIBUTE = "distribute"  # one version to one lab: a copy into the factory lab
    BATCH = "distribute to labs"  # one version to a subscription's other labs


class Pool(StrEnum):
    """The limit a job's slot counts against."""

    BUILDS = "builds"
    COPIES = "copies"


@dataclass(frozen=True, order=True)
class JobId:
    """A build, the distribution of one version to one lab (`lab`), or a batch: its
    distributions to the labs of one subscription (`subscription`)."""

    kind: Kind
    family: str
    version: str
    lab: str = ""
    subscription: str = ""

    def __str__(self) -> str:
        where = self.lab.rsplit("/", 1)[-1] or self.subscription
        return f"{self.kind} {self.family} {self.version}" + (f" to {where}" if where else "")


@dataclass(frozen=True)
class JobSpec:
    id: JobId
    pool: Pool
    needs: tuple[JobId, ...] = ()
    group: str = ""  # copies: the target's subscription, for the per-subscription limit
    minutes: float = 0.0  # the job's estimated duration
    width: int = 1  # the most slots it can use at once (a batch: one per lab)
    vms: int = 0  # a build: the lab VMs it holds at once (its build VM, a test VM)
    vcpus: int = 0  # a build: their vCPUs
    family: str = ""  # a build: their VM family ("" unknown), whose quota they count against


@dataclass(frozen=True)
class Limits:
    builds: int
    copies: int
    copies_per_subscription: int
    vms: int | None = None  # lab VMs the factory lab's policy leaves room for; None: no policy
    vcpus: int | None = None  # vCPUs the region's quota leaves free; None: unknown
    # vCPUs each VM family's quota leaves free (lowercase family); a family not named: unknown
    family_vcpus: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if min(self.builds, self.copies, self.copies_per_subscription) < 1:
            raise ValueError("every limit must allow at least one job")

    def fits(self, vms: int, vcpus: int, family: str = "", family_vcpus: int = 0) -> bool:
        """Whether builds holding this many VMs and vCPUs, `family_vcpus` of them of the VM
        family a new build adds to, stay within Azure's limits. Another family's room is
        that family's concern: a build alone over it blocks only its own family."""
        room = self.family_vcpus.get(family)
        return (
            (self.vms is None or vms <= self.vms)
            and (self.vcpus is None or vcpus <= self.vcpus)
            and (room is None or family_vcpus <= room)
        )


@dataclass(frozen=True)
class Estimates:
    """How long steps are expected to take: what a family's last build took, else a default.

    `build` and `copy` are minutes as configured (the critical-path order); `steps` each
    step's seconds as the last build's orchestration clock saw them (the monitors' sleeps).
    A family's copy is estimated from its last capture: the same VHD, copied server-side.
    """

    build: float = 90.0
    copy: float = 20.0
    per_family: Mapping[str, float] = field(default_factory=dict)  # builds, by family
    copies: Mapping[str, float] = field(default_factory=dict)  # copies, by family
    steps: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # by family

    def of_build(self, family: str) -> float:
        return self.per_family.get(family, self.build)

    def of_copy(self, family: str) -> float:
        return self.copies.get(family, self.copy)

    def seconds(self, family: str) -> Mapping[str, float]:
        """The family's last build's seconds per step (StepSeconds' names); empty: unknown."""
        return self.steps.get(family, {})

    @classmethod
    def learned(cls, catalog: Iterable[CatalogEntry], time_scale: float = 1.0) -> Estimates:
        """Each family's newest recorded durations, in configured minutes (a run whose
        timeouts are scaled, as in the local world, records scaled minutes)."""
        newest: dict[str, CatalogEntry] = {}
        for entry in catalog:
            if entry.build_minutes is None:
                continue
            known = newest.get(entry.family)
            if known is None or (entry.created, entry.version) > (known.created, known.version):
                newest[entry.family] = entry
        scale = time_scale if time_scale > 0 else 1.0
        entries = sorted(newest.items())
        return cls(
            per_family={f: (e.build_minutes or 0.0) / scale for f, e in entries},
            copies={
                f: e.step_seconds["disk_copy"] / 60 / scale
                for f, e in entries
                if "disk_copy" in e.step_seconds
            },
            steps={f: dict(e.step_seconds) for f, e in entries if e.step_seconds},
        )


@dataclass(frozen=True)
class Demand:
    """What one build holds in the factory lab while it runs: its VMs and their vCPUs."""

    vms: int = 1
    vcpus: int = 0
    family: str = ""  # their VM family, lowercase ("" unknown)


def jobs_of(
    plan: Plan,
    factory_lab: str,
    estimates: Estimates | None = None,
    demands: Mapping[str, Demand] | None = None,
) -> list[JobSpec]:
    """The plan's builds and distributions as jobs with their dependencies (and each
    build's demand on the factory lab, by family).

    A copy into the factory lab is a job of its own: a layered child needs its parent's
    base version there (else the parent's build, when the plan builds it and copies
    nothing). A version's distributions to other labs are one batch per subscription, so
    no single history holds every copy. A distribution of a version this run builds needs
    that build."""
    estimates = estimates or Estimates()
    demands = demands or {}
    builds = {b.family: JobId(Kind.BUILD, b.family, b.version) for b in plan.builds}
    feeds: dict[tuple[str, str], JobId] = {}
    batches: dict[JobId, list[Distribution]] = {}
    specs: list[JobSpec] = []
    for d in plan.distributions:
        built = (builds[d.family],) if d.after_build and d.family in builds else ()
        group = parse_lab_id(d.lab).subscription.lower()
        if d.lab.lower() == factory_lab.lower():
            job = JobId(Kind.DISTRIBUTE, d.family, d.version, lab=d.lab)
            feeds[(d.family, d.version)] = job
            specs.append(JobSpec(job, Pool.COPIES, built, group, estimates.of_copy(d.family)))
        else:
            batch = JobId(Kind.BATCH, d.family, d.version, subscription=group)
            batches.setdefault(batch, []).append(d)
    for batch, members in batches.items():
        built = (builds[batch.family],) if members[0].after_build and batch.family in builds else ()
        specs.append(
            JobSpec(
                batch,
                Pool.COPIES,
                built,
                batch.subscription,
                estimates.of_copy(batch.family),
                len(members),
            )
        )
    for b in plan.builds:
        needs: tuple[JobId, ...] = ()
        if b.parent:
            base_version = b.base.rsplit("@", 1)[-1]
            feed = feeds.get((b.parent, base_version))
            if feed is not None:
                needs = (feed,)
            elif b.parent in builds:
                needs = (builds[b.parent],)
        demand = demands.get(b.family, Demand())
        specs.append(
            JobSpec(
                builds[b.family],
                Pool.BUILDS,
                needs,
                minutes=estimates.of_build(b.family),
                vms=demand.vms,
                vcpus=demand.vcpus,
                family=demand.family,
            )
        )
    return sorted(specs, key=lambda s: s.id)


def distributions_of(plan: Plan, factory_lab: str, job: JobId) -> list[Distribution]:
    """The plan's distributions a copy or batch job stands for, in the plan's order."""
    found = [d for d in plan.distributions if (d.family, d.version) == (job.family, job.version)]
    if job.kind is Kind.DISTRIBUTE:
        return [d for d in found if d.lab == job.lab]
    if job.kind is Kind.BATCH:
        return [
            d
            for d in found
            if d.lab.lower() != factory_lab.lower()
            and parse_lab_id(d.lab).subscription.lower() == job.subscription
        ]
    return []


class Scheduler:
    """The state of a run's jobs: waiting, running, released, finished or blocked."""

    def __init__(self, jobs: Iterable[JobSpec], limits: Limits) -> None:
        self._specs = {spec.id: spec for spec in jobs}
        self._limits = limits
        for spec in self._specs.values():
            for need in spec.needs:
                if need not in self._specs:
                    raise ValueError(f"{spec.id} needs {need}, which is not a job of this run")
        self._dependents: dict[JobId, list[JobId]] = {job: [] for job in self._specs}
        for spec in self._specs.values():
            for need in dict.fromkeys(spec.needs):
                self._dependents[need].append(spec.id)
        self._rank = self._critical_path()
        self._waiting = set(self._specs)
        # Ready jobs, longest chain first (then by id): what take() starts from.
        self._ready: list[tuple[float, JobId]] = sorted(
            (-self._rank[job], job) for job in self._specs if not self._specs[job].needs
        )
        self._running: set[JobId] = set()  # started and holding its slots
        self._slots: dict[JobId, int] = {}  # what each started job was granted
        self._released: dict[JobId, bool] = {}  # outcome known: good or failed
        self._finished: set[JobId] = set()
        self._blocked: dict[JobId, JobId] = {}  # job -> the needed job that failed or was blocked

    # -- what the orchestrator asks -------------------------------------------------------

    def take(self) -> list[JobId]:
        """The jobs to start now, in critical-path order; they count as running from here,
        each with the slots it was granted (`slots`): as many as it can use and are free."""
        in_pool: Counter[Pool] = Counter()
        in_group: Counter[str] = Counter()
        vms = vcpus = 0
        in_family: Counter[str] = Counter()
        for job in self._running:
            spec = self._specs[job]
            in_pool[spec.pool] += self._slots[job]
            if spec.pool is Pool.COPIES:
                in_group[spec.group] += self._slots[job]
            vms, vcpus = vms + spec.vms, vcpus + spec.vcpus
            in_family[spec.family] += spec.vcpus
        started: list[JobId] = []
        for entry in list(self._ready):
            if all(in_pool[pool] >= self._limit(pool) for pool in Pool):
                break
            job = entry[1]
            spec = self._specs[job]
            free = self._limit(spec.pool) - in_pool[spec.pool]
            if spec.pool is Pool.COPIES:
                free = min(free, self._limits.copies_per_subscription - in_group[spec.group])
            slots = min(free, max(spec.width, 1))
            if slots < 1:
                continue
            if spec.pool is Pool.BUILDS:
                alone = in_pool[Pool.BUILDS] == 0
                if not alone and not self._limits.fits(
                    vms + spec.vms,
                    vcpus + spec.vcpus,
                    spec.family,
                    in_family[spec.family] + spec.vcpus,
                ):
                    continue
                vms, vcpus = vms + spec.vms, vcpus + spec.vcpus
                in_family[spec.family] += spec.vcpus
            if spec.pool is Pool.COPIES:
                in_group[spec.group] += slots
            in_pool[spec.pool] += slots
            self._slots[job] = slots
            self._ready.remove(entry)
            self._waiting.discard(job)
            self._running.add(job)
            started.append(job)
        return started

    def release(self, job: JobId, ok: bool) -> list[JobId]:
        """The job's outcome is known. A failure blocks every job that needs it, directly or
        through a blocked job; those are returned, nearest first."""
        if job not in self._running or job in self._released:
            raise ValueError(f"{job} is not running, or was released already")
        self._released[job] = ok
        if ok:
            for dependent in self._dependents[job]:
                if dependent in self._waiting and self._is_ready(dependent):
                    bisect.insort(self._ready, (-self._rank[dependent], dependent))
            return []
        blocked: list[JobId] = []
        frontier = [job]
        while frontier:
            cause = frontier.pop(0)
            for dependent in sorted(self._dependents[cause]):
                if dependent in self._waiting:
                    self._waiting.discard(dependent)
                    self._blocked[dependent] = cause
                    blocked.append(dependent)
                    frontier.append(dependent)
        return blocked

    def finish(self, job: JobId) -> None:
        """The job holds its slot no longer (a build: its VM is gone)."""
        if job not in self._released or job in self._finished:
            raise ValueError(f"{job} was not released, or has finished already")
        self._running.discard(job)
        self._finished.add(job)

    def complete(self, job: JobId, ok: bool) -> list[JobId]:
        """Released and finished at once (a copy)."""
        blocked = self.release(job, ok)
        self.finish(job)
        return blocked

    # -- what it tells ---------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return not self._waiting and not self._running

    @property
    def running(self) -> list[JobId]:
        return sorted(self._running)

    @property
    def waiting(self) -> list[JobId]:
        return sorted(self._waiting)

    def slots(self, job: JobId) -> int:
        """The slots a started job holds (a batch runs that many copies at once)."""
        return self._slots[job]

    def cause(self, job: JobId) -> JobId | None:
        """The needed job whose failure blocked this one (itself failed or blocked)."""
        return self._blocked.get(job)

    def spec(self, job: JobId) -> JobSpec:
        return self._specs[job]

    def remaining_minutes(self, job: JobId) -> float:
        """The job's estimate plus the longest chain of estimates that needs it."""
        return self._rank[job]

    # -- inside ----------------------------------------------------------------------------

    def _limit(self, pool: Pool) -> int:
        return self._limits.builds if pool is Pool.BUILDS else self._limits.copies

    def _is_ready(self, job: JobId) -> bool:
        return all(self._released.get(need) is True for need in self._specs[job].needs)

    def _critical_path(self) -> dict[JobId, float]:
        rank: dict[JobId, float] = {}
        visiting: set[JobId] = set()

        def of(job: JobId) -> float:
            if job in rank:
                return rank[job]
            if job in visiting:
                raise ValueError(f"the jobs' dependencies form a cycle through {job}")
            visiting.add(job)
            after = max((of(d) for d in self._dependents[job]), default=0.0)
            visiting.discard(job)
            rank[job] = self._specs[job].minutes + after
            return rank[job]

        for job in sorted(self._specs):
            of(job)
        return rank
