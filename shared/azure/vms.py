"""Build and test VMs in a lab: create (or adopt), read state, stop, delete, find the OS disk.

Every write is idempotent: a VM that is already there with this build's tags is adopted;
one that anyone else made is never touched.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.devtestlabs.models import (
    ArtifactInstallProperties,
    ArtifactParameterProperties,
    GalleryImageReference,
    LabVirtualMachine,
)

from shared.azure import labs
from shared.azure.labs import Lab
from shared.azure.operations import keep_headers
from shared.model import tags
from shared.model.arm_ids import ResourceId, parse_resource_id
from shared.run.payloads import BuildVmRequest, VmStatus

ADMIN_USER = "factoryadmin"


@dataclass(frozen=True)
class VmStarted:
    outcome: str  # "created" | "adopted"
    operation: str | None = None  # the create's Azure-AsyncOperation URL


def begin_create_vm(spec: BuildVmRequest) -> VmStarted:
    """Start creating a lab VM, or adopt it if this run already created it for this build.

    The create's operation is returned: if the deployment fails, its error says why
    (AllocationFailed, a quota...). The admin password is generated here and never leaves
    this function. A VM of the same name that another run (or anyone else) made is not
    touched: that is an error naming who has it.
    """
    lab = Lab.of(spec.lab)
    try:
        existing = lab.client.virtual_machines.get(lab.group, lab.name, spec.name)
    except ResourceNotFoundError:
        existing = None
    if existing is not None:
        if _same_build(existing.tags, spec.tags):
            return VmStarted("adopted")
        holder = tags.get(existing.tags, tags.RUN)
        raise RuntimeError(
            f"VM {spec.name} in lab {lab.name} already exists"
            + (f" for run {holder}; that run is building this version" if holder else "")
            + "; not touching it"
        )
    headers: dict[str, str] = {}
    lab.client.virtual_machines.begin_create_or_update(
        lab.group,
        lab.name,
        spec.name,
        _lab_vm(lab, spec),
        polling=False,
        raw_response_hook=keep_headers(headers),
    )
    return VmStarted("created", headers.get("azure-asyncoperation"))


def _lab_vm(lab: Lab, spec: BuildVmRequest) -> LabVirtualMachine:
    network, subnet = labs.network(lab)
    return LabVirtualMachine(
        location=labs.location(lab),
        tags=spec.tags,
        lab_virtual_network_id=network,
        lab_subnet_name=subnet,
        notes=spec.notes,
        size=spec.size,
        user_name=ADMIN_USER,
        password=_password(),
        is_authentication_with_ssh_key=False,
        disallow_public_ip_address=True,
        allow_claim=False,
        storage_type="Standard",
        gallery_image_reference=_gallery(spec),
        custom_image_id=lab.custom_image_id(spec.custom_image) if spec.custom_image else None,
        artifacts=[
            ArtifactInstallProperties(
                artifact_id=lab.artifact_id(a),
                parameters=[
                    ArtifactParameterProperties(name=k, value=_param(v))
                    for k, v in a.parameters.items()
                ],
            )
            for a in spec.artifacts
        ],
    )


def _gallery(spec: BuildVmRequest) -> GalleryImageReference | None:
    image = spec.gallery
    if image is None:
        return None
    return GalleryImageReference(
        offer=image.offer,
        publisher=image.publisher,
        sku=image.sku,
        os_type=spec.os.value,
        version=image.version,
    )


def vm_state(lab_id: str, name: str) -> VmStatus:
    """`ready` once provisioned and every artifact applied, with the compute VM's power
    state (a guest shutdown leaves it `stopped`, still allocated; DevTest Labs' stop
    deallocates it)."""
    lab = Lab.of(lab_id)
    try:
        vm = lab.client.virtual_machines.get(
            lab.group, lab.name, name, expand="properties($expand=artifacts,computeVm)"
        )
    except ResourceNotFoundError:
        return VmStatus(state="missing", detail=f"VM {name} does not exist in lab {lab.name}")
    status = vm.artifact_deployment_status
    counts = {
        "artifacts_applied": (status.artifacts_applied or 0) if status else 0,
        "artifacts_total": (status.total_artifacts or 0) if status else 0,
    }
    failed = [a for a in vm.artifacts or [] if (a.status or "").lower() == "failed"]
    if failed:
        artifact = failed[0]
        artifact_name = (artifact.artifact_id or "").rsplit("/", 1)[-1]
        message = artifact.deployment_status_message or "no message"
        detail = f"artifact {artifact_name} failed: {message}"
        return VmStatus(state="failed", detail=detail, artifact_failed=True, **counts)
    state = (vm.provisioning_state or "").lower()
    if state == "failed":
        return VmStatus(state="failed", detail="the VM's provisioning failed", **counts)
    if state != "succeeded":
        return VmStatus(state="running", detail=f"provisioning {state or 'pending'}", **counts)
    if status and (status.deployment_status or "").lower() == "failed":
        detail = "artifact deployment failed"
        return VmStatus(state="failed", detail=detail, artifact_failed=True, **counts)
    applied, total = counts["artifacts_applied"], counts["artifacts_total"]
    if total and applied < total:
        return VmStatus(state="running", detail=f"artifacts {applied}/{total}", **counts)
    power = _power_state(vm)
    detail = f"power state {power or 'unknown'}"
    return VmStatus(state="ready", detail=detail, power_state=power, **counts)


def _power_state(vm: LabVirtualMachine) -> str:
    """The compute VM's `PowerState/<state>` status; else what DevTest Labs last saw."""
    statuses = vm.compute_vm.statuses if vm.compute_vm else None
    for status in statuses or []:
        code = status.code or ""
        if code.lower().startswith("powerstate/"):
            return code.split("/", 1)[1].lower()
    return str(vm.last_known_power_state or "").lower()


def begin_delete_vm(lab_id: str, name: str, mine: dict[str, str]) -> bool:
    """Start deleting a VM this run made for this build (factory, build and run tags all
    match `mine`). False: it is gone, or it is not ours to delete."""
    lab = Lab.of(lab_id)
    return labs.begin_delete(lab.client.virtual_machines, lab, name, lambda t: _same_build(t, mine))


def _same_build(found: dict[str, str] | None, mine: dict[str, str]) -> bool:
    """The resource carries this factory's id and this build's and this run's tags."""
    return (
        tags.owned_by(found, mine.get(tags.FACTORY, ""))
        and tags.get(found, tags.BUILD_ID) == mine.get(tags.BUILD_ID)
        and tags.get(found, tags.RUN) == mine.get(tags.RUN)
    )


def begin_delete_owned_vm(lab_id: str, name: str, factory_id: str) -> bool:
    """Start deleting a VM carrying this factory's id (the orphan sweeper). False: gone."""
    lab = Lab.of(lab_id)
    return labs.begin_delete(
        lab.client.virtual_machines, lab, name, lambda t: labs.owned_or_refuse(t, factory_id, name)
    )


def begin_stop_vm(lab_id: str, name: str) -> None:
    """Start DevTest Labs' stop, which deallocates the VM: Azure grants access to an OS disk
    only when its VM is deallocated, and a guest shutdown leaves it allocated."""
    lab = Lab.of(lab_id)
    lab.client.virtual_machines.begin_stop(lab.group, lab.name, name, polling=False)


def os_disk(lab_id: str, name: str) -> ResourceId:
    """The managed OS disk behind a lab VM."""
    lab = Lab.of(lab_id)
    vm = lab.client.virtual_machines.get(
        lab.group, lab.name, name, expand="properties($expand=computeVm)"
    )
    disk_id = vm.compute_vm.os_disk_id if vm.compute_vm else None
    if not disk_id:
        raise RuntimeError(f"VM {name} in lab {lab.name} reports no OS disk")
    return parse_resource_id(disk_id)


def _password() -> str:
    """A random admin password meeting Azure's complexity rules; never stored or returned."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(24))
    return f"{core}!a7Q"


def _param(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
