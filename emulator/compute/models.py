"""Microsoft.Compute as DevTest Labs leaves it: the VM behind a lab VM and its OS disk.

Compute VMs and disks are views of lab VMs (they exist once the lab VM's deployment
created them). Disk access writes the disk's synthetic VHD into Azurite and returns a
read SAS to it; revoking deletes that blob, so the SAS stops working.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from emulator.compute import exceptions as cx
from emulator.devtestlabs.state import LabVm
from emulator.exceptions import InvalidParameter, NotImplementedByEmulator, ResourceNotFound
from emulator.faults import RequestKind
from emulator.lro import Operation
from emulator.registry import Registry

PROVIDER = "Microsoft.Compute"
DISK_ACCOUNT = "emulatordisks"
DISK_CONTAINER = "disks"


class ComputeBackend:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def _vms(self, subscription: str) -> list[LabVm]:
        sub = subscription.lower()
        return [
            vm
            for lab in self.registry.all_labs()
            if lab.subscription.lower() == sub
            for vm in lab.vms.values()
            if vm.compute_exists
        ]

    def _vms_in(self, subscription: str, resource_group: str) -> list[LabVm]:
        group = resource_group.lower()
        return [vm for vm in self._vms(subscription) if vm.compute_resource_group.lower() == group]

    def virtual_machine(self, subscription: str, resource_group: str, name: str) -> LabVm:
        for vm in self._vms_in(subscription, resource_group):
            if vm.compute_name.lower() == name.lower():
                return vm
        raise ResourceNotFound.under(f"Microsoft.Compute/virtualMachines/{name}", resource_group)

    def disk(self, subscription: str, resource_group: str, name: str) -> LabVm:
        """The lab VM whose OS disk is `name` (a disk exists only as a VM's OS disk)."""
        for vm in self._vms_in(subscription, resource_group):
            if vm.os_disk_name.lower() == name.lower():
                return vm
        raise ResourceNotFound.under(f"Microsoft.Compute/disks/{name}", resource_group)

    def grant_access(
        self, subscription: str, vm: LabVm, body: dict[str, Any], request: RequestKind
    ) -> Operation:
        access = body.get("access")
        if access is None:
            raise InvalidParameter("The request body is missing the required property 'access'.")
        if str(access) == "Write":
            raise NotImplementedByEmulator("The emulator grants only Read access to disks.")
        if str(access) != "Read":
            raise cx.InvalidAccessLevel(f"The access level '{access}' is not Read or Write.")
        duration = body.get("durationInSeconds")
        if not isinstance(duration, int) or duration <= 0:
            raise InvalidParameter(
                "The property 'durationInSeconds' must be a positive number of seconds."
            )
        if vm.power_state != "deallocated":
            # Compute's answer for a disk whose VM is running or only shut down (still
            # allocated), as users report it (microsoft/AzureStorageExplorer#6654).
            raise cx.AccessNotPermitted(
                f"Access not permitted because disk {vm.os_disk_name} is currently attached "
                f"to running VM {vm.compute_arm_id}."
            )
        blobs = self.registry.blobs()
        blob = f"{vm.os_disk_name}.vhd"
        blobs.write_page_blob(DISK_ACCOUNT, DISK_CONTAINER, blob, vm.disk_bytes())
        vm.disk_grant_blob = blob
        expiry = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=duration)
        sas = blobs.blob_read_sas(DISK_ACCOUNT, DISK_CONTAINER, blob, expiry)
        operation = self.registry.start_operation(
            PROVIDER, vm.location, "beginGetAccess", vm.os_disk_id, subscription
        )
        operation.result = {"accessSAS": sas}
        self._finish_later(operation, self.registry.scenario.durations.grant_access, request)
        return operation

    def revoke_access(self, subscription: str, vm: LabVm, request: RequestKind) -> Operation:
        if vm.disk_grant_blob:
            self.registry.blobs().delete(DISK_ACCOUNT, DISK_CONTAINER, vm.disk_grant_blob)
            vm.disk_grant_blob = None
        operation = self.registry.start_operation(
            PROVIDER, vm.location, "endGetAccess", vm.os_disk_id, subscription
        )
        self._finish_later(operation, self.registry.scenario.durations.revoke_access, request)
        return operation

    def _finish_later(self, operation: Operation, seconds: float, request: RequestKind) -> None:
        """The operation ends after `seconds` of simulated time; a fault makes it fail."""
        factor = self.registry.faults.slow_factor(request)
        at = operation.start + dt.timedelta(seconds=seconds * factor)
        fault = self.registry.faults.on_operation(request)
        if fault is None:
            operation.schedule(at)
        else:
            operation.schedule(
                at,
                "Failed",
                fault.code or "InternalExecutionError",
                fault.message or "The disk operation failed.",
            )

    def advance(self, now: dt.datetime) -> None:
        """Nothing to do: disk operations move on their own schedule (`Operation.schedule`,
        applied by `Core.advance`)."""

    def on_vm_removed(self, vm: LabVm) -> None:
        if vm.disk_grant_blob and self.registry.has_blobs:
            self.registry.blobs().delete(DISK_ACCOUNT, DISK_CONTAINER, vm.disk_grant_blob)
            vm.disk_grant_blob = None
