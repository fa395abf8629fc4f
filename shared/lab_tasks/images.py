"""`lab image create` and `lab image delete` (the extension's Create and Delete Custom Image).

The OS state says what the VM's disk is: Windows `NonSysprepped`, `SysprepRequested` (DevTest
Labs runs sysprep first) or `SysprepApplied`; Linux `NonDeprovisioned`,
`DeprovisionRequested` or `DeprovisionApplied`. It must match the VM's OS.
"""

from __future__ import annotations

from dataclasses import dataclass

from azure.mgmt.devtestlabs.models import (
    CustomImage,
    CustomImagePropertiesFromVm,
    LinuxOsInfo,
    WindowsOsInfo,
)

from shared.lab_tasks.clients import LabRef, poll_seconds
from shared.lab_tasks.common import (
    Context,
    Result,
    call,
    check_lab,
    delete_found,
    find,
    name_of,
)
from shared.lab_tasks.errors import LabTaskFailed, LabUsageError
from shared.lab_tasks.waiting import wait

WINDOWS_STATES = ("NonSysprepped", "SysprepRequested", "SysprepApplied")
LINUX_STATES = ("NonDeprovisioned", "DeprovisionRequested", "DeprovisionApplied")
OS_STATES = WINDOWS_STATES + LINUX_STATES


@dataclass(frozen=True)
class CreateImage:
    lab: str
    name: str
    vm: str
    os_state: str
    description: str | None = None


def create_image(task: CreateImage, ctx: Context) -> Result:
    lab = LabRef.parse(task.lab)
    if task.os_state not in OS_STATES:
        raise LabUsageError(f"--os-state must be one of {', '.join(OS_STATES)}")
    vm_name = name_of(task.vm, "virtualmachines")
    check_lab(lab)
    vm = find(
        f"Reading lab VM {vm_name}",
        lambda: lab.dtl.virtual_machines.get(lab.group, lab.name, vm_name),
    )
    if vm is None:
        raise LabTaskFailed(f"The lab {lab.name} has no VM {vm_name}.", "ResourceNotFound")
    windows = task.os_state in WINDOWS_STATES
    if (vm.os_type or "").lower() != ("windows" if windows else "linux"):
        raise LabUsageError(
            f"--os-state {task.os_state} is for {'Windows' if windows else 'Linux'}, and the VM "
            f"{vm_name} runs {vm.os_type}"
        )
    source = CustomImagePropertiesFromVm(
        source_vm_id=lab.child("virtualmachines", vm_name),
        windows_os_info=WindowsOsInfo(windows_os_state=task.os_state) if windows else None,
        linux_os_info=None if windows else LinuxOsInfo(linux_os_state=task.os_state),
    )
    image = CustomImage(vm=source, description=task.description)
    ctx.say(f"Creating custom image {task.name} from lab VM {vm_name} ({task.os_state}).")
    poller = call(
        f"Starting custom image {task.name}",
        lambda: lab.dtl.custom_images.begin_create_or_update(
            lab.group, lab.name, task.name, image, polling_interval=poll_seconds()
        ),
    )
    created = wait(poller, f"Creating custom image {task.name}", ctx.deadline, ctx.err)
    ctx.say(f"Created custom image {task.name} in lab {lab.name}.")
    return Result({"customImageId": created.id or lab.child("customimages", task.name)})


def delete_image(lab_id: str, name: str, ctx: Context) -> Result:
    lab = LabRef.parse(lab_id)
    name = name_of(name, "customimages")
    check_lab(lab)
    image_id = lab.child("customimages", name)
    key = (lab.group, lab.name, name)
    found = delete_found(f"custom image {name}", lab.dtl.custom_images, key, ctx)
    if found is None:
        ctx.say(f"The custom image {name} is already gone from lab {lab.name}; nothing to delete.")
        return Result({"customImageId": image_id, "deleted": False})
    ctx.say(f"Deleted custom image {name} from lab {lab.name}.")
    return Result({"customImageId": image_id, "deleted": True})
