"""Activities for build and test VMs: create (or adopt), read status, delete."""

from __future__ import annotations

import azure.durable_functions as df
from azure.core.exceptions import HttpResponseError

from activities._scope import activity
from shared.azure import vms
from shared.azure.errors import reason
from shared.function_names import CREATE_BUILD_VM, DELETE_EXPIRED_VM, DELETE_VM, STOP_VM, VM_STATUS
from shared.model.arm_ids import parse_lab_id
from shared.planning.capacity import for_want_of_room
from shared.run.payloads import BuildVmRequest, CreatedVm, OperationRef, VmRef, VmStatus

bp = df.Blueprint()


@activity(bp, CREATE_BUILD_VM)
def create_build_vm(request: BuildVmRequest) -> CreatedVm:
    """Start the VM; the admin password is generated inside and never returned."""
    try:
        started = vms.begin_create_vm(request)
    except HttpResponseError as exc:
        code, message = (exc.error.code, exc.error.message) if exc.error else ("", "")
        if exc.status_code == 409 and for_want_of_room(str(code or ""), str(message or "")):
            return CreatedVm(outcome="refused", detail=reason(exc))
        raise
    operation = (
        OperationRef(subscription=parse_lab_id(request.lab).subscription, url=started.operation)
        if started.operation
        else None
    )
    return CreatedVm(outcome=started.outcome, operation=operation)


@activity(bp, VM_STATUS)
def vm_status(ref: VmRef) -> VmStatus:
    return vms.vm_state(ref.lab, ref.name)


@activity(bp, DELETE_VM)
def delete_vm(ref: VmRef) -> bool:
    """Start deleting the VM this run made for this build; False once it is gone (or if it
    is not ours: then it is not ours to delete)."""
    return vms.begin_delete_vm(ref.lab, ref.name, ref.owner_tags())


@activity(bp, STOP_VM)
def stop_vm(ref: VmRef) -> bool:
    """Start stopping a VM this run made (a capture needs it stopped)."""
    vms.begin_stop_vm(ref.lab, ref.name)
    return True


@activity(bp, DELETE_EXPIRED_VM)
def delete_expired_vm(ref: VmRef) -> bool:
    """Start deleting an expired VM of this factory (never one without its id tag)."""
    return vms.begin_delete_owned_vm(ref.lab, ref.name, ref.factory_id)
