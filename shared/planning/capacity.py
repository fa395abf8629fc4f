"""What Azure lets the factory lab hold while a run builds: its lab VM policy and the vCPU
quotas of its region (the regional one, and each VM family's), as the inventory read them.
Pure.

The scheduler treats them as limits on the builds it starts (each build counts its VMs and
their vCPUs); Azure's own refusal, should another user take the room meanwhile, is waited
out by the build, not a failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from pydantic import Field

from shared.model import tags
from shared.planning.inventory import LabVm
from shared.planning.plan import Record

LAB_VM_COUNT = "LabVmCount"  # the DevTest Labs policy fact behind MaxVmsAllowedPerLab
CORES = "cores"  # the Compute usage counter "Total Regional vCPUs"
T = TypeVar("T")


def _by_size(values: dict[str, T], size: str) -> T | None:
    """A size's entry; sizes compare without case (Azure's are case-insensitive)."""
    if size in values:
        return values[size]
    return {k.lower(): v for k, v in values.items()}.get(size.lower())


def for_want_of_room(code: str, message: str = "") -> bool:
    """Whether an Azure error refused a VM for want of room, which is made when another VM
    goes or a quota is raised (so the build waits and asks again rather than failing):
    `QuotaExceeded`, a lab policy's `PolicyViolation`, or `OperationNotAllowed` over a
    quota (a code Azure gives many a refusal that waiting does not cure)."""
    code = code.lower()
    if code in ("quotaexceeded", "policyviolation"):
        return True
    return code == "operationnotallowed" and "quota" in message.lower()


class Capacity(Record):
    """The factory lab's limits: None where Azure sets none, or where it could not be read."""

    max_vms: int | None = Field(
        default=None, description="MaxVmsAllowedPerLab, when the lab's policy is enabled"
    )
    vcpu_limit: int | None = Field(default=None, description="the region's vCPU quota")
    vcpus_used: int = Field(default=0, description="vCPUs of the region in use")
    vcpus_by_size: dict[str, int] = Field(
        default_factory=dict, description="vCPUs of each build VM size, by its name"
    )
    family_by_size: dict[str, str] = Field(
        default_factory=dict, description="the VM family of each build VM size, by its name"
    )
    family_limits: dict[str, int] = Field(
        default_factory=dict, description="the region's vCPU quota of each of those families"
    )
    family_used: dict[str, int] = Field(
        default_factory=dict, description="vCPUs of each of those families in use"
    )
    error: str | None = Field(default=None, description="why a limit could not be read")

    def vcpus_of(self, size: str) -> int:
        """A size's vCPUs (sizes are compared without case); 0 when unknown."""
        return _by_size(self.vcpus_by_size, size) or 0

    def family_of(self, size: str) -> str:
        """A size's VM family, lowercase; "" when unknown."""
        return (_by_size(self.family_by_size, size) or "").lower()

    def family_room(self) -> dict[str, int]:
        """How many vCPUs each family's quota leaves free, by lowercase family."""
        used = {k.lower(): v for k, v in self.family_used.items()}
        return {k.lower(): v - used.get(k.lower(), 0) for k, v in self.family_limits.items()}

    def vm_room(self, vms: Iterable[LabVm], run_id: str) -> int | None:
        """How many more VMs the lab's policy allows: its VMs now count, except this run's
        own (a resumed run adopts them, so they are counted as the builds they belong to)."""
        if self.max_vms is None:
            return None
        others = sum(1 for vm in vms if tags.get(vm.tags, tags.RUN) != run_id)
        return self.max_vms - others

    def vcpu_room(self) -> int | None:
        """How many vCPUs the region's quota leaves free."""
        if self.vcpu_limit is None:
            return None
        return self.vcpu_limit - self.vcpus_used
