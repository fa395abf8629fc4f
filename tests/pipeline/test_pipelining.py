"""Pipelined runs, asserted from the emulator's own operation times (simulated clock).

One first run of the example factory with three build slots, three copy slots, two per
subscription, and one slow build (ubuntu2204-base's VM takes 60 times longer to deploy):
- an image captured early is distributed while that build is still going;
- the layered child (win2022-devtools) starts building as soon as its parent is in the
  factory lab, before the slow, unrelated build of its parent's wave has finished;
- at no moment do more build VMs exist, or more custom images get created, than the
  limits allow.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from tests.pipeline.conftest import World, completed_run
from tests.pipeline.world import EXAMPLE, FactoryHost, start_world

BUILDS, COPIES, PER_SUBSCRIPTION = 3, 3, 2
SLOW_VM = "/virtualmachines/ubuntu2204base-"
SLOW = {
    "kind": "slow",
    "operation": "Microsoft.DevTestLab/labs/virtualmachines/write",
    "path_contains": SLOW_VM,
    "factor": 60,
}


@dataclass(frozen=True)
class Span:
    resource: str
    subscription: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Run:
    report: dict[str, Any]
    operations: list[dict[str, Any]]

    def build_lifetimes(self) -> dict[str, Span]:
        """Each build in the factory lab, by its VM name prefix: from its build VM's create to
        the end of the last delete of its VMs (the build VM and a test gate's VM)."""
        by_build: dict[str, list[dict[str, Any]]] = {}
        for op in self.operations:
            resource = op["resource_id"].lower()
            if "/labs/factory-lab/virtualmachines/" in resource:
                prefix = resource.rsplit("/", 1)[1].rsplit("-", 1)[0]
                by_build.setdefault(prefix, []).append(op)
        spans = {}
        for prefix, ops in by_build.items():
            start = min(_at(o["start"]) for o in ops if o["name"] == "create")
            end = max(_at(o["end"]) for o in ops if o["name"] == "delete" and o["end"])
            spans[prefix] = Span(prefix, ops[0]["subscription"], start, end)
        return spans

    def slow_vm_deployed(self) -> datetime:
        """When the slow build's VM finished deploying: the build still had its artifacts,
        deallocation and capture ahead of it."""
        return next(
            _at(op["end"])
            for op in self.operations
            if SLOW_VM in op["resource_id"].lower() and op["name"] == "create"
        )

    def image_creations(self) -> list[Span]:
        """Every custom image creation of a distribution (not a test gate's)."""
        # An operation's end is never before its start (the emulator can record an image's
        # end from its planned finish, a moment before a late first read).
        return [
            Span(
                op["resource_id"].lower(),
                op["subscription"],
                _at(op["start"]),
                max(_at(op["start"]), _at(op["end"])),
            )
            for op in self.operations
            if "/customimages/" in op["resource_id"].lower()
            and op["name"] == "create"
            and not op["resource_id"].endswith("-gate")
            and op["end"]
        ]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _most_at_once(spans: list[Span]) -> int:
    """The largest number of spans open at one moment (an end before a start at a tie)."""
    events = sorted([(s.start, 1) for s in spans] + [(s.end, -1) for s in spans])
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    base = tmp_path_factory.mktemp("pipelining")
    runner, info = start_world(base / "world")
    try:
        world = World(runner, info)
        world.admin("POST", "faults", SLOW)
        work = base / "host"
        shutil.copytree(EXAMPLE, work / "config")
        settings = work / "config" / "factory.yaml"
        text = settings.read_text()
        for old, new in (
            ("builds: 4", f"builds: {BUILDS}"),
            ("copies: 8", f"copies: {COPIES}"),
            ("copiesPerSubscription: 4", f"copiesPerSubscription: {PER_SUBSCRIPTION}"),
        ):
            assert old in text
            text = text.replace(old, new)
        settings.write_text(text)
        report = completed_run(FactoryHost(info, world.queue_connection, work))["report"]
        assert not report["failed"], report["failed"]
        operations = list(world.admin("GET", "state")["world"]["operations"].values())
        yield Run(report, operations)
    finally:
        runner.stop()


def test_an_early_image_is_distributed_while_another_still_builds(run: Run) -> None:
    deployed = run.slow_vm_deployed()
    delivered_early = [
        c
        for c in run.image_creations()
        if "/labs/factory-lab/" not in c.resource and c.end < deployed
    ]
    assert delivered_early, (deployed, run.image_creations())
    # Not only fed to the factory lab: a target lab got its image while the VM built.
    assert any("ubuntu2204-base" not in c.resource for c in delivered_early)
    assert len(run.report["distributed"]) == 8


def test_a_child_builds_before_its_parents_wave_has_finished(run: Run) -> None:
    lifetimes = run.build_lifetimes()
    slow, child, parent = (lifetimes[p] for p in ("ubuntu2204base", "w22dev", "w22base"))
    assert slow.start < parent.end and parent.start < slow.end  # one wave, side by side
    assert child.start < run.slow_vm_deployed(), (child, slow)
    feed = next(
        c
        for c in run.image_creations()
        if "/labs/factory-lab/customimages/win2022-base-" in c.resource
    )
    assert feed.end <= child.start  # the child built from its parent's image in the lab


def test_the_limits_held(run: Run) -> None:
    builds = list(run.build_lifetimes().values())
    assert len(builds) == 4
    assert _most_at_once(builds) == BUILDS  # reached, never exceeded
    copies = run.image_creations()
    assert _most_at_once(copies) <= COPIES
    for subscription in {c.subscription for c in copies}:
        assert _most_at_once([c for c in copies if c.subscription == subscription]) <= (
            PER_SUBSCRIPTION
        )
