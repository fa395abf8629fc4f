"""A lab as the factory sees it: its address, facts that never change, its inventory, and
the newest Marketplace versions in its region.

The other adapters (`vms`, `images`, `disks`, `blobs`) reach a lab through `Lab`; what a
lab's life does not change (region, storage account, network) is read once per process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from shared.azure import clients
from shared.azure.errors import reason
from shared.config.models import Artifact, GalleryImage
from shared.model import tags
from shared.model.arm_ids import ResourceId, parse_lab_id
from shared.planning.inventory import LabImage, LabInventory, LabVm

log = logging.getLogger(__name__)
Listed = TypeVar("Listed", LabImage, LabVm)


@dataclass(frozen=True)
class Lab:
    id: ResourceId

    @classmethod
    def of(cls, lab_id: str) -> Lab:
        return cls(parse_lab_id(lab_id))

    @property
    def client(self) -> Any:
        return clients.devtestlabs(self.id.subscription)

    @property
    def group(self) -> str:
        return self.id.resource_group

    @property
    def name(self) -> str:
        return self.id.name

    def artifact_id(self, artifact: Artifact) -> str:
        return f"{self.id}/artifactSources/{artifact.source}/artifacts/{artifact.name}"

    def custom_image_id(self, name: str) -> str:
        return f"{self.id}/customimages/{name}"


# --- what a lab's life does not change ---------------------------------------------------


@dataclass(frozen=True)
class _LabFacts:
    location: str
    storage_account: str


_FACTS: dict[str, _LabFacts] = {}
_NETWORKS: dict[str, tuple[str, str]] = {}


def _facts(lab: Lab) -> _LabFacts:
    """Its region and its default storage account, read once."""
    key = str(lab.id).lower()
    if key not in _FACTS:
        found = lab.client.labs.get(lab.group, lab.name)
        account = str(found.default_storage_account or "").rstrip("/").rsplit("/", 1)[-1]
        _FACTS[key] = _LabFacts(str(found.location), account)
    return _FACTS[key]


def location(lab: Lab) -> str:
    return _facts(lab).location


def storage_account(lab: Lab) -> str:
    account = _facts(lab).storage_account
    if not account:
        raise RuntimeError(f"lab {lab.name} reports no default storage account")
    return account


def network(lab: Lab) -> tuple[str, str]:
    """The lab virtual network and subnet a VM is created in: the first subnet that allows
    VM creation (what `az lab vm create` picks)."""
    key = str(lab.id).lower()
    if key not in _NETWORKS:
        _NETWORKS[key] = _first_vm_subnet(lab)
    return _NETWORKS[key]


def _first_vm_subnet(lab: Lab) -> tuple[str, str]:
    for found in lab.client.virtual_networks.list(lab.group, lab.name):
        for subnet in found.subnet_overrides or []:
            allowed = (subnet.use_in_vm_creation_permission or "").lower() == "allow"
            if allowed and subnet.lab_subnet_name and found.id:
                return str(found.id), str(subnet.lab_subnet_name)
    raise RuntimeError(
        f"lab {lab.name} has no virtual network with a subnet that allows VM creation"
    )


# --- inventory and gallery versions --------------------------------------------------------


def inventory(lab_id: str) -> LabInventory:
    """Every custom image and VM of a lab with tags; an unreadable lab reports why."""
    lab = Lab.of(lab_id)
    try:
        images = _listed(LabImage, lab.client.custom_images.list(lab.group, lab.name))
        vms = _listed(LabVm, lab.client.virtual_machines.list(lab.group, lab.name))
    except HttpResponseError as exc:
        return LabInventory(lab=lab_id, error=reason(exc))
    return LabInventory(lab=lab_id, images=images, vms=vms)


def _listed(kind: type[Listed], resources: Iterable[Any]) -> list[Listed]:
    """A lab's custom images or VMs by name, tags and provisioning state (a resource that
    reports none has succeeded)."""
    return [
        kind(name=r.name, tags=r.tags or {}, provisioning_state=r.provisioning_state or "Succeeded")
        for r in resources
    ]


def newest_gallery_versions(lab_id: str, wanted: list[GalleryImage]) -> dict[str, str]:
    """The newest version of each wanted Marketplace image in the lab's region.

    DevTest Labs lists gallery images as `latest` only; the concrete versions come from
    Microsoft.Compute (virtual machine images), keyed `publisher/offer/sku` lowercased.
    """
    lab = Lab.of(lab_id)
    client = clients.compute(lab.id.subscription)
    region = location(lab)
    newest: dict[str, str] = {}
    for image in {g.key: g for g in wanted}.values():
        try:
            listed = client.virtual_machine_images.list(
                region, image.publisher, image.offer, image.sku
            )
        except HttpResponseError as exc:
            # One unknown image must not stop the run: it keeps `latest`, and its build
            # reports the service's own error.
            log.warning("cannot list versions of %s: %s", image.key, reason(exc))
            continue
        versions = [v.name for v in listed if v.name]
        if versions:
            newest[image.key] = max(versions, key=_version_key)
    return newest


def _version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.split("."))


# --- deleting what the factory made --------------------------------------------------------


def begin_delete(operations: Any, lab: Lab, name: str, may: Callable[[Any], bool]) -> bool:
    """Start deleting a lab resource (a VM or a custom image) if `may(its tags)`; already
    deleting counts as started. False: it is not there, or it may not be deleted."""
    try:
        found = operations.get(lab.group, lab.name, name)
    except ResourceNotFoundError:
        return False
    if not may(found.tags):
        return False
    if (found.provisioning_state or "").lower() != "deleting":
        operations.begin_delete(lab.group, lab.name, name, polling=False)
    return True


def owned_or_refuse(found: dict[str, str] | None, factory_id: str, name: str) -> bool:
    """True for a resource carrying this factory's id; anything else is refused loudly."""
    if not tags.owned_by(found, factory_id):
        raise RuntimeError(f"{name} does not carry this factory's id; not deleting it")
    return True
