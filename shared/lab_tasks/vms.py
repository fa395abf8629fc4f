"""`lab vm create` and `lab vm delete` (the extension's Create VM and Delete VM tasks).

A VM is created as the extension creates it: the lab VM template (as the portal's "View
ARM template" exports it, like the seed's GoldenImages files) is deployed into the lab's
resource group, with `labName` and `newVMName` set from `--lab` and `--name`. When the
template's VM names no lab network (`labVirtualNetworkId`, `labSubnetName`), the lab's own
network and its first subnet open to VM creation are written into it. With `--retries N`
a failed attempt (the deployment failed, or `--fail-on-artifact-error` found a failed
artifact) is tried again up to N times, optionally after deleting the failed VM and the
failed deployment, and optionally under the name `<name>-<attempt>`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from shared.lab_tasks.clients import LabRef, poll_seconds
from shared.lab_tasks.common import (
    Context,
    Result,
    call,
    check_lab,
    delete_found,
    deployment_name,
    start_deployment,
)
from shared.lab_tasks.errors import LabTaskFailed, LabUsageError
from shared.lab_tasks.templates import (
    Template,
    parse_extension_overrides,
    parse_overrides,
    read_parameters,
    read_template,
    resolve,
)
from shared.lab_tasks.waiting import sleep_until, wait

VM_TYPE = "microsoft.devtestlab/labs/virtualmachines"
_VM_NAME = re.compile(r"^(?=.*[a-zA-Z-])[0-9a-zA-Z-]{1,15}$")


@dataclass(frozen=True)
class CreateVm:
    lab: str
    name: str
    template: str
    parameters: str | None = None
    overrides: tuple[str, ...] = ()
    parameter_overrides: str | None = None
    fail_on_artifact_error: bool = False
    retries: int = 0
    delete_failed_before_retry: bool = False
    delete_failed_deployment_before_retry: bool = False
    append_retry_number: bool = False
    wait_artifacts_minutes: float = 0


def check_vm_name(name: str) -> None:
    if not _VM_NAME.match(name) or name.startswith("-") or name.endswith("-"):
        raise LabUsageError(
            f"the VM name '{name}' must be 1-15 letters, digits or '-', begin and end with a "
            "letter or digit, and not be all digits"
        )


def _vm_resource(template: Template) -> dict[str, Any]:
    found = [
        r
        for r in template.body.get("resources") or []
        if isinstance(r, dict) and str(r.get("type", "")).lower() == VM_TYPE
    ]
    if len(found) != 1:
        raise LabUsageError(
            f"{template.source} must hold exactly one resource of type "
            f"Microsoft.DevTestLab/labs/virtualmachines; it holds {len(found)}"
        )
    return found[0]


def _with_lab_network(lab: LabRef, template: Template) -> Template:
    """The template, with the lab's network written into the VM when it names none."""
    props = _vm_resource(template).get("properties") or {}
    if props.get("labVirtualNetworkId") and props.get("labSubnetName"):
        return template
    networks = list(
        call(
            f"Listing the virtual networks of lab {lab.name}",
            lambda: lab.dtl.virtual_networks.list(lab.group, lab.name),
        )
    )
    if not networks:
        raise LabTaskFailed(f"The lab {lab.name} has no virtual network to put the VM in.")
    network = networks[0]
    subnets = [
        s.lab_subnet_name
        for s in network.subnet_overrides or []
        if s.lab_subnet_name and (s.use_in_vm_creation_permission or "Allow") == "Allow"
    ] or [s.lab_subnet_name for s in network.allowed_subnets or [] if s.lab_subnet_name]
    if not subnets:
        raise LabTaskFailed(
            f"The virtual network {network.name} of lab {lab.name} has no subnet open to VMs."
        )
    body = copy.deepcopy(template.body)
    vm = _vm_resource(Template(template.source, body))
    vm_props = vm.setdefault("properties", {})
    vm_props.setdefault("labVirtualNetworkId", network.id)
    vm_props.setdefault("labSubnetName", subnets[0])
    return Template(template.source, body)


def _expected_artifacts(template: Template) -> int:
    artifacts = (_vm_resource(template).get("properties") or {}).get("artifacts")
    return len(artifacts) if isinstance(artifacts, list) else 0


def _artifacts(lab: LabRef, name: str) -> list[Any]:
    vm = call(
        f"Reading lab VM {name}",
        lambda: lab.dtl.virtual_machines.get(
            lab.group, lab.name, name, expand="properties($expand=artifacts)"
        ),
    )
    return list(vm.artifacts or [])


def _wait_for_artifacts(lab: LabRef, name: str, minutes: float, ctx: Context) -> None:
    if minutes <= 0:
        return
    ctx.say(f"Waiting up to {minutes:g} minute(s) for the artifacts of {name}.")
    while any((a.status or "").lower() in ("installing", "pending") for a in _artifacts(lab, name)):
        sleep_until(ctx.deadline, max(poll_seconds(), 0.05), f"Applying artifacts to {name}")


def _check_artifacts(lab: LabRef, name: str, expected: int) -> None:
    if expected <= 0:
        return
    artifacts = _artifacts(lab, name)
    failed = [a for a in artifacts if (a.status or "").lower() == "failed"]
    succeeded = [a for a in artifacts if (a.status or "").lower() == "succeeded"]
    if failed or len(succeeded) < expected:
        names = ", ".join(
            (a.artifact_title or (a.artifact_id or "").rsplit("/", 1)[-1]) for a in failed
        )
        raise LabTaskFailed(
            f"At least one artifact failed to apply on {name}: expected {expected}, "
            f"{len(succeeded)} succeeded, {len(failed)} failed ({names or 'none reported'}).",
            "ArtifactFailed",
        )


def _deploy(
    lab: LabRef,
    name: str,
    deployment: str,
    template: Template,
    values: dict[str, Any],
    ctx: Context,
) -> str:
    ctx.say(f"Deploying {template.source} as {deployment} into {lab.group} (lab VM {name}).")
    poller = start_deployment(lab, lab.group, deployment, template.body, values)
    result = wait(poller, f"Creating lab VM {name}", ctx.deadline, ctx.err)
    for resource in getattr(result.properties, "output_resources", None) or []:
        if "/virtualmachines/" in (resource.id or "").lower():
            return str(resource.id)
    return lab.child("virtualmachines", name)


def _clean_up(lab: LabRef, name: str, deployment: str, task: CreateVm, ctx: Context) -> None:
    if task.delete_failed_before_retry:
        ctx.say(f"Deleting the failed lab VM {name} before retrying.")
        delete_vm_named(lab, name, ctx)
    if task.delete_failed_deployment_before_retry:
        ctx.say(f"Deleting the failed deployment {deployment}.")
        poller = call(
            f"Deleting deployment {deployment}",
            lambda: lab.arm.deployments.begin_delete(
                lab.group, deployment, polling_interval=poll_seconds()
            ),
        )
        wait(poller, f"Deleting deployment {deployment}", ctx.deadline, ctx.err)


def create_vm(task: CreateVm, ctx: Context) -> Result:
    lab = LabRef.parse(task.lab)
    check_vm_name(task.name)
    if task.retries < 0:
        raise LabUsageError("--retries must be 0 or more")
    template = read_template(task.template)
    _vm_resource(template)
    if template.declared("newVMName") is None:
        raise LabUsageError(
            f"{template.source} declares no 'newVMName' parameter, so --name cannot name the VM"
        )
    from_file = read_parameters(task.parameters)
    overrides = {
        **parse_extension_overrides(task.parameter_overrides),
        **parse_overrides(list(task.overrides)),
    }
    resolve(template, from_file, overrides, {"labName": lab.name, "newVMName": task.name})
    check_lab(lab)
    template = _with_lab_network(lab, template)
    expected = _expected_artifacts(template)
    name = task.name
    attempts = 1 + task.retries
    for attempt in range(1, attempts + 1):
        check_vm_name(name)
        values = resolve(template, from_file, overrides, {"labName": lab.name, "newVMName": name})
        deployment = deployment_name()
        try:
            vm_id = _deploy(lab, name, deployment, template, values, ctx)
            _wait_for_artifacts(lab, name, task.wait_artifacts_minutes, ctx)
            if task.fail_on_artifact_error:
                _check_artifacts(lab, name, expected)
        except LabTaskFailed as failure:
            if attempt == attempts or failure.code == "Timeout":
                raise
            ctx.say(f"Attempt {attempt} of {attempts} failed: {failure} Retrying.")
            _clean_up(lab, name, deployment, task, ctx)
            if task.append_retry_number:
                name = f"{task.name}-{attempt}"
            continue
        ctx.say(f"Created lab VM {name} in lab {lab.name}.")
        return Result({"labVmId": vm_id})
    raise AssertionError("unreachable")  # pragma: no cover


def delete_vm_named(lab: LabRef, name: str, ctx: Context) -> bool:
    """Delete a lab VM and wait; False when it was not there."""
    key = (lab.group, lab.name, name)
    return delete_found(f"lab VM {name}", lab.dtl.virtual_machines, key, ctx) is not None


def delete_vm(lab_id: str, name: str, ctx: Context) -> Result:
    lab = LabRef.parse(lab_id)
    name = name.rsplit("/", 1)[-1] if "/virtualmachines/" in name.lower() else name
    check_lab(lab)
    vm_id = lab.child("virtualmachines", name)
    if delete_vm_named(lab, name, ctx):
        ctx.say(f"Deleted lab VM {name} from lab {lab.name}.")
        return Result({"labVmId": vm_id, "deleted": True})
    ctx.say(f"The lab VM {name} is already gone from lab {lab.name}; nothing to delete.")
    return Result({"labVmId": vm_id, "deleted": False})
