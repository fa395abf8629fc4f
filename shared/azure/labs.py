"""The DevTest Labs, compute-disk and blob calls the factory makes, over the Azure SDKs.

Long operations are only started here (`polling=False`): the orchestrators wait with
durable timers and read status through the functions below. Every write is idempotent:
a resource that is already there with this factory's build id is adopted.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.pipeline import PipelineResponse
from azure.core.rest import HttpRequest
from azure.mgmt.compute.models import GrantAccessData
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.devtestlabs.models import (
    ArtifactInstallProperties,
    ArtifactParameterProperties,
    CustomImage,
    CustomImagePropertiesCustom,
    GalleryImageReference,
    LabVirtualMachine,
)
from azure.storage.blob import BlobClient, BlobSasPermissions, UserDelegationKey, generate_blob_sas

from shared.azure import clients
from shared.config.models import Artifact, GalleryImage, OsType
from shared.model import tags
from shared.model.arm_ids import ResourceId, parse_lab_id, parse_resource_id
from shared.planning.inventory import LabImage, LabInventory, LabVm

ADMIN_USER = "factoryadmin"
RELEASED = "released"  # metadata of a blob truncated instead of deleted
UPLOADS_CONTAINER = "uploads"
DEALLOCATED = "deallocated"
log = logging.getLogger(__name__)


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
    client = clients.compute(lab.id.subscription)
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


@dataclass(frozen=True)
class VmStarted:
    outcome: str  # "created" | "adopted"
    operation: str | None = None  # the create's Azure-AsyncOperation URL


def begin_create_vm(spec: VmSpec) -> VmStarted:
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
    network, subnet = _lab_network(lab)
    vm = LabVirtualMachine(
        location=_lab_location(lab),
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
    headers: dict[str, str] = {}
    lab.client.virtual_machines.begin_create_or_update(
        lab.group, lab.name, spec.name, vm, polling=False, raw_response_hook=_keep_headers(headers)
    )
    return VmStarted("created", headers.get("azure-asyncoperation"))


@dataclass(frozen=True)
class VmState:
    """What the monitor needs: done (ready or failed) and why."""

    state: str  # "running" | "ready" | "failed" | "missing"
    detail: str = ""
    artifacts_applied: int = 0
    artifacts_total: int = 0
    power_state: str = ""  # the compute VM's, lowercase: running, stopped, deallocated...
    artifact_failed: bool = False


def vm_state(lab_id: str, name: str) -> VmState:
    """`ready` once provisioned and every artifact applied, with the compute VM's power
    state (a guest shutdown leaves it `stopped`, still allocated; DevTest Labs' stop
    deallocates it)."""
    lab = Lab.of(lab_id)
    try:
        vm = lab.client.virtual_machines.get(
            lab.group, lab.name, name, expand="properties($expand=artifacts,computeVm)"
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
        detail = f"artifact {artifact_name} failed: {message}"
        return VmState("failed", detail, applied, total, artifact_failed=True)
    state = (vm.provisioning_state or "").lower()
    if state == "failed":
        return VmState("failed", "the VM's provisioning failed", applied, total)
    if state != "succeeded":
        return VmState("running", f"provisioning {state or 'pending'}", applied, total)
    if status and (status.deployment_status or "").lower() == "failed":
        return VmState("failed", "artifact deployment failed", applied, total, artifact_failed=True)
    if total and applied < total:
        return VmState("running", f"artifacts {applied}/{total}", applied, total)
    power = _power_state(vm)
    return VmState("ready", f"power state {power or 'unknown'}", applied, total, power)


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


# --- disk access: started here, watched by the orchestrator ------------------------------


def begin_disk_read(disk: ResourceId, seconds: int) -> str:
    """Start a disk grant (a read SAS for `seconds`). Returns its operation's URL: the SAS
    itself is read by `start_capture_copy`, so it never leaves an activity."""
    client = clients.compute(disk.subscription)
    headers: dict[str, str] = {}
    client.disks.begin_grant_access(
        disk.resource_group,
        disk.name,
        GrantAccessData(access="Read", duration_in_seconds=seconds),
        polling=False,
        raw_response_hook=_keep_headers(headers),
    )
    return _operation_url(headers, f"disk grant of {disk.name}")


def begin_disk_revoke(disk: ResourceId) -> str:
    """Start revoking a disk's grants. Returns the operation's URL."""
    client = clients.compute(disk.subscription)
    headers: dict[str, str] = {}
    client.disks.begin_revoke_access(
        disk.resource_group, disk.name, polling=False, raw_response_hook=_keep_headers(headers)
    )
    return _operation_url(headers, f"disk revoke of {disk.name}")


@dataclass(frozen=True)
class OperationState:
    state: str  # "running" | "succeeded" | "failed"
    detail: str = ""


def operation_state(subscription: str, url: str) -> OperationState:
    """One read of an Azure-AsyncOperation status resource."""
    body = _operation_body(subscription, url)
    status = str(body.get("status", "")).lower()
    if status in ("succeeded", "failed", "canceled"):
        error = body.get("error") or {}
        detail = f"{error.get('code', '')}: {error.get('message', '')}" if error else ""
        return OperationState("succeeded" if status == "succeeded" else "failed", detail)
    return OperationState("running", status)


def disk_read_url(subscription: str, grant_url: str) -> str:
    """The read SAS a succeeded disk grant produced (`properties.output.accessSAS`)."""
    body = _operation_body(subscription, grant_url)
    output = (body.get("properties") or {}).get("output") or {}
    sas = output.get("accessSAS")
    if str(body.get("status", "")).lower() != "succeeded" or not sas:
        raise RuntimeError("the disk grant has not produced a read SAS")
    return str(sas)


def _operation_body(subscription: str, url: str) -> dict[str, Any]:
    client = clients.compute(subscription)
    response = client.send_request(HttpRequest("GET", url))
    if response.status_code >= 400:
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    body = response.json()
    return body if isinstance(body, dict) else {}


def _keep_headers(into: dict[str, str]) -> Callable[[PipelineResponse[Any, Any]], None]:
    def hook(response: PipelineResponse[Any, Any]) -> None:
        into.update({k.lower(): v for k, v in response.http_response.headers.items()})

    return hook


def _operation_url(headers: dict[str, str], what: str) -> str:
    url = headers.get("azure-asyncoperation") or headers.get("location")
    if not url:
        raise RuntimeError(f"the {what} was accepted without an operation to follow")
    return url


# --- blobs ----------------------------------------------------------------------------------
#
# The catalog is the factory lab's `uploads` container, which the factory reads and writes
# with its own identity (Storage Blob Data Contributor on that account): listing it, copying
# a disk into it and labelling a version cost no ARM write. A target lab's uploads are
# reached only through DevTest Labs' generateUploadUri: a SAS for one blob (read, create,
# write), one ARM write each, so each one is kept for that blob until shortly before it
# expires and never leaves the process.


@dataclass(frozen=True)
class BlobAt:
    """A blob in a lab's uploads container, reached with the factory's token (`catalog`)
    or through an upload URI."""

    lab: str
    name: str
    catalog: bool = False


def blob_url(blob: BlobAt) -> str:
    """The blob's plain URL in the lab's storage account (what a custom image names)."""
    return f"{_container_url(blob.lab)}/{blob.name}"


def _client(blob: BlobAt) -> BlobClient:
    if blob.catalog:
        return clients.blob_with_token(blob_url(blob))
    return clients.blob(upload_url(blob.lab, blob.name))


def _container_url(lab_id: str) -> str:
    account = _lab_storage_account(Lab.of(lab_id))
    endpoint = clients.settings().blob_endpoint.replace("{account}", account)
    return f"{endpoint.rstrip('/')}/{UPLOADS_CONTAINER}"


_SAS_MARGIN = timedelta(minutes=10)
_upload_sas: dict[tuple[str, str], tuple[datetime, str]] = {}
_upload_lock = threading.Lock()


def upload_url(lab_id: str, blob_name: str) -> str:
    """A SAS URL of `blob_name` in the lab's uploads container (DevTest Labs'
    generateUploadUri), reused for that blob until shortly before it expires."""
    key = (lab_id.lower(), blob_name)
    now = datetime.now(UTC)
    with _upload_lock:
        cached = _upload_sas.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    lab = Lab.of(lab_id)
    answer = lab.client.labs.generate_upload_uri(lab.group, lab.name, blob_name=blob_name)
    url = str(answer.upload_uri)
    expiry = _sas_expiry(url)
    if expiry is not None:
        with _upload_lock:
            _upload_sas[key] = (expiry - _SAS_MARGIN, url)
    return url


def _sas_expiry(url: str) -> datetime | None:
    values = parse_qs(urlsplit(url).query).get("se")
    if not values:
        return None
    try:
        return datetime.fromisoformat(values[0].replace("Z", "+00:00"))
    except ValueError:
        return None


_DELEGATION_LIFETIME = timedelta(hours=6)
_delegation: dict[str, tuple[datetime, UserDelegationKey]] = {}


def catalog_read_url(blob: BlobAt, seconds: int) -> str:
    """A read SAS for a catalog blob signed with a user delegation key of the factory's
    identity: the source of a server-side copy into another lab, without an ARM write."""
    lab = Lab.of(blob.lab)
    account = _lab_storage_account(lab)
    now = datetime.now(UTC)
    expiry = now + timedelta(seconds=seconds)
    with _upload_lock:
        held = _delegation.get(account)
    if held is None or held[0] < expiry:
        service = clients.blob_service_with_token(_container_url(blob.lab).rsplit("/", 1)[0])
        key_expiry = max(expiry, now + _DELEGATION_LIFETIME)
        key = service.get_user_delegation_key(now - timedelta(minutes=5), key_expiry)
        held = (key_expiry, key)
        with _upload_lock:
            _delegation[account] = held
    sas = generate_blob_sas(
        account_name=account,
        container_name=UPLOADS_CONTAINER,
        blob_name=blob.name,
        user_delegation_key=held[1],
        permission=BlobSasPermissions(read=True),
        expiry=expiry,
        start=now - timedelta(minutes=5),
    )
    return f"{blob_url(blob)}?{sas}"


def start_copy(source_url: str, destination: BlobAt, metadata: dict[str, str]) -> str:
    """Start a server-side copy into a lab's uploads container; adopts a copy under way."""
    client = _client(destination)
    if client.exists():
        props = client.get_blob_properties()
        status = (props.copy.status or "").lower() if props.copy else ""
        if not _released(props) and status in ("pending", "success"):
            return status
    try:
        client.start_copy_from_url(source_url, metadata=metadata)
    except ResourceNotFoundError:
        if not destination.catalog:
            raise
        # A lab's uploads container exists from its first upload on; the catalog's
        # first capture may come before any.
        _create_container(destination.lab)
        client.start_copy_from_url(source_url, metadata=metadata)
    return "pending"


def _create_container(lab_id: str) -> None:
    with contextlib.suppress(ResourceExistsError):
        clients.container_with_token(_container_url(lab_id)).create_container()


def _released(props: Any) -> bool:
    """A blob truncated by `delete_blob` (no delete right): as good as absent."""
    return bool((props.metadata or {}).get(RELEASED)) or not props.size


@dataclass(frozen=True)
class CopyState:
    state: str  # "pending" | "success" | "failed" | "missing"
    progress: str = ""
    detail: str = ""


def copy_state(blob: BlobAt) -> CopyState:
    client = _client(blob)
    try:
        props = client.get_blob_properties()
    except ResourceNotFoundError:
        return CopyState("missing", detail=f"blob {blob.name} does not exist")
    if _released(props):
        return CopyState("missing", detail=f"blob {blob.name} was released")
    copy = props.copy
    if copy is None or not copy.id:
        return CopyState("success")
    status = (copy.status or "").lower()
    if status == "success":
        return CopyState("success", copy.progress or "")
    if status in ("failed", "aborted"):
        return CopyState("failed", copy.progress or "", copy.status_description or status)
    return CopyState("pending", copy.progress or "")


def set_blob_metadata(blob: BlobAt, metadata: dict[str, str]) -> None:
    _client(blob).set_blob_metadata(metadata)


def delete_blob(blob: BlobAt) -> bool:
    """Delete a blob from a lab's uploads container. False: it was not there.

    The factory's identity deletes it when it holds a storage data role on that lab's
    account (always for the catalog); an upload URI may not delete, so without that role
    the bytes are released by truncating the blob to nothing, which the upload URI allows.
    """
    try:
        clients.blob_with_token(blob_url(blob)).delete_blob()
        return True
    except ResourceNotFoundError:
        return False
    except HttpResponseError as exc:
        if blob.catalog or exc.status_code not in (401, 403):
            raise
    client = _client(blob)
    if not client.exists():
        return False
    client.upload_blob(b"", overwrite=True, metadata={RELEASED: "true"})
    return True


@dataclass(frozen=True)
class CatalogBlob:
    name: str
    metadata: dict[str, str]


def list_catalog(factory_lab: str, prefix: str) -> list[CatalogBlob]:
    """The blobs of the factory lab's uploads container under `prefix`, with metadata."""
    container = clients.container_with_token(_container_url(factory_lab))
    try:
        return [
            CatalogBlob(b.name, dict(b.metadata or {}))
            for b in container.list_blobs(name_starts_with=prefix, include=["metadata"])
        ]
    except ResourceNotFoundError:  # no upload yet: the container does not exist
        return []


# --- custom images ------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageSpec:
    lab: str
    name: str
    vhd: BlobAt
    os: OsType
    generalized: bool  # sysprepped (Windows) or deprovisioned (Linux) before capture
    tags: dict[str, str]
    note: str = ""


def begin_create_image_from_vhd(spec: ImageSpec) -> str:
    """Start creating a custom image from a VHD in the lab's uploads; adopts our own.

    DevTest Labs names the VHD by its full blob URI in the lab's storage account, and
    `sysPrep` says whether the VHD was generalized (only Windows images are sysprepped).
    """
    lab = Lab.of(spec.lab)
    name, image_tags = spec.name, spec.tags
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
        tags=image_tags,
        description=spec.note,
        author="image factory",
        vhd=CustomImagePropertiesCustom(
            image_name=blob_url(spec.vhd),
            sys_prep=spec.generalized and spec.os == OsType.WINDOWS,
            os_type=spec.os.value,
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


@dataclass(frozen=True)
class _LabFacts:
    location: str
    storage_account: str


_FACTS: dict[str, _LabFacts] = {}
_NETWORKS: dict[str, tuple[str, str]] = {}


def _lab_facts(lab: Lab) -> _LabFacts:
    """What does not change in a lab's life: its region and its default storage account."""
    key = str(lab.id).lower()
    if key not in _FACTS:
        found = lab.client.labs.get(lab.group, lab.name)
        account = str(found.default_storage_account or "").rstrip("/").rsplit("/", 1)[-1]
        _FACTS[key] = _LabFacts(str(found.location), account)
    return _FACTS[key]


def _lab_location(lab: Lab) -> str:
    return _lab_facts(lab).location


def _lab_storage_account(lab: Lab) -> str:
    account = _lab_facts(lab).storage_account
    if not account:
        raise RuntimeError(f"lab {lab.name} reports no default storage account")
    return account


def _lab_network(lab: Lab) -> tuple[str, str]:
    """The lab virtual network and subnet a VM is created in: the first subnet that allows
    VM creation (what `az lab vm create` picks)."""
    key = str(lab.id).lower()
    if key not in _NETWORKS:
        for network in lab.client.virtual_networks.list(lab.group, lab.name):
            for subnet in network.subnet_overrides or []:
                allowed = (subnet.use_in_vm_creation_permission or "").lower() == "allow"
                if allowed and subnet.lab_subnet_name and network.id:
                    _NETWORKS[key] = (str(network.id), str(subnet.lab_subnet_name))
                    break
            if key in _NETWORKS:
                break
        else:
            raise RuntimeError(
                f"lab {lab.name} has no virtual network with a subnet that allows VM creation"
            )
    return _NETWORKS[key]


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
