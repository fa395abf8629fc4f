"""The registry of all emulated state, keyed by subscription then resource group.

`Core` owns the world (labs, VMs, images, operations), the simulated clock, the fault
rules, request counters and optional SQLite persistence. Services (`devtestlabs`,
`compute`, `storage`) keep their rules in their own models and use the registry here.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from emulator.blobstore import BlobStore
from emulator.clock import SimClock, parse_scale
from emulator.compute.models import ComputeBackend
from emulator.devtestlabs.environment_models import Environment, EnvironmentsBackend
from emulator.devtestlabs.models import DevTestLabsBackend, LabState, LabVm
from emulator.exceptions import (
    Conflict,
    ResourceGroupNotFound,
    ServiceUnavailable,
    SubscriptionNotFound,
)
from emulator.faults import Faults
from emulator.lro import Operation, new_operation
from emulator.resources.models import DeployedResource, Deployment, ResourcesBackend
from emulator.scenario import Scenario
from emulator.throttling import Throttle

MAX_OPERATIONS = 2_000


class ResourceGroupState(BaseModel):
    name: str
    location: str
    tags: dict[str, str] = {}
    managed_by: str | None = None
    labs: dict[str, LabState] = {}
    deployments: dict[str, Deployment] = {}
    resources: dict[str, DeployedResource] = {}


class SubscriptionState(BaseModel):
    id: str
    display_name: str
    vcpu_quota: dict[str, int] = {}
    default_vcpu_quota: int = 100
    resource_groups: dict[str, ResourceGroupState] = {}


class World(BaseModel):
    """Everything that changes; persisted as one JSON document."""

    sim_now: dt.datetime | None = None
    subscriptions: dict[str, SubscriptionState] = {}
    operations: dict[str, Operation] = {}
    environments: dict[str, Environment] = {}


def world_from_scenario(scenario: Scenario, now: dt.datetime) -> World:
    world = World()
    source_names = [s.name for s in scenario.artifact_sources]
    for sub in scenario.subscriptions:
        state = SubscriptionState(
            id=sub.id,
            display_name=sub.display_name or sub.id,
            vcpu_quota={k.lower(): v for k, v in sub.vcpu_quota.items()},
            default_vcpu_quota=sub.default_vcpu_quota,
        )
        for rg in sub.resource_groups:
            group = ResourceGroupState(name=rg.name, location=rg.location)
            for lab in rg.labs:
                unique = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{sub.id}/{rg.name}/{lab.name}"))
                group.labs[lab.name.lower()] = LabState(
                    id=(
                        f"/subscriptions/{sub.id}/resourcegroups/{rg.name}"
                        f"/providers/microsoft.devtestlab/labs/{lab.name}"
                    ).lower(),
                    name=lab.name,
                    subscription=sub.id,
                    resource_group=rg.name,
                    location=lab.location,
                    tags=dict(lab.tags),
                    storage_account=lab.storage_account,
                    premium_storage_account=lab.premium_storage_account or lab.storage_account,
                    artifacts_storage_account=lab.artifacts_storage_account or lab.storage_account,
                    vm_creation_resource_group=lab.vm_creation_resource_group,
                    max_vms_allowed_per_lab=lab.policies.max_vms_allowed_per_lab,
                    artifact_sources=(
                        lab.artifact_sources if lab.artifact_sources is not None else source_names
                    ),
                    created=now,
                    unique_identifier=unique,
                )
            state.resource_groups[rg.name.lower()] = group
        world.subscriptions[sub.id.lower()] = state
    return world


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


class Core:
    """The emulator's state and the services acting on it; one lock serialises requests."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        blobs: BlobStore | None = None,
        persistence: Persistence | None = None,
        clock_scale: float | None = None,
    ) -> None:
        self.scenario = scenario
        scale = clock_scale if clock_scale is not None else parse_scale(scenario.clock_scale)
        self.clock = SimClock(scale)
        self._initial_scale = scale
        self.lock = threading.RLock()
        self.faults = Faults(scenario.seed)
        self.throttle = Throttle(scenario.throttling)
        self.counter = RequestCounter()
        self._blobs = blobs
        self.persistence = persistence
        # VM admin passwords received, in memory only (never persisted): tests check that
        # a client keeps them out of its own stores.
        self.secrets_received: list[str] = []
        self.devtestlabs = DevTestLabsBackend(self)
        self.compute = ComputeBackend(self)
        self.resources = ResourcesBackend(self)
        self.environments = EnvironmentsBackend(self)
        loaded = persistence.load() if persistence else None
        if loaded is not None:
            self.world = loaded
            if loaded.sim_now is not None:
                self.clock.restore(loaded.sim_now)
        else:
            self.world = world_from_scenario(scenario, self.clock.now())
        for spec in scenario.faults:
            self.faults.add(spec)

    # ----- registry ----------------------------------------------------------------------
    def now(self) -> dt.datetime:
        return self.clock.now()

    def blobs(self) -> BlobStore:
        if self._blobs is None:
            raise ServiceUnavailable(
                "The emulator runs without Azurite, so storage-backed operations are unavailable."
            )
        return self._blobs

    def subscription(self, subscription: str) -> SubscriptionState:
        state = self.world.subscriptions.get(subscription.lower())
        if state is None:
            raise SubscriptionNotFound(f"The subscription '{subscription}' could not be found.")
        return state

    def resource_group(self, subscription: str, name: str) -> ResourceGroupState:
        sub = self.subscription(subscription)
        group = sub.resource_groups.get(name.lower())
        if group is None:
            raise ResourceGroupNotFound(f"Resource group '{name}' could not be found.")
        return group

    def all_labs(self) -> list[LabState]:
        return [
            lab
            for sub in self.world.subscriptions.values()
            for group in sub.resource_groups.values()
            for lab in group.labs.values()
        ]

    def start_operation(
        self, provider: str, location: str, name: str, resource_id: str, subscription: str
    ) -> Operation:
        operation = new_operation(
            subscription=subscription,
            location=location,
            provider=provider,
            name=name,
            resource_id=resource_id,
            now=self.now(),
        )
        self.world.operations[operation.id] = operation
        return operation

    def operation(self, operation_id: str) -> Operation | None:
        return self.world.operations.get(operation_id.lower()) or self.world.operations.get(
            operation_id
        )

    def on_vm_removed(self, vm: LabVm) -> None:
        self.compute.on_vm_removed(vm)

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
                self.world = loaded
                if loaded.sim_now is not None:
                    self.clock.restore(loaded.sim_now)
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
