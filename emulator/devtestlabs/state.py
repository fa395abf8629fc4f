"""DevTest Labs state: labs, lab VMs, custom images and environments as the world keeps
them (persisted as JSON). The rules that change them are in `models` and
`environment_models`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel

from emulator import vhd
from emulator.compute.power import PowerStateMachine
from emulator.exceptions import ResourceNotFound


class ArtifactRun(BaseModel):
    """One artifact applied to a lab VM, in order."""

    artifact_id: str
    name: str
    title: str
    parameters: list[dict[str, Any]] = []
    status: Literal["Pending", "Installing", "Succeeded", "Failed", "Skipped"] = "Pending"
    message: str | None = None
    install_time: dt.datetime | None = None
    duration: float = 0.0
    effect: str = "none"
    fails_with: str | None = None


class LabResource(BaseModel):
    """What a lab VM and a custom image share: who they are, and their operation in flight.

    Each moves through phases on simulated time: `phase_until` is when the current one ends;
    `planned_failure` (code, message) is how the operation in flight will end, when a fault
    rule decided so as it was asked for.
    """

    id: str
    name: str
    location: str
    tags: dict[str, str] = {}
    created: dt.datetime
    unique_identifier: str
    provisioning_state: str = "Creating"
    phase_until: dt.datetime | None = None
    operation_id: str | None = None
    planned_failure: tuple[str, str] | None = None


class LabVm(LabResource):
    """A DevTest Labs virtual machine and the compute VM and OS disk behind it."""

    notes: str | None = None
    size: str
    vcpus: int
    os_type: str
    user_name: str | None = None
    is_ssh: bool = False
    gallery_image_reference: dict[str, Any] | None = None
    resolved_version: str | None = None
    custom_image_id: str | None = None
    parent_header: str | None = None
    lab_subnet_name: str | None = None
    lab_virtual_network_id: str | None = None
    disallow_public_ip: bool = False
    allow_claim: bool = False
    storage_type: str = "Standard"
    expiration_date: str | None = None
    owner_object_id: str | None = None
    compute_resource_group: str
    compute_name: str
    os_disk_name: str
    disk_size_gb: int
    compute_exists: bool = False
    # The compute VM's power state; None until the VM deployment created the compute VM.
    power: PowerStateMachine | None = None
    generalized: str | None = None
    artifacts: list[ArtifactRun] = []
    phase: Literal["creating", "artifacts", "ready", "deleting", "failed"] = "creating"
    current_artifact: int = 0
    disk_grant_blob: str | None = None

    @property
    def busy(self) -> bool:
        powering = self.power is not None and self.power.transitioning
        return powering or self.phase in ("creating", "artifacts", "deleting")

    @property
    def power_state(self) -> str | None:
        """The compute power state (`running`, `stopped`, `deallocated`, ...), if any."""
        return self.power.state if self.power is not None else None

    @property
    def compute_arm_id(self) -> str:
        """The compute VM's id in ARM's casing, as DevTest Labs (`computeId`) and Compute's
        messages spell it."""
        return (
            f"/subscriptions/{self.id.split('/')[2]}/resourceGroups/{self.compute_resource_group}"
            f"/providers/Microsoft.Compute/virtualMachines/{self.compute_name}"
        )

    @property
    def compute_id(self) -> str:
        return (
            f"/subscriptions/{self.id.split('/')[2]}/resourcegroups/{self.compute_resource_group}"
            f"/providers/microsoft.compute/virtualmachines/{self.compute_name}"
        ).lower()

    @property
    def os_disk_id(self) -> str:
        return (
            f"/subscriptions/{self.id.split('/')[2]}/resourcegroups/{self.compute_resource_group}"
            f"/providers/microsoft.compute/disks/{self.os_disk_name}"
        ).lower()

    def deployment_status(self) -> dict[str, Any]:
        total = len(self.artifacts)
        applied = sum(1 for a in self.artifacts if a.status == "Succeeded")
        if total == 0:
            status = "NotStarted" if self.phase == "creating" else "Succeeded"
        elif any(a.status == "Failed" for a in self.artifacts):
            status = "Failed"
        elif applied == total:
            status = "Succeeded"
        elif self.phase == "artifacts":
            status = "Running"
        else:
            status = "NotStarted"
        return {"deploymentStatus": status, "artifactsApplied": applied, "totalArtifacts": total}

    def disk_bytes(self) -> bytes:
        """The OS disk's synthetic VHD: who made it, from what, with which artifacts."""
        if self.gallery_image_reference is not None:
            ref = self.gallery_image_reference
            source = (
                f"gallery {ref.get('publisher')}/{ref.get('offer')}/{ref.get('sku')}"
                f"/{self.resolved_version}"
            )
        else:
            source = f"custom-image {self.custom_image_id}"
        applied = [
            a.name + _render_parameters(a.parameters)
            for a in self.artifacts
            if a.status == "Succeeded"
        ]
        fields = [
            ("disk", self.os_disk_id),
            ("lab-vm", self.id),
            ("compute-vm", self.compute_id),
            ("os-type", self.os_type),
            ("source", source),
            ("artifacts", ", ".join(applied) if applied else "(none)"),
            ("generalized", self.generalized or "no"),
            ("size-gb", str(self.disk_size_gb)),
        ]
        return vhd.render(fields, self.parent_header)


def _render_parameters(parameters: list[dict[str, Any]]) -> str:
    if not parameters:
        return ""
    inner = ",".join(f"{p.get('name')}={p.get('value')}" for p in parameters)
    return f"({inner})"


class CustomImage(LabResource):
    """A lab's custom image, from a lab VM or from a VHD in the lab's storage."""

    description: str | None = None
    author: str | None = None
    os_type: str
    vm: dict[str, Any] | None = None
    vhd: dict[str, Any] | None = None
    size_gb: int = 127
    source_header: str
    phase: Literal["creating", "ready", "deleting", "failed"] = "creating"

    @property
    def busy(self) -> bool:
        return self.phase in ("creating", "deleting")


class LabState(BaseModel):
    """One lab: its settings from the scenario and the VMs and images made in it."""

    id: str
    name: str
    subscription: str
    resource_group: str
    location: str
    tags: dict[str, str] = {}
    storage_account: str
    premium_storage_account: str
    artifacts_storage_account: str
    vm_creation_resource_group: str | None = None
    max_vms_allowed_per_lab: int | None = None
    allowed_gallery_images: list[str] | None = None  # "publisher/offer/sku"
    artifact_sources: list[str] = []
    created: dt.datetime
    unique_identifier: str
    vms: dict[str, LabVm] = {}
    images: dict[str, CustomImage] = {}

    def storage_account_id(self, name: str) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourcegroups/{self.resource_group}"
            f"/providers/microsoft.storage/storageaccounts/{name}"
        ).lower()

    def not_found(self, child: str) -> ResourceNotFound:
        """ARM's 404 for something of this lab, `child` like `virtualMachines/vm1`."""
        return ResourceNotFound.under(
            f"Microsoft.DevTestLab/labs/{self.name}/{child}", self.resource_group
        )

    def compute_resource_group(self) -> str:
        """Where DevTest Labs puts the lab's compute VMs: `<lab><13 digits>` (as recorded)."""
        digits = int(self.unique_identifier.replace("-", ""), 16) % 10**13
        return self.vm_creation_resource_group or f"{self.name}{digits:013d}"

    @property
    def virtual_network_name(self) -> str:
        return f"Dtl{self.name}"

    @property
    def subnet_name(self) -> str:
        return f"Dtl{self.name}Subnet"

    @property
    def virtual_network_id(self) -> str:
        return f"{self.id}/virtualnetworks/{self.virtual_network_name}".lower()

    @property
    def network_id(self) -> str:
        """The Microsoft.Network virtual network behind the lab's network."""
        return (
            f"/subscriptions/{self.subscription}/resourcegroups/{self.resource_group}"
            f"/providers/microsoft.network/virtualnetworks/{self.virtual_network_name}"
        ).lower()


class Environment(BaseModel):
    id: str
    name: str
    user: str
    location: str
    tags: dict[str, str] = {}
    arm_template_id: str
    arm_template_display_name: str
    parameters: list[dict[str, Any]] = []
    subscription: str
    resource_group: str
    deployment: str
    created: dt.datetime
    unique_identifier: str
    provisioning_state: Literal["Creating", "Succeeded", "Failed", "Deleting"] = "Creating"
    error: dict[str, Any] | None = None
    operation_id: str
    delete_at: dt.datetime | None = None

    @property
    def busy(self) -> bool:
        return self.provisioning_state in ("Creating", "Deleting")
