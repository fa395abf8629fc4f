"""The world every service works on, and the registry that hands it out.

`World` is everything that changes (subscriptions, their resource groups and what is in
them, operations, environments), keyed by subscription then resource group and persisted
as one JSON document. `Registry` holds it with what every service's backend shares: the
scenario, the simulated clock, the fault rules and blob storage. The backends depend on
the registry alone; `Core` adds the backends themselves, persistence and counting.
"""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel

from emulator.blobstore import BlobStore
from emulator.clock import SimClock
from emulator.devtestlabs.state import Environment, LabState
from emulator.exceptions import ResourceGroupNotFound, ServiceUnavailable, SubscriptionNotFound
from emulator.faults import Faults
from emulator.lro import Operation, new_operation
from emulator.resources.state import DeployedResource, Deployment
from emulator.scenario import Scenario


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
    family_vcpu_quota: dict[str, dict[str, int]] = {}  # location -> family (lowercase) -> vCPUs
    default_family_vcpu_quota: int = 100
    resource_groups: dict[str, ResourceGroupState] = {}

    def family_quota(self, location: str, family: str) -> int:
        quotas = self.family_vcpu_quota.get(location.lower(), {})
        return quotas.get(family.lower(), self.default_family_vcpu_quota)


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
            family_vcpu_quota={
                location.lower(): {family.lower(): n for family, n in quotas.items()}
                for location, quotas in sub.family_vcpu_quota.items()
            },
            default_family_vcpu_quota=sub.default_family_vcpu_quota,
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
                    allowed_gallery_images=lab.policies.allowed_gallery_images,
                    artifact_sources=(
                        lab.artifact_sources if lab.artifact_sources is not None else source_names
                    ),
                    created=now,
                    unique_identifier=unique,
                )
            state.resource_groups[rg.name.lower()] = group
        world.subscriptions[sub.id.lower()] = state
    return world


class Registry:
    """The world and what every backend shares with it: scenario, clock, faults, blobs."""

    def __init__(
        self, scenario: Scenario, clock: SimClock, faults: Faults, blobs: BlobStore | None
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.faults = faults
        self._blobs = blobs
        self.world = world_from_scenario(scenario, clock.now())
        # VM admin passwords received, in memory only (never persisted): tests check that
        # a client keeps them out of its own stores.
        self.secrets_received: list[str] = []

    def now(self) -> dt.datetime:
        return self.clock.now()

    @property
    def has_blobs(self) -> bool:
        return self._blobs is not None

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
