"""VHD blobs in a lab's uploads container: addresses, SAS, copies, metadata, delete, listing.

The catalog is the factory lab's `uploads` container, which the factory reads and writes
with its own identity (Storage Blob Data Contributor on that account): listing it, copying
a disk into it and labelling a version cost no ARM write. A target lab's uploads are
reached only through DevTest Labs' generateUploadUri: a SAS for one blob (read, create,
write), one ARM write each, so each one is kept for that blob until shortly before it
expires and never leaves the process.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobClient, BlobSasPermissions, UserDelegationKey, generate_blob_sas

from shared.azure import clients, labs
from shared.azure.labs import Lab
from shared.run.payloads import BlobRef, CopyStatus
from shared.settings import get_settings

RELEASED = "released"  # metadata of a blob truncated instead of deleted
UPLOADS_CONTAINER = "uploads"


def blob_url(blob: BlobRef) -> str:
    """The blob's plain URL in the lab's storage account (what a custom image names)."""
    return f"{_container_url(blob.lab)}/{blob.blob}"


def _client(blob: BlobRef) -> BlobClient:
    if blob.catalog:
        return clients.blob_with_token(blob_url(blob))
    return clients.blob(upload_url(blob.lab, blob.blob))


def _container_url(lab_id: str) -> str:
    account = labs.storage_account(Lab.of(lab_id))
    endpoint = get_settings().blob_endpoint.replace("{account}", account)
    return f"{endpoint.rstrip('/')}/{UPLOADS_CONTAINER}"


# --- the two caches: upload URIs per blob, user delegation keys per account ----------------

_SAS_MARGIN = timedelta(minutes=10)
_DELEGATION_LIFETIME = timedelta(hours=6)
_upload_sas: dict[tuple[str, str], tuple[datetime, str]] = {}
_delegation: dict[str, tuple[datetime, UserDelegationKey]] = {}
_lock = threading.Lock()


def upload_url(lab_id: str, blob_name: str) -> str:
    """A SAS URL of `blob_name` in the lab's uploads container (DevTest Labs'
    generateUploadUri), reused for that blob until shortly before it expires."""
    key = (lab_id.lower(), blob_name)
    now = datetime.now(UTC)
    with _lock:
        cached = _upload_sas.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    lab = Lab.of(lab_id)
    answer = lab.client.labs.generate_upload_uri(lab.group, lab.name, blob_name=blob_name)
    url = str(answer.upload_uri)
    expiry = _sas_expiry(url)
    if expiry is not None:
        with _lock:
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


def catalog_read_url(blob: BlobRef, seconds: int) -> str:
    """A read SAS for a catalog blob signed with a user delegation key of the factory's
    identity: the source of a server-side copy into another lab, without an ARM write."""
    account = labs.storage_account(Lab.of(blob.lab))
    now = datetime.now(UTC)
    expiry = now + timedelta(seconds=seconds)
    sas = generate_blob_sas(
        account_name=account,
        container_name=UPLOADS_CONTAINER,
        blob_name=blob.blob,
        user_delegation_key=_delegation_key(blob.lab, account, now, expiry),
        permission=BlobSasPermissions(read=True),
        expiry=expiry,
        start=now - timedelta(minutes=5),
    )
    return f"{blob_url(blob)}?{sas}"


def _delegation_key(
    lab_id: str, account: str, now: datetime, expiry: datetime
) -> UserDelegationKey:
    """A user delegation key of the account valid until at least `expiry`, kept for hours."""
    with _lock:
        held = _delegation.get(account)
    if held is None or held[0] < expiry:
        service = clients.blob_service_with_token(_container_url(lab_id).rsplit("/", 1)[0])
        key_expiry = max(expiry, now + _DELEGATION_LIFETIME)
        key = service.get_user_delegation_key(now - timedelta(minutes=5), key_expiry)
        held = (key_expiry, key)
        with _lock:
            _delegation[account] = held
    return held[1]


# --- copies, metadata, delete ----------------------------------------------------------------


def start_copy(source_url: str, destination: BlobRef, metadata: dict[str, str]) -> str:
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


def copy_state(blob: BlobRef) -> CopyStatus:
    client = _client(blob)
    try:
        props = client.get_blob_properties()
    except ResourceNotFoundError:
        return CopyStatus(state="missing", detail=f"blob {blob.blob} does not exist")
    if _released(props):
        return CopyStatus(state="missing", detail=f"blob {blob.blob} was released")
    copy = props.copy
    if copy is None or not copy.id:
        return CopyStatus(state="success")
    status = (copy.status or "").lower()
    progress = copy.progress or ""
    if status == "success":
        return CopyStatus(state="success", progress=progress)
    if status in ("failed", "aborted"):
        detail = copy.status_description or status
        return CopyStatus(state="failed", progress=progress, detail=detail)
    return CopyStatus(state="pending", progress=progress)


def set_blob_metadata(blob: BlobRef, metadata: dict[str, str]) -> None:
    _client(blob).set_blob_metadata(metadata)


def delete_blob(blob: BlobRef) -> bool:
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


# --- listing the catalog ---------------------------------------------------------------------


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
