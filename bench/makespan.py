"""Makespan of a pipelined run against its lower bound, on emulator + Azurite + devhost.

A generated world (`IMAGES`, `LABS`): twelve images in three levels of layering, with
builds from 17 to 126 Azure minutes (each image's artifacts carry their own durations in the
emulator's scenario), and ten target labs in three subscriptions. A first run builds and
distributes everything; an unchanged run follows. From the scenario's operation times
and the run's limits the bench computes a lower bound on the first run's makespan, the
largest of:

- the critical path: a build (VM create, artifacts, deallocate, disk grant and revoke),
  its copy into the factory lab, the child's build, ... down to the last image's slowest
  distribution or its VM's deletion (the run is not done before either);
- the build-slot work (each build's VM from create to delete) over `concurrency.builds`,
  and the vCPU-minutes over the factory region's quota;
- the copy work (each custom image made from a copied VHD) over `concurrency.copies`, and
  each subscription's over `copiesPerSubscription`.

Printed, in Azure minutes (the emulator's simulated clock, `--clock` simulated seconds
per wall second): makespan / lower bound (target <= 1.10), build-VM minutes / build
minutes (each VM's life from its create to the end of its delete, against what its build
needs; target <= 1.05), ARM writes / the plan's minimum for both runs, ARM status reads
per long operation, where the time beyond the bound went (along the critical chain: the
Azure minutes between one operation's end and the next one's start, by the step that
waited; each build VM's idle minutes; devhost's latency per replay and per activity), and
the replay events per distribution at two sizes (bench/replay_cost.py; growth target
<= 1.2). `--rebuild` adds a forced run of every image, which has learned each step's
duration from the first run.

The factory polls at its production default, 60 Azure seconds (`IMAGEFACTORY_POLL_SECONDS`
= 60 / clock), and its timeouts are scaled to the same clock (`IMAGEFACTORY_TIME_SCALE` =
1 / clock), so its learned durations are Azure minutes too. ARM's throttling buckets
refill at the scenario's rate per Azure second, as they would in Azure.

`python -m bench.makespan [--clock S] [--no-replay] [--rebuild]`; also in `make bench`. Not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
import yaml

from bench import replay_cost
from emulator.azurite import AzuriteEndpoints
from emulator.runner import LocalWorld, WorldInfo
from emulator.scenario import Durations, Scenario, scenario_from_dict
from shared.git.config_source import load_directory
from shared.planning.plan import Plan
from tests.pipeline.economy import arm_writes, minimum_writes, request_counts, reset_counts
from tests.pipeline.world import EXAMPLE, SCENARIO, FactoryHost

# Simulated seconds per wall second: one Azure minute takes a second. Faster clocks make
# devhost's own latency (its replays and activities take wall time) a visible share.
CLOCK = 60.0
POLL_AZURE_SECONDS = 60.0  # the factory's default IMAGEFACTORY_POLL_SECONDS
BUILDS, COPIES, PER_SUBSCRIPTION = 4, 8, 4
MAKESPAN_TARGET, VM_TARGET, REPLAY_TARGET = 1.10, 1.05, 1.2
COVERS = ("replay_cost",)  # its figures are printed here: `python -m bench` runs them once
SUBSCRIPTIONS = (  # id, region, vCPU quota there
    ("6f1c2a3b-0d4e-4f5a-9b8c-1d2e3f4a5b6c", "westeurope", 200),
    ("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "westeurope", 100),
    ("0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e", "eastus", 100),
)
FACTORY_LAB = "mk-factory"
DISK_GB = {"Windows": 127, "Linux": 30}  # the scenario's gallery images
GALLERY = {
    "Windows": (
        "MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition"
    ),
    "Linux": ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2"),
}  # fmt: skip
GENERALIZE = {"Windows": "windows-sysprep", "Linux": "linux-deprovision"}


@dataclass(frozen=True)
class Image:
    name: str
    os: str
    parent: str | None
    work: tuple[int, ...]  # its artifacts' durations, Azure minutes
    vm_size: str
    prefix: str


@dataclass(frozen=True)
class Lab:
    name: str
    subscription: int
    images: tuple[str, ...]


IMAGES = (
    Image("win-base", "Windows", None, (20, 25, 15), "Standard_D4s_v5", "mkwb"),
    Image("win-core", "Windows", None, (60, 40), "Standard_D4s_v5", "mkwc"),
    Image("win-dev", "Windows", "win-base", (25, 20), "Standard_D8s_v5", "mkwd"),
    Image("win-sql", "Windows", "win-base", (60, 50), "Standard_D8s_v5", "mkws"),
    Image("win-dev-vs", "Windows", "win-dev", (40, 30), "Standard_D8s_v5", "mkwv"),
    Image("win-dev-web", "Windows", "win-dev", (20,), "Standard_D4s_v5", "mkwe"),
    Image("lin-base", "Linux", None, (15, 5), "Standard_D2s_v5", "mklb"),
    Image("lin-slim", "Linux", None, (5,), "Standard_D2s_v5", "mkls"),
    Image("lin-docker", "Linux", "lin-base", (20, 10), "Standard_D4s_v5", "mkld"),
    Image("lin-ml", "Linux", "lin-base", (50, 30), "Standard_D8s_v5", "mklm"),
    Image("lin-docker-k8s", "Linux", "lin-docker", (40,), "Standard_D4s_v5", "mklk"),
    Image("lin-ml-gpu", "Linux", "lin-ml", (15,), "Standard_D8s_v5", "mklg"),
)
WIN = tuple(i.name for i in IMAGES if i.os == "Windows")
LIN = tuple(i.name for i in IMAGES if i.os == "Linux")
LABS = (
    Lab("mk-a1", 0, WIN),
    Lab("mk-a2", 0, LIN),
    Lab("mk-b1", 1, ("win-dev", "win-dev-vs", "win-dev-web", "lin-docker", "lin-docker-k8s")),
    Lab("mk-b2", 1, ("win-sql", "win-core", "lin-ml", "lin-ml-gpu")),
    Lab("mk-b3", 1, ("win-base", "lin-base", "lin-slim")),
    Lab("mk-b4", 1, ("win-dev-vs", "lin-ml-gpu")),
    Lab("mk-c1", 2, LIN),
    Lab("mk-c2", 2, ("win-dev", "win-dev-vs", "lin-docker-k8s")),
    Lab("mk-c3", 2, ("win-core", "win-sql", "lin-slim")),
    Lab("mk-c4", 2, ("win-dev-web", "lin-ml")),
)
BY_NAME = {i.name: i for i in IMAGES}


def _lab_id(lab: str, subscription: int) -> str:
    return (
        f"/subscriptions/{SUBSCRIPTIONS[subscription][0]}/resourceGroups/rg-mk-{subscription}"
        f"/providers/Microsoft.DevTestLab/labs/{lab}"
    )


FACTORY_LAB_ID = _lab_id(FACTORY_LAB, 0)


# ----- the world: scenario and configuration ----------------------------------------------


def scenario(clock: float) -> Scenario:
    """The example's gallery, artifacts and durations; this bench's labs and work artifacts."""
    data = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    minutes = sorted({m for image in IMAGES for m in image.work})
    data["artifact_sources"][0]["artifacts"].extend(
        {"name": f"work-{m}m", "title": f"{m} minutes of work", "duration": m * 60} for m in minutes
    )
    for bucket in data["throttling"].values():
        if isinstance(bucket, dict):  # refill per Azure second, as in Azure
            bucket["refill_per_second"] = bucket["refill_per_second"] * clock
    subs = []
    for index, (sub, region, quota) in enumerate(SUBSCRIPTIONS):
        labs = [lab for lab in LABS if lab.subscription == index]
        specs = [
            {"name": lab.name, "location": region, "storage_account": lab.name.replace("-", "")}
            for lab in labs
        ]
        if index == 0:
            specs.insert(
                0, {"name": FACTORY_LAB, "location": region, "storage_account": "mkfactory"}
            )
        subs.append(
            {
                "id": sub,
                "display_name": f"bench subscription {index}",
                "vcpu_quota": {region: quota},
                "resource_groups": [{"name": f"rg-mk-{index}", "location": region, "labs": specs}],
            }
        )
    data["subscriptions"] = subs
    data["faults"] = []
    return scenario_from_dict(data, "makespan world", base_dir=SCENARIO.parent)


def write_config(config: Path) -> None:
    (config / "images").mkdir(parents=True)
    (config / "labs").mkdir()
    settings = yaml.safe_load((EXAMPLE / "factory.yaml").read_text(encoding="utf-8"))
    settings["factoryLab"] = FACTORY_LAB_ID
    settings["concurrency"] = {
        "builds": BUILDS,
        "copies": COPIES,
        "copiesPerSubscription": PER_SUBSCRIPTION,
    }
    (config / "factory.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    for image in IMAGES:
        definition: dict[str, Any] = {"name": image.name, "os": image.os}
        if image.parent:
            definition["base"] = {"image": image.parent}
        else:
            publisher, offer, sku = GALLERY[image.os]
            definition["base"] = {
                "gallery": {"publisher": publisher, "offer": offer, "sku": sku, "version": "latest"}
            }
        definition["vmSize"] = image.vm_size
        definition["artifacts"] = [{"name": f"work-{m}m"} for m in image.work]
        definition["buildVmPrefix"] = image.prefix
        path = config / "images" / f"{image.name}.yaml"
        path.write_text(yaml.safe_dump(definition, sort_keys=False), encoding="utf-8")
    for lab in LABS:
        body = {"lab": _lab_id(lab.name, lab.subscription), "images": list(lab.images)}
        path = config / "labs" / f"{lab.name}.yaml"
        path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")


# ----- the lower bound ------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    critical_path: float
    build_slots: float
    vcpus: float
    copies: float
    per_subscription: float
    build_minutes: dict[str, float]  # each build's VM life at the least: create to deleted
    chain: list[str]
    earliest: dict[str, float]  # the soonest each build's VM create can start

    @property
    def value(self) -> float:
        return max(self.terms().values())

    def terms(self) -> dict[str, float]:
        return {
            "critical path": self.critical_path,
            f"build-VM work / {BUILDS} builds": self.build_slots,
            "vCPU-minutes / quota": self.vcpus,
            f"copy work / {COPIES} copies": self.copies,
            f"busiest subscription's copies / {PER_SUBSCRIPTION}": self.per_subscription,
        }


def _released(image: Image, d: Durations, artifacts: dict[str, float]) -> float:
    """Azure minutes from a build VM's create to its captured disk's revoke: VM and
    artifacts (the generalize step last), deallocate, grant, revoke (the catalog copy
    itself is Azurite's, with no simulated time)."""
    work = sum(m * 60 for m in image.work) + artifacts[GENERALIZE[image.os]]
    return (d.vm_create + work + d.vm_stop + d.grant_access + d.revoke_access) / 60


def _copy(image: Image, d: Durations) -> float:
    """A custom image from a copied VHD: its create time plus the per-GB copy."""
    return (d.image_create + d.disk_copy_per_gb * DISK_GB[image.os]) / 60


def lower_bound(world: Scenario) -> Bound:
    d = world.durations
    artifacts = {
        a.name: a.duration if a.duration is not None else d.artifact
        for source in world.artifact_sources
        for a in source.artifacts
    }
    delete = d.vm_delete / 60
    parents = {i.parent for i in IMAGES if i.parent}
    released = {i.name: _released(i, d, artifacts) for i in IMAGES}
    copy = {i.name: _copy(i, d) for i in IMAGES}
    start: dict[str, float] = {}

    def earliest(image: Image) -> float:  # its build starts once its parent is in the lab
        if image.name not in start:
            parent = BY_NAME[image.parent] if image.parent else None
            start[image.name] = (
                earliest(parent) + released[parent.name] + copy[parent.name] if parent else 0.0
            )
        return start[image.name]

    def end(image: Image) -> float:
        tail = max(copy[image.name] if _targets(image) else 0.0, delete)
        return earliest(image) + released[image.name] + tail

    last = max(IMAGES, key=end)
    chain = [last.name]
    while BY_NAME[chain[0]].parent:
        chain.insert(0, str(BY_NAME[chain[0]].parent))
    slot = {i.name: released[i.name] + delete for i in IMAGES}
    cores = {i.name: world.vm_sizes[i.vm_size] for i in IMAGES}
    factory_quota = SUBSCRIPTIONS[0][2]
    work_by_sub: dict[int, float] = defaultdict(float)
    for image in IMAGES:
        for lab in _targets(image):
            work_by_sub[lab.subscription] += copy[image.name]
        if image.name in parents:
            work_by_sub[0] += copy[image.name]  # its copy into the factory lab
    return Bound(
        critical_path=end(last),
        build_slots=sum(slot.values()) / BUILDS,
        vcpus=sum(slot[n] * cores[n] for n in slot) / factory_quota,
        copies=sum(work_by_sub.values()) / COPIES,
        per_subscription=max(work_by_sub.values()) / PER_SUBSCRIPTION,
        build_minutes=slot,
        chain=chain,
        earliest={i.name: earliest(i) for i in IMAGES},
    )


def _targets(image: Image) -> list[Lab]:
    return [lab for lab in LABS if image.name in lab.images]


# ----- measuring a run ------------------------------------------------------------------


@dataclass
class Measured:
    label: str
    status: dict[str, Any]
    started: datetime  # the emulator's clock when the run was asked for
    ended: datetime  # ... and when its completion was seen
    counts: dict[str, Any]
    operations: list[dict[str, Any]]  # the emulator's operations started during the run
    wall: float
    host: Host | None = None

    @property
    def minutes(self) -> float:
        return (self.ended - self.started).total_seconds() / 60

    @property
    def plan(self) -> Plan:
        return Plan.model_validate(self.status["report"]["plan"])


def _admin(info: WorldInfo, method: str, path: str) -> Any:
    response = requests.request(
        method, f"{info.endpoint}/_admin/{path}", verify=info.ca_file, timeout=60
    )
    response.raise_for_status()
    return response.json()


def _clock(info: WorldInfo) -> datetime:
    return datetime.fromisoformat(_admin(info, "GET", "clock")["now"])


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def run_once(
    label: str, host: FactoryHost, info: WorldInfo, timeout: float, **options: Any
) -> Measured:
    reset_counts(info.endpoint, info.ca_file)
    wall = time.perf_counter()
    started = _clock(info)
    run_id = host.start_run(**options)
    deadline = time.monotonic() + timeout
    while True:
        status = host.run_status(run_id)
        if status["status"] not in ("Pending", "Running", "ContinuedAsNew"):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{label}: still {status['status']} after {timeout:.0f} s")
        time.sleep(0.05)
    ended = _clock(info)
    wall = time.perf_counter() - wall
    counts = request_counts(info.endpoint, info.ca_file)
    operations = [
        op
        for op in _admin(info, "GET", "state")["world"]["operations"].values()
        if _at(op["start"]) >= started
    ]
    if status["status"] != "Completed" or status["report"]["failed"]:
        raise RuntimeError(f"{label} went wrong: {replay_cost.failures(status)}")
    measured = Measured(label, status, started, ended, counts, operations, wall)
    instance = status.get("instanceId") or status["report"]["instanceId"]
    measured.host = host_times(host.state_dir / "devhost.sqlite3", str(instance))
    return measured


def vm_lives(run: Measured) -> dict[str, tuple[float, dict[str, float]]]:
    """Each build VM's life in Azure minutes (its create's start to its delete's end) and
    the minutes it sat between one operation's end and the next one's start, by the
    operation that waited to start."""
    lives = {}
    for build in run.plan.builds:
        ops = _vm_operations(run, build.vm_name)
        create = next(op for op in ops if op["name"] == "create")
        delete = next(op for op in ops if op["name"] == "delete" and op["end"])
        gaps: dict[str, float] = defaultdict(float)
        previous = _at(create["end"])
        for op in ops[1:]:
            gaps[op["name"]] += max(0.0, (_at(op["start"]) - previous).total_seconds() / 60)
            previous = max(previous, _at(op["end"] or op["start"]))
        life = (_at(delete["end"]) - _at(create["start"])).total_seconds() / 60
        lives[build.family] = (life, dict(gaps))
    return lives


def status_reads(run: Measured) -> tuple[int, int, dict[str, int]]:
    """ARM GETs of a single VM, custom image or operation (the monitors' status reads),
    the long operations started, and the reads by operation."""
    by_op = run.counts["byOperation"]
    reads = {
        name: n
        for name, n in by_op.items()
        if name.endswith("/read")
        and any(k in name.lower() for k in ("virtualmachines", "customimages", "operations"))
    }
    return sum(reads.values()), len(run.operations), reads


def chain_delays(run: Measured, bound: Bound) -> list[str]:
    """Along the bound's critical chain, how late each build VM's create started against
    the soonest it could, in Azure minutes, and by how much more than the one before; then
    the run's end against the bound."""
    creates = {}
    for build in run.plan.builds:
        suffix = f"/virtualmachines/{build.vm_name.lower()}"
        for op in run.operations:
            if op["name"] == "create" and op["resource_id"].lower().endswith(suffix):
                creates[build.family] = (_at(op["start"]) - run.started).total_seconds() / 60
    late = [(name, creates[name] - bound.earliest[name]) for name in bound.chain]
    late.append(("the run's end", run.minutes - bound.critical_path))
    lines, before = [], 0.0
    for name, behind in late:
        lines.append(f"{name} {behind:+.1f} ({behind - before:+.1f})")
        before = behind
    return lines


def _vm_operations(run: Measured, vm: str) -> list[dict[str, Any]]:
    """A build VM's operations and its OS disk's, in the order they started."""
    vm = vm.lower()
    return sorted(
        (
            op
            for op in run.operations
            if f"/virtualmachines/{vm}" in op["resource_id"].lower()
            or f"/disks/{vm}_osdisk" in op["resource_id"].lower()
        ),
        key=lambda op: _at(op["start"]),
    )


def chain_gaps(run: Measured, bound: Bound) -> dict[str, float]:
    """Azure minutes along the critical chain between one operation's end and the next
    one's start (what Azure did not need), by the step that waited: each build's VM create
    (the first after the run's start, a child's after its parent's copy into the factory
    lab), deallocate, grant, revoke, its copy into the factory lab or, for the last image,
    its first distribution; then the run's end after the last copy or VM deletion."""
    builds = {b.family: b for b in run.plan.builds}
    images: dict[tuple[str, str], dict[str, Any]] = {}
    for op in run.operations:
        if op["name"] == "create" and "/customimages/" in op["resource_id"].lower():
            lab, name = op["resource_id"].lower().split("/customimages/")
            images[(lab, name)] = op
    gaps: dict[str, float] = defaultdict(float)

    def gap(step: str, since: datetime, op: dict[str, Any]) -> datetime:
        gaps[step] += max(0.0, (_at(op["start"]) - since).total_seconds() / 60)
        return _at(op["end"] or op["start"])

    since = run.started
    for index, family in enumerate(bound.chain):
        deleted = since
        for op in _vm_operations(run, builds[family].vm_name):
            if op["name"] == "delete":
                deleted = _at(op["end"] or op["start"])
                continue
            since = gap(STEP_NAMES.get(op["name"], op["name"]), since, op)
        copies = [
            images[(d.lab.lower(), d.image_name.lower())]
            for d in run.plan.distributions
            if d.family == family and (d.lab.lower(), d.image_name.lower()) in images
        ]
        feed = [c for c in copies if c["resource_id"].lower().startswith(FACTORY_LAB_ID.lower())]
        if index + 1 < len(bound.chain):
            since = gap("copy into the factory lab", since, feed[0])
            continue
        first = min(copies, key=lambda c: _at(c["start"]))
        gap("the first distribution", since, first)
        last = max([deleted, *(_at(c["end"] or c["start"]) for c in copies)])
        gaps["the run's end after its last copy"] += (run.ended - last).total_seconds() / 60
    return dict(gaps)


STEP_NAMES = {  # the emulator's operation names, as the build's steps
    "create": "VM create",
    "stop": "deallocate",
    "beginGetAccess": "grant",
    "endGetAccess": "revoke (the catalog copy before it)",
    "delete": "delete",
}


@dataclass(frozen=True)
class Host:
    """Where the factory's own time went, from devhost's stored histories (wall seconds)."""

    waits: list[float]  # an event's arrival (activity result, timer, child) to its replay
    activities: list[float]  # an activity's scheduling to its result
    timers: list[float]  # a durable timer's creation to its firing (the monitors' sleeps)
    episodes: Counter[str]  # replays, by orchestrator name


RECEIVED = (5, 6, 8, 9, 11)  # TaskCompleted, TaskFailed, SubOrchestration done/failed, TimerFired
TASK_SCHEDULED, TIMER_CREATED, TIMER_FIRED, STARTED = 4, 10, 11, 12


def host_times(db: Path, run_id: str) -> Host:
    by_instance, names = replay_cost.run_histories(db, run_id)
    host = Host([], [], [], Counter())
    for instance, events in by_instance.items():
        scheduled: dict[int, datetime] = {}
        timers: dict[int, datetime] = {}
        episode: datetime | None = None
        for ev in events:
            kind, at = int(ev["EventType"]), _at(ev["Timestamp"].replace("Z", "+00:00"))
            if kind == STARTED:
                episode = at
                host.episodes[names.get(instance, "?")] += 1
            elif kind in RECEIVED and episode is not None:
                host.waits.append(max(0.0, (episode - at).total_seconds()))
                if kind == TIMER_FIRED and ev.get("TimerId") in timers:
                    host.timers.append((at - timers[ev["TimerId"]]).total_seconds())
                elif kind in (5, 6) and ev.get("TaskScheduledId") in scheduled:
                    host.activities.append((at - scheduled[ev["TaskScheduledId"]]).total_seconds())
            if kind == TASK_SCHEDULED:
                scheduled[int(ev["EventId"])] = at
            elif kind == TIMER_CREATED:
                timers[int(ev["EventId"])] = at
    return host


# ----- the bench ------------------------------------------------------------------------


def _host(info: WorldInfo, work: Path, clock: float) -> FactoryHost:
    queue = AzuriteEndpoints(
        info.blob_port, info.queue_port, info.table_port, Path(info.ca_file),
        tuple(info.storage_accounts),
    ).connection_string(info.storage_accounts[0])  # fmt: skip
    write_config(work / "config")
    values = {
        "IMAGEFACTORY_POLL_SECONDS": f"{POLL_AZURE_SECONDS / clock:g}",
        "IMAGEFACTORY_TIME_SCALE": f"{1 / clock:g}",
    }
    return FactoryHost(info, queue, work, values=values).start()


def measure_runs(clock: float, root: Path, rebuild: bool) -> tuple[Scenario, list[Measured], Path]:
    """A first run and an unchanged run; with `rebuild`, a forced run of every image after
    them, which has learned each step's duration from the first."""
    world_scenario = scenario(clock)
    world = LocalWorld(scenario=world_scenario, state_dir=root / "world", clock_scale=clock)
    info = world.start()
    try:
        host = _host(info, root / "host", clock)
        try:
            timeout = lower_bound(world_scenario).value * 60 / clock * 4 + 120
            runs = [
                run_once("first run", host, info, timeout),
                run_once("unchanged run", host, info, timeout),
            ]
            if rebuild:
                runs.append(run_once("forced rebuild", host, info, timeout, force=True))
        finally:
            host.stop()
    finally:
        world.stop()
    return world_scenario, runs, host.config_dir


def report(world: Scenario, runs: list[Measured], config: Path, clock: float) -> None:
    bound = lower_bound(world)
    factory = load_directory(config)
    print(
        f"  world: {len(IMAGES)} images in 3 levels, {len(LABS)} labs in "
        f"{len(SUBSCRIPTIONS)} subscriptions, {len(runs[0].plan.distributions)} distributions; "
        f"limits builds {BUILDS}, copies {COPIES}, {PER_SUBSCRIPTION} per subscription"
    )
    print(
        f"  clock: {clock:g} Azure seconds per wall second (one Azure minute takes "
        f"{60 / clock:.2f} s); the factory polls every {POLL_AZURE_SECONDS:g} Azure seconds; "
        f"load average {os.getloadavg()[1]:.1f} on {os.cpu_count()} CPUs (devhost's latency "
        "is wall time: a busy machine lengthens the run in Azure minutes)"
    )
    terms = ", ".join(f"{name} {value:.1f}" for name, value in bound.terms().items())
    print(f"  lower bound {bound.value:.1f} Azure minutes: {terms}")
    print(f"    critical chain: {' -> '.join(bound.chain)}")
    for run in runs:
        if run.plan.builds:
            _report_makespan(run, bound, clock)
    for run in runs:
        writes = arm_writes(run.counts)
        minimum = minimum_writes(run.plan, factory)
        share = f"{writes / minimum:.2f}" if minimum else "-"
        reads, long_ops, by_read = status_reads(run)
        per_op = f"{reads / long_ops:.1f}" if long_ops else "-"
        throttled = run.counts["byStatus"].get("429", 0)
        print(
            f"  {run.label}: ARM writes {writes} / minimum {minimum} = {share}; "
            f"{reads} status reads for {long_ops} long operations ({per_op} each); "
            f"{throttled} throttled; {run.minutes:.1f} Azure minutes"
        )
        if long_ops:
            kinds = Counter(op["name"] for op in run.operations)
            print(
                "    reads: "
                + ", ".join(f"{k.split('/', 1)[-1]} {v}" for k, v in sorted(by_read.items()))
                + "; operations: "
                + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
            )


def _report_makespan(run: Measured, bound: Bound, clock: float) -> None:
    ratio = run.minutes / bound.value
    verdict = "meets" if ratio <= MAKESPAN_TARGET else "misses"
    print(
        f"  {run.label}: makespan {run.minutes:.1f} Azure minutes ({run.wall:.0f} s wall) "
        f"/ lower bound {bound.value:.1f} = {ratio:.2f} ({verdict} <= {MAKESPAN_TARGET})"
    )
    print(
        "    behind the critical chain (Azure minutes; the step's own share in brackets): "
        + ", ".join(chain_delays(run, bound))
    )
    lost = sorted(chain_gaps(run, bound).items(), key=lambda item: -item[1])
    print(
        f"    along it, {sum(m for _, m in lost):.1f} Azure minutes between one operation's "
        "end and the next one's start, before: " + ", ".join(f"{name} {m:.1f}" for name, m in lost)
    )
    lives = vm_lives(run)
    lived = sum(life for life, _ in lives.values())
    needed = sum(bound.build_minutes[f] for f in lives)
    gaps: Counter[str] = Counter()
    for _, waited in lives.values():
        gaps.update(waited)
    ratio = lived / needed
    verdict = "meets" if ratio <= VM_TARGET else "misses"
    print(
        f"    build-VM minutes {lived:.1f} / build minutes {needed:.1f} = {ratio:.2f} "
        f"({verdict} <= {VM_TARGET}); a VM's idle minutes before the factory started each "
        "step, per build: "
        + ", ".join(
            f"{STEP_NAMES.get(name, name)} {m / len(lives):.1f}" for name, m in gaps.most_common()
        )
    )
    if run.host is not None:
        host = run.host
        wait, took = _mean(host.waits), _mean(host.activities)
        replays = sum(host.episodes.values())
        print(
            f"    devhost: {replays} replays ("
            + ", ".join(f"{name} {n}" for name, n in host.episodes.most_common())
            + f"); an event waited {wait * 1000:.0f} ms for its replay ({wait * clock:.0f} "
            f"Azure s), an activity took {took * 1000:.0f} ms ({took * clock:.0f} Azure s), a "
            f"monitor's timer {_mean(host.timers) * clock:.0f} Azure s"
        )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clock", type=float, default=CLOCK, help="Azure seconds per second")
    parser.add_argument("--no-replay", action="store_true", help="skip the replay sizes")
    parser.add_argument(
        "--rebuild", action="store_true", help="then a forced run that learned the durations"
    )
    args = parser.parse_args(argv or [])
    root = Path(tempfile.mkdtemp(prefix="makespan-"))
    try:
        world, runs, config = measure_runs(args.clock, root, args.rebuild)
        report(world, runs, config, args.clock)
        if not args.no_replay:
            small, large = replay_cost.measure_sizes(4, 40, 25)
    except RuntimeError as exc:
        raise SystemExit(f"bench.makespan: {exc}") from None
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if not args.no_replay:
        growth = replay_cost.growth(small, large)
        verdict = "meets" if growth <= REPLAY_TARGET else "misses"
        print(f"  replay cost ({verdict} a growth <= {REPLAY_TARGET}):")
        for line in replay_cost.describe(small, large):
            print(f"    {line}")


if __name__ == "__main__":
    main(sys.argv[1:])
