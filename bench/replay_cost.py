"""Replay cost per distribution at two sizes, on emulator + Azurite + devhost.

A generated world: one factory lab and LABS target labs in two subscriptions; a first run
builds FAMILIES images (no lab asks for them yet), then every lab selects every image and
a second run distributes them all: FAMILIES x LABS distributions and no build. From
devhost's stored histories, per orchestrator instance of that second run: the events its
replays walked (each episode, from an OrchestratorStarted event, walks the history up to
the episode's end). Printed: events per distribution for the whole run, for factory_run
alone and for the largest single history, and the ratio between the two sizes (flat is
near 1; one history holding every copy grows with the size).

`python -m bench.replay_cost [--small F] [--large F] [--labs L]`; not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from emulator.azurite import AzuriteEndpoints
from emulator.runner import LocalWorld
from emulator.scenario import scenario_from_dict
from tests.pipeline.world import CLOCK_SCALE, EXAMPLE, SCENARIO, FactoryHost

ORCHESTRATOR_STARTED = 12
SUBSCRIPTIONS = ("6f1c2a3b-0d4e-4f5a-9b8c-1d2e3f4a5b6c", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")


def _scenario(labs: int) -> dict[str, Any]:
    data = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    factory = next(  # the example's factory lab and its resource group, as they are
        group
        for sub in data["subscriptions"]
        for group in sub["resource_groups"]
        if group["name"] == "rg-imagefactory"
    )
    subs = []
    for index, sub in enumerate(SUBSCRIPTIONS):
        targets = [
            {"name": f"lab-{n:03d}", "location": "westeurope", "storage_account": f"alab{n:03d}"}
            for n in range(index, labs, len(SUBSCRIPTIONS))
        ]
        groups = [{"name": f"rg-labs-{index}", "location": "westeurope", "labs": targets}]
        subs.append(
            {
                "id": sub,
                "display_name": f"subscription {index}",
                "vcpu_quota": {"westeurope": 10_000},
                "resource_groups": ([factory] if index == 0 else []) + groups,
            }
        )
    data["subscriptions"] = subs
    data["faults"] = []
    return data


def _config(root: Path, families: int, labs: int) -> Path:
    config = root / "config"
    (config / "images").mkdir(parents=True)
    (config / "labs").mkdir()
    settings = (EXAMPLE / "factory.yaml").read_text(encoding="utf-8")
    settings = settings.replace("builds: 4", "builds: 10").replace("copies: 8", "copies: 40")
    settings = settings.replace("copiesPerSubscription: 4", "copiesPerSubscription: 20")
    (config / "factory.yaml").write_text(settings, encoding="utf-8")
    for n in range(families):
        (config / "images" / f"img-{n:03d}.yaml").write_text(
            f"name: img-{n:03d}\nos: Linux\nbase:\n  gallery:\n    publisher: Canonical\n"
            "    offer: 0001-com-ubuntu-server-jammy\n    sku: 22_04-lts-gen2\n"
            f"    version: latest\nvmSize: Standard_D2s_v5\nbuildVmPrefix: img{n:03d}\n",
            encoding="utf-8",
        )
    return config


def _add_labs(config: Path, labs: int) -> None:
    for n in range(labs):
        sub = SUBSCRIPTIONS[n % len(SUBSCRIPTIONS)]
        lab = (
            f"/subscriptions/{sub}/resourceGroups/rg-labs-{n % len(SUBSCRIPTIONS)}"
            f"/providers/Microsoft.DevTestLab/labs/lab-{n:03d}"
        )
        (config / "labs" / f"lab-{n:03d}.yaml").write_text(
            f'lab: {lab}\nimages: ["img-*"]\n', encoding="utf-8"
        )


@dataclass
class Measured:
    distributions: int
    seconds: float
    total: int  # events replayed by every orchestrator of the run
    factory_run: int
    largest: int  # the most any one instance replayed
    largest_name: str
    instances: int


def _replayed(history: list[int]) -> int:
    """Events an instance's episodes walked: each episode sees the history up to its end."""
    starts = [i for i, kind in enumerate(history) if kind == ORCHESTRATOR_STARTED]
    ends = [*starts[1:], len(history)]
    return sum(ends)


def run_histories(db: Path, run_id: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """A run's stored histories in devhost's database, by instance in event order (the run
    and its sub-orchestrations), and each instance's orchestrator name."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT instance_id, event FROM history WHERE instance_id = ? OR instance_id LIKE ? "
            "ORDER BY instance_id, seq",
            (run_id, f"{run_id}:%"),
        ).fetchall()
        names = dict(
            conn.execute(
                "SELECT instance_id, name FROM instances "
                "WHERE instance_id = ? OR instance_id LIKE ?",
                (run_id, f"{run_id}:%"),
            ).fetchall()
        )
    finally:
        conn.close()
    histories: dict[str, list[dict[str, Any]]] = {}
    for instance, event in rows:
        histories.setdefault(instance, []).append(json.loads(event))
    return histories, names


def _measure(db: Path, run_id: str) -> tuple[int, int, int, str, int]:
    events, names = run_histories(db, run_id)
    histories = {instance: [int(ev["EventType"]) for ev in evs] for instance, evs in events.items()}
    cost = {instance: _replayed(kinds) for instance, kinds in histories.items()}
    largest = max(cost, key=lambda i: cost[i])
    return sum(cost.values()), cost.get(run_id, 0), cost[largest], names[largest], len(cost)


def failures(status: dict[str, Any]) -> str:
    """How a run went wrong, in one line: its status, or its first failure and how many."""
    failed = (status.get("report") or {}).get("failed") or []
    if not failed:
        return str(status.get("status"))
    first = failed[0]
    return (
        f"{len(failed)} failed, the first {first.get('family')} to {first.get('lab')}: "
        f"{first.get('step')}: {first.get('reason')}"
    )


def measure(families: int, labs: int, root: Path) -> Measured:
    scenario = scenario_from_dict(_scenario(labs), "bench world", base_dir=SCENARIO.parent)
    world = LocalWorld(scenario=scenario, state_dir=root / "world", clock_scale=CLOCK_SCALE)
    info = world.start()
    try:
        queue = AzuriteEndpoints(
            info.blob_port, info.queue_port, info.table_port, Path(info.ca_file),
            tuple(info.storage_accounts),
        ).connection_string(info.storage_accounts[0])  # fmt: skip
        config = _config(root / "host", families, labs)
        host = FactoryHost(info, queue, root / "host").start()
        try:
            first = host.wait_run(host.start_run(), timeout=3600)
            if first["status"] != "Completed" or first["report"]["failed"]:
                raise RuntimeError(f"the first run did not build: {failures(first)}")
            _add_labs(config, labs)
            started = time.perf_counter()
            run_id = host.start_run()
            second = host.wait_run(run_id, timeout=3600)
            seconds = time.perf_counter() - started
        finally:
            host.stop()
        report = second["report"]
        if second["status"] != "Completed" or report["failed"] or report["built"]:
            raise RuntimeError(f"the distribution run went wrong: {failures(second)}")
        instance = second.get("instanceId") or report["instanceId"]
        total, own, largest, name, count = _measure(host.state_dir / "devhost.sqlite3", instance)
        return Measured(len(report["distributed"]), seconds, total, own, largest, name, count)
    finally:
        world.stop()


def measure_sizes(small: int, large: int, labs: int) -> tuple[Measured, Measured]:
    """The distribution run at two sizes (families x labs distributions each)."""
    rows = []
    for families in (small, large):
        root = Path(tempfile.mkdtemp(prefix="replay-cost-"))
        try:
            rows.append(measure(families, labs, root))
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return rows[0], rows[1]


def per_distribution(m: Measured) -> float:
    return m.total / m.distributions


def growth(small: Measured, large: Measured) -> float:
    """How many times the events replayed per distribution grew from one size to the other."""
    return per_distribution(large) / per_distribution(small)


def describe(small: Measured, large: Measured) -> list[str]:
    lines = [
        f"{m.distributions} distributions ({m.instances} orchestrator instances, "
        f"{m.seconds:.0f} s): {per_distribution(m):.1f} events replayed per distribution; "
        f"factory_run {m.factory_run / m.distributions:.1f}; the largest history "
        f"({m.largest_name}) {m.largest / m.distributions:.1f}"
        for m in (small, large)
    ]
    run_growth = (large.factory_run / large.distributions) / (
        small.factory_run / small.distributions
    )
    lines.append(
        f"per distribution, {small.distributions} -> {large.distributions}: "
        f"{growth(small, large):.2f}x in all, {run_growth:.2f}x in factory_run"
    )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=4, help="families at the small size")
    parser.add_argument("--large", type=int, default=40, help="families at the large size")
    parser.add_argument("--labs", type=int, default=25, help="target labs")
    args = parser.parse_args(argv or [])
    for line in describe(*measure_sizes(args.small, args.large, args.labs)):
        print(f"  {line}")


if __name__ == "__main__":
    main(sys.argv[1:])
