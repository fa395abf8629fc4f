"""The DevTest Labs, compute-disk and blob calls the factory makes, over the Azure SDKs.

Long operations are only started here (`polling=False`): the orchestrators wait with
durable timers and read status through the functions below. Every write is idempotent:
a resource that is already there with this factory's build id is adopted.
"""

from __future__ import annotations

import logging
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute.models import GrantAccessData
from azure.mgmt.devtestlabs.models import (
    ArtifactInstallProperties,
    ArtifactParameterProperties,
    CustomImage,
    CustomImagePropertiesCustom,
    GalleryImageReference,
    LabVirtualMachine,
)

from shared import azure_clients, tags
from shared.arm_ids import ResourceId, parse_lab_id, parse_resource_id
from shared.config import Artifact, GalleryImage, OsType
from shared.inventory import LabImage, LabInventory, LabVm

ADMIN_USER = "factoryadmin"
RELEASED = "released"  # metadata of a blob truncated instead of deleted
log = logging.getLogger(__name__)
UPLOADS_BLOB_SUFFIX = ".vhd"


@dataclass(frozen=True)
class Lab:
    id: ResourceId

    @classmethod
    def of(cls, lab_id: str) -> Lab:
        return cls(parse_lab_id(lab_id))

    @property
    def client(self) -> Any:
        return azure_clients.devtestlabs(self.id.subscription)

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


# --- inventory ---------------------------------------------------------------------------


def inventory(lab_id: str) -> LabInventory:
    """Every custom image and VM of a lab with tags; an unreadable lab reports why."""
    lab = Lab.of(lab_id)
    try:
        images = [
            LabImage(
                name=i.name,
                tags=i.tags or {},
                provisioning_state=i.provisioning_state or "Succeeded",
            )
            for i in lab.client.custom_images.list(lab.group, lab.name)
        ]
        vms = [
            LabVm(
                name=v.name,
                tags=v.tags or {},
                provisioning_state=v.provisioning_state or "Succeeded",
            )
            for v in lab.client.virtual_machines.list(lab.group, lab.name)
        ]
    except HttpResponseError as exc:
        return LabInventory(lab=lab_id, error=_reason(exc))
    return LabInventory(lab=lab_id, images=images, vms=vms)


def newest_gallery_versions(lab_id: str, wanted: list[GalleryImage]) -> dict[str, str]:
    """The newest version of each wanted Marketplace image in the lab's region.

    DevTest Labs lists gallery images as `latest` only; the concrete versions come from
    Microsoft.Compute (virtual machine images), keyed `publisher/offer/sku` lowercased.
    """
    lab = Lab.of(lab_id)
    client = azure_clients.compute(lab.id.subscription)
    location = _lab_location(lab)
    newest: dict[str, str] = {}
    for image in {g.key: g for g in wanted}.values():
        try:
            listed = client.virtual_machine_images.list(
                location, image.publisher, image.offer, image.sku
            )
        except HttpResponseError as exc:
            # One unknown image must not stop the run: it keeps `latest`, and its build
            # reports the service's own error.
            log.warning("cannot list versions of %s: %s", image.key, _reason(exc))
            continue
        versions = [v.name for v in listed if v.name]
        if versions:
            newest[image.key] = max(versions, key=_version_key)
    return newest


def _version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.split("."))


# --- build and test VMs ------------------------------------------------------------------


@dataclass(frozen=True)
class VmSpec:
    lab: str
    name: str
    os: OsType
    size: str
    artifacts: list[Artifact]
    tags: dict[str, str]
    gallery: GalleryImageReference | None = None
    custom_image: str | None = None  # name of a custom image in the same lab
    notes: str = ""


def begin_create_vm(spec: VmSpec) -> str:
    """Start creating a lab VM, or adopt it if this run already created it for this build.

    Returns "created" or "adopted". The admin password is generated here and never leaves
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
            return "adopted"
        holder = tags.get(existing.tags, tags.RUN)
        raise RuntimeError(
            f"VM {spec.name} in lab {lab.name} already exists"
            + (f" for run {holder}; that run is building this version" if holder else "")
            + "; not touching it"
        )
    vm = LabVirtualMachine(
        location=_lab_location(lab),
        tags=spec.tags,
        notes=spec.notes,
        size=spec.size,
        user_name=ADMIN_USER,
        password=_password(),
        is_authentication_with_ssh_key=False,
        disallow_public_ip_address=True,
        allow_claim=False,
        storage_type="Standard",
        gallery_image_reference=spec.gallery,
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
    lab.client.virtual_machines.begin_create_or_update(
        lab.group, lab.name, spec.name, vm, polling=False
    )
    return "created"


@dataclass(frozen=True)
class VmState:
    """What the monitor needs: done (ready or failed) and why."""

    state: str  # "running" | "ready" | "failed" | "missing"
    detail: str = ""
    artifacts_applied: int = 0
    artifacts_total: int = 0
    power_state: str = ""


def vm_state(lab_id: str, name: str) -> VmState:
    """`ready` once provisioned and every artifact applied (see `power_state` for stopped)."""
    lab = Lab.of(lab_id)
    try:
        vm = lab.client.virtual_machines.get(
            lab.group, lab.name, name, expand="properties($expand=artifacts)"
        )
    except ResourceNotFoundError:
        return VmState("missing", f"VM {name} does not exist in lab {lab.name}")
    status = vm.artifact_deployment_status
    applied = (status.artifacts_applied or 0) if status else 0
    total = (status.total_artifacts or 0) if status else 0
    failed = [a for a in vm.artifacts or [] if (a.status or "").lower() == "failed"]
    if failed:
        artifact = failed[0]
        artifact_name = (artifact.artifact_id or "").rsplit("/", 1)[-1]
        message = artifact.deployment_status_message or "no message"
        return VmState("failed", f"artifact {artifact_name} failed: {message}", applied, total)
    state = (vm.provisioning_state or "").lower()
    if state == "failed":
        return VmState("failed", "the VM's provisioning failed", applied, total)
    if state != "succeeded":
        return VmState("running", f"provisioning {state or 'pending'}", applied, total)
    if status and (status.deployment_status or "").lower() == "failed":
        return VmState("failed", "artifact deployment failed", applied, total)
    if total and applied < total:
        return VmState("running", f"artifacts {applied}/{total}", applied, total)
    power = str(vm.last_known_power_state or "")
    return VmState("ready", f"power state {power or 'unknown'}", applied, total, power)


def begin_delete_vm(lab_id: str, name: str, mine: dict[str, str]) -> bool:
    """Start deleting a VM this run made for this build (factory, build and run tags all
    match `mine`). False: it is gone, or it is not ours to delete."""
    lab = Lab.of(lab_id)
    return _begin_delete(lab.client.virtual_machines, lab, name, lambda t: _same_build(t, mine))


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
    return _begin_delete(
        lab.client.virtual_machines, lab, name, lambda t: _owned_or_refuse(t, factory_id, name)
    )


def begin_stop_vm(lab_id: str, name: str) -> None:
    """Start stopping a lab VM (a capture needs a stopped VM)."""
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


def grant_disk_read(disk: ResourceId, seconds: int) -> str:
    """A short-lived read SAS for a managed disk (disk grant access; completes in seconds)."""
    client = azure_clients.compute(disk.subscription)
    poller = client.disks.begin_grant_access(
        disk.resource_group,
        disk.name,
        GrantAccessData(access="Read", duration_in_seconds=seconds),
        polling_interval=1,
    )
    return str(poller.result().access_sas)


def revoke_disk_read(disk: ResourceId) -> None:
    client = azure_clients.compute(disk.subscription)
    client.disks.begin_revoke_access(disk.resource_group, disk.name, polling_interval=1).result()


# --- blobs in a lab's uploads container ---------------------------------------------------


_UPLOAD_SAS_REUSE_SECONDS = 300
_upload_sas: dict[str, tuple[float, str, str]] = {}
_upload_lock = threading.Lock()


def upload_url(lab_id: str, blob_name: str) -> str:
    """A SAS URL (read, create, write) of `blob_name` in the lab's uploads container.

    The SAS DevTest Labs returns is for the whole container, so it is reused for a few
    minutes for every blob of that lab instead of asking again per blob.
    """
    key = lab_id.lower()
    now = time.monotonic()
    with _upload_lock:
        cached = _upload_sas.get(key)
    if cached is None or cached[0] < now:
        lab = Lab.of(lab_id)
        result = lab.client.labs.generate_upload_uri(lab.group, lab.name, blob_name=blob_name)
        path, _, query = str(result.upload_uri).partition("?")
        container = path.rstrip("/")
        if container.endswith("/" + blob_name):
            container = container[: -len(blob_name) - 1]
        reuse = _UPLOAD_SAS_REUSE_SECONDS if "sr=c" in query.split("&") else 0
        cached = (now + reuse, container, query)
        with _upload_lock:
            _upload_sas[key] = cached
    _, container, query = cached
    return f"{container}/{blob_name}?{query}"


def start_copy(source_url: str, lab_id: str, blob_name: str, metadata: dict[str, str]) -> str:
    """Start a server-side copy into the lab's uploads container; adopts a copy under way."""
    destination = azure_clients.blob(upload_url(lab_id, blob_name))
    if destination.exists():
        props = destination.get_blob_properties()
        status = (props.copy.status or "").lower() if props.copy else ""
        if not _released(props) and status in ("pending", "success"):
            return status
    destination.start_copy_from_url(source_url, metadata=metadata)
    return "pending"


def _released(props: Any) -> bool:
    """A blob truncated by `delete_blob` (no delete right): as good as absent."""
    return bool((props.metadata or {}).get(RELEASED)) or not props.size


@dataclass(frozen=True)
class CopyState:
    state: str  # "pending" | "success" | "failed" | "missing"
    progress: str = ""
    detail: str = ""


def copy_state(lab_id: str, blob_name: str) -> CopyState:
    client = azure_clients.blob(upload_url(lab_id, blob_name))
    if not client.exists():
        return CopyState("missing", detail=f"blob {blob_name} does not exist")
    props = client.get_blob_properties()
    if _released(props):
        return CopyState("missing", detail=f"blob {blob_name} was released")
    copy = props.copy
    if copy is None or not copy.id:
        return CopyState("success")
    status = (copy.status or "").lower()
    if status == "success":
        return CopyState("success", copy.progress or "")
    if status in ("failed", "aborted"):
        return CopyState("failed", copy.progress or "", copy.status_description or status)
    return CopyState("pending", copy.progress or "")


def blob_metadata(lab_id: str, blob_name: str) -> dict[str, str] | None:
    client = azure_clients.blob(upload_url(lab_id, blob_name))
    try:
        return dict(client.get_blob_properties().metadata or {})
    except ResourceNotFoundError:
        return None


def set_blob_metadata(lab_id: str, blob_name: str, metadata: dict[str, str]) -> None:
    azure_clients.blob(upload_url(lab_id, blob_name)).set_blob_metadata(metadata)


def delete_blob(lab_id: str, blob_name: str) -> bool:
    """Delete a blob from the lab's uploads container. False: it was not there.

    An upload SAS may not delete, so this uses the factory's token (a storage data role on
    the lab's account, if granted); without that role it releases the bytes by truncating
    the blob to nothing, which the upload SAS allows.
    """
    sas_url = upload_url(lab_id, blob_name)
    try:
        azure_clients.blob_with_token(sas_url.split("?", 1)[0]).delete_blob()
        return True
    except ResourceNotFoundError:
        return False
    except HttpResponseError as exc:
        if exc.status_code not in (401, 403):
            raise
    client = azure_clients.blob(sas_url)
    if not client.exists():
        return False
    client.upload_blob(b"", overwrite=True, metadata={RELEASED: "true"})
    return True


def list_vhds(lab_id: str) -> list[str]:
    """Names of the blobs in the lab's uploads container (DevTest Labs listVhds)."""
    lab = Lab.of(lab_id)
    names = []
    for vhd in lab.client.labs.list_vhds(lab.group, lab.name):
        uri = str(vhd.id or "")
        path = uri.split("?", 1)[0]
        marker = "/uploads/"
        if marker in path:
            names.append(path.split(marker, 1)[1])
    return names


# --- custom images ------------------------------------------------------------------------


def begin_create_image_from_vhd(
    lab_id: str, name: str, blob_name: str, os: OsType, image_tags: dict[str, str], note: str
) -> str:
    """Start creating a custom image from a VHD in the lab's uploads; adopts our own."""
    lab = Lab.of(lab_id)
    try:
        existing = lab.client.custom_images.get(lab.group, lab.name, name)
    except ResourceNotFoundError:
        existing = None
    if existing is not None:
        if tags.get(existing.tags, tags.BUILD_ID) == image_tags.get(tags.BUILD_ID):
            return "adopted"
        raise RuntimeError(
            f"a custom image named {name} already exists in lab {lab.name} and is not this "
            "build's; refusing to touch it"
        )
    image = CustomImage(
        location=_lab_location(lab),
        tags=image_tags,
        description=note,
        author="image factory",
        vhd=CustomImagePropertiesCustom(
            image_name=blob_name, sys_prep=os == OsType.WINDOWS, os_type=os.value
        ),
    )
    lab.client.custom_images.begin_create_or_update(lab.group, lab.name, name, image, polling=False)
    return "created"


def image_state(lab_id: str, name: str) -> str:
    """`succeeded`, `failed`, `missing`, or the provisioning state while it runs."""
    lab = Lab.of(lab_id)
    try:
        image = lab.client.custom_images.get(lab.group, lab.name, name)
    except ResourceNotFoundError:
        return "missing"
    return str(image.provisioning_state or "succeeded").lower()


def begin_delete_image(lab_id: str, name: str, factory_id: str) -> bool:
    """Start deleting a custom image that carries this factory's id. False: already gone."""
    lab = Lab.of(lab_id)
    return _begin_delete(
        lab.client.custom_images, lab, name, lambda t: _owned_or_refuse(t, factory_id, name)
    )


def _begin_delete(operations: Any, lab: Lab, name: str, may: Callable[[Any], bool]) -> bool:
    """Start deleting a lab resource if `may(its tags)`; already deleting counts as started.
    False: it is not there, or it may not be deleted."""
    try:
        found = operations.get(lab.group, lab.name, name)
    except ResourceNotFoundError:
        return False
    if not may(found.tags):
        return False
    if (found.provisioning_state or "").lower() != "deleting":
        operations.begin_delete(lab.group, lab.name, name, polling=False)
    return True


def _owned_or_refuse(found: dict[str, str] | None, factory_id: str, name: str) -> bool:
    if not tags.owned_by(found, factory_id):
        raise RuntimeError(f"{name} does not carry this factory's id; not deleting it")
    return True


# --- helpers ------------------------------------------------------------------------------


_LOCATIONS: dict[str, str] = {}


def _lab_location(lab: Lab) -> str:
    key = str(lab.id).lower()
    if key not in _LOCATIONS:
        _LOCATIONS[key] = str(lab.client.labs.get(lab.group, lab.name).location)
    return _LOCATIONS[key]


def _password() -> str:
    """A random admin password meeting Azure's complexity rules; never stored or returned."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(24))
    return f"{core}!a7Q"


def _param(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _reason(exc: HttpResponseError) -> str:
    code = exc.error.code if exc.error else None
    message = exc.error.message if exc.error else str(exc.message)
    return f"{exc.status_code} {code or ''}: {message}".replace(" :", ":")
