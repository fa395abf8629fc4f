"""The emulator's state and the services acting on it.

`Core` is the registry of all emulated state (`emulator.registry`) with the services
over it (`devtestlabs`, `compute`, `resources`, `environments`: each keeps its rules in
its own models and is handed the registry and the services it calls), request throttling
and counting, and optional SQLite persistence.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from emulator.blobstore import BlobStore
from emulator.clock import SimClock, parse_scale
from emulator.compute.models import ComputeBackend
from emulator.devtestlabs.environment_models import EnvironmentsBackend
from emulator.devtestlabs.models import DevTestLabsBackend
from emulator.exceptions import Conflict
from emulator.faults import Faults
from emulator.registry import Registry, World, world_from_scenario
from emulator.resources.models import ResourcesBackend
from emulator.scenario import Scenario
from emulator.throttling import Throttle

MAX_OPERATIONS = 2_000


class RequestCounter:
    """Counts ARM requests by method, resource type and operation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_method: Counter[str] = Counter()
            self.by_resource_type: Counter[str] = Counter()
            self.by_operation: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()

    def count(self, method: str, resource_type: str, operation: str) -> None:
        with self._lock:
            self.total += 1
            self.by_method[method.upper()] += 1
            self.by_resource_type[resource_type] += 1
            self.by_operation[operation] += 1

    def status(self, status: int) -> None:
        with self._lock:
            self.by_status[str(status)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total,
                "byMethod": dict(self.by_method),
                "byResourceType": dict(self.by_resource_type),
                "byOperation": dict(self.by_operation),
                "byStatus": dict(self.by_status),
            }


class Persistence:
    """The world as one JSON row in SQLite, written after each change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS world (id INTEGER PRIMARY KEY, body TEXT)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)

    def load(self) -> World | None:
        with self._connect() as db:
            row = db.execute("SELECT body FROM world WHERE id = 1").fetchone()
        if row is None:
            return None
        return World.model_validate(json.loads(row[0]))

    def save(self, world: World) -> None:
        body = world.model_dump_json()
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO world (id, body) VALUES (1, ?)", (body,))

    def clear(self) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM world")


class Core(Registry):
    """The registry with the services over it; one lock serialises requests."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        blobs: BlobStore | None = None,
        persistence: Persistence | None = None,
        clock_scale: float | None = None,
    ) -> None:
        scale = clock_scale if clock_scale is not None else parse_scale(scenario.clock_scale)
        super().__init__(scenario, SimClock(scale), Faults(scenario.seed), blobs)
        self._initial_scale = scale
        self.lock = threading.RLock()
        self.throttle = Throttle(scenario.throttling)
        self.counter = RequestCounter()
        self.persistence = persistence
        self.compute = ComputeBackend(self)
        self.devtestlabs = DevTestLabsBackend(self, self.compute)
        self.resources = ResourcesBackend(self, self.devtestlabs)
        self.environments = EnvironmentsBackend(self, self.devtestlabs, self.resources)
        loaded = persistence.load() if persistence else None
        if loaded is not None:
            self._restore(loaded)
        for spec in scenario.faults:
            self.faults.add(spec)

    def _restore(self, world: World) -> None:
        self.world = world
        if world.sim_now is not None:
            self.clock.restore(world.sim_now)

    # ----- time and persistence -----------------------------------------------------------
    def advance(self) -> None:
        """Move every state machine to the current simulated time."""
        now = self.now()
        self.devtestlabs.advance(now)
        self.compute.advance(now)
        self.resources.advance(now)
        self.environments.advance(now)
        for operation in self.world.operations.values():
            operation.advance(now)
        if len(self.world.operations) > MAX_OPERATIONS:
            self._prune_operations()

    def _prune_operations(self) -> None:
        """Forget the oldest finished operations (ARM keeps them for a while, not forever)."""
        finished = sorted(
            (op for op in self.world.operations.values() if op.done),
            key=lambda op: op.end or op.start,
        )
        for op in finished[: len(self.world.operations) - MAX_OPERATIONS // 2]:
            del self.world.operations[op.id]

    def save(self) -> None:
        if self.persistence is not None:
            self.world.sim_now = self.now()
            self.persistence.save(self.world)

    def restart(self) -> None:
        """Behave like a process restart: state reloads from SQLite; buckets start full."""
        if self.persistence is None:
            raise Conflict("The emulator runs without persistence, so a restart would lose state.")
        with self.lock:
            self.save()
            loaded = self.persistence.load()
            if loaded is not None:
                self._restore(loaded)
            self.throttle.configure(self.throttle.config)

    def reset(self) -> None:
        """Back to the scenario: no VMs, images or operations; faults and counters cleared."""
        with self.lock:
            self.clock.set_scale(self._initial_scale)
            self.world = world_from_scenario(self.scenario, self.now())
            self.faults.clear()
            for spec in self.scenario.faults:
                self.faults.add(spec)
            self.counter.reset()
            self.throttle.configure(self.scenario.throttling)
            if self.persistence is not None:
                self.persistence.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            self.advance()
            return {
                "simulatedTime": self.now().isoformat(),
                "clockScale": self.clock.scale,
                "world": json.loads(self.world.model_dump_json()),
            }
