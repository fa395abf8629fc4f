"""Activities that move VHDs: capture a build VM's disk, copy between labs, delete.

Disk grants and revokes are only started here; the orchestrator follows their operations
(`operation_status`). A SAS URL never leaves an activity.
"""

from __future__ import annotations

import azure.durable_functions as df
from azure.core.exceptions import ResourceNotFoundError

from activities._scope import activity
from shared.azure import blobs, disks, operations, vms
from shared.function_names import (
    CAPTURE_STATUS,
    DELETE_BLOB,
    FINISH_CAPTURE,
    LAB_COPY_STATUS,
    LABEL_CATALOG,
    OPERATION_STATUS,
    START_CAPTURE,
    START_LAB_COPY,
)
from shared.run.payloads import (
    BlobRef,
    CaptureRequest,
    CaptureWatch,
    CopyStatus,
    LabCopyRequest,
    LabelRequest,
    OperationRef,
    OperationStatus,
)

bp = df.Blueprint()


@activity(bp, START_CAPTURE)
def start_capture(request: CaptureRequest) -> OperationRef:
    """Start the read grant on the (deallocated) build VM's OS disk; its operation follows."""
    disk = vms.os_disk(request.lab, request.vm)
    url = disks.begin_disk_read(disk, request.grant_seconds)
    return OperationRef(subscription=disk.subscription, url=url)


@activity(bp, CAPTURE_STATUS)
def capture_status(watch: CaptureWatch) -> CopyStatus:
    """The catalog copy's state; once the grant has succeeded, starts the copy from its SAS
    (read here, used here, never returned) in the same call and returns the copy's state
    then, so a copy that completes at once (a same-region copy often does) is seen done
    on the read that started it."""
    state = blobs.copy_state(watch.blob)
    if state.state != "missing":
        return state
    grant = operations.operation_state(watch.grant.subscription, watch.grant.url)
    if grant.state == "running":
        return CopyStatus(
            state="granting", detail="disk access is being granted", retry_after=grant.retry_after
        )
    if grant.state == "failed":
        return CopyStatus(state="failed", detail=f"disk grant failed: {grant.detail}")
    source = disks.disk_read_url(watch.grant.subscription, watch.grant.url)
    blobs.start_copy(source, watch.blob, metadata={})
    started = blobs.copy_state(watch.blob)
    return started if started.state != "missing" else CopyStatus(state="pending")


@activity(bp, FINISH_CAPTURE)
def finish_capture(request: CaptureRequest) -> OperationRef | None:
    """Start revoking the disk's read SAS. None: the VM is gone (and its grant with it)."""
    try:
        disk = vms.os_disk(request.lab, request.vm)
    except ResourceNotFoundError:
        return None
    url = disks.begin_disk_revoke(disk)
    return OperationRef(subscription=disk.subscription, url=url)


@activity(bp, OPERATION_STATUS)
def operation_status(ref: OperationRef) -> OperationStatus:
    return operations.operation_state(ref.subscription, ref.url)


@activity(bp, LABEL_CATALOG)
def label_catalog(request: LabelRequest) -> bool:
    """Describe a captured (and gated) VHD: from now on it counts as a catalog entry."""
    blobs.set_blob_metadata(request.blob, request.metadata)
    return True


@activity(bp, START_LAB_COPY)
def start_lab_copy(request: LabCopyRequest) -> str:
    """Copy a catalog VHD into a lab's uploads, server-side (any region/subscription)."""
    source = blobs.catalog_read_url(request.source, request.read_seconds)
    return blobs.start_copy(source, request.destination, metadata={})


@activity(bp, LAB_COPY_STATUS)
def lab_copy_status(blob: BlobRef) -> CopyStatus:
    return blobs.copy_state(blob)


@activity(bp, DELETE_BLOB)
def delete_blob(blob: BlobRef) -> bool:
    return blobs.delete_blob(blob)
