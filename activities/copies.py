"""Activities that move VHDs: capture a build VM's disk, copy between labs, delete."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df
from azure.core.exceptions import ResourceNotFoundError

from activities._scope import run_scoped
from shared import labs_api
from shared.function_names import (
    CAPTURE_STATUS,
    DELETE_BLOB,
    FINISH_CAPTURE,
    LAB_COPY_STATUS,
    LABEL_CATALOG,
    START_CAPTURE,
    START_LAB_COPY,
)
from shared.payloads import BlobRef, CaptureRequest, CopyStatus, LabCopyRequest, LabelRequest

bp = df.Blueprint()


def _status(state: labs_api.CopyState) -> dict[str, Any]:
    return CopyStatus(state=state.state, progress=state.progress, detail=state.detail).model_dump(
        mode="json"
    )


@bp.function_name(START_CAPTURE)
@bp.activity_trigger(input_name="payload")
@run_scoped
def start_capture(payload: dict[str, Any]) -> str:
    """Read SAS on the build VM's OS disk, then a server-side copy into the catalog."""
    request = CaptureRequest.model_validate(payload)
    disk = labs_api.os_disk(request.lab, request.vm)
    source = labs_api.grant_disk_read(disk, request.grant_seconds)
    return labs_api.start_copy(source, request.lab, request.blob, metadata={})


@bp.function_name(CAPTURE_STATUS)
@bp.activity_trigger(input_name="payload")
@run_scoped
def capture_status(payload: dict[str, Any]) -> dict[str, Any]:
    ref = BlobRef.model_validate(payload)
    return _status(labs_api.copy_state(ref.lab, ref.blob))


@bp.function_name(FINISH_CAPTURE)
@bp.activity_trigger(input_name="payload")
@run_scoped
def finish_capture(payload: dict[str, Any]) -> bool:
    """Revoke the disk's read SAS. False: the VM is gone (and its grant with it)."""
    request = CaptureRequest.model_validate(payload)
    try:
        disk = labs_api.os_disk(request.lab, request.vm)
    except ResourceNotFoundError:
        return False
    labs_api.revoke_disk_read(disk)
    return True


@bp.function_name(LABEL_CATALOG)
@bp.activity_trigger(input_name="payload")
@run_scoped
def label_catalog(payload: dict[str, Any]) -> bool:
    """Describe a captured (and gated) VHD: from now on it counts as a catalog entry."""
    request = LabelRequest.model_validate(payload)
    labs_api.set_blob_metadata(request.lab, request.blob, request.metadata)
    return True


@bp.function_name(START_LAB_COPY)
@bp.activity_trigger(input_name="payload")
@run_scoped
def start_lab_copy(payload: dict[str, Any]) -> str:
    """Copy a catalog VHD into another lab's uploads, server-side (any region/subscription)."""
    request = LabCopyRequest.model_validate(payload)
    source = labs_api.upload_url(request.source_lab, request.source_blob)
    return labs_api.start_copy(source, request.lab, request.blob, metadata={})


@bp.function_name(LAB_COPY_STATUS)
@bp.activity_trigger(input_name="payload")
@run_scoped
def lab_copy_status(payload: dict[str, Any]) -> dict[str, Any]:
    ref = BlobRef.model_validate(payload)
    return _status(labs_api.copy_state(ref.lab, ref.blob))


@bp.function_name(DELETE_BLOB)
@bp.activity_trigger(input_name="payload")
@run_scoped
def delete_blob(payload: dict[str, Any]) -> bool:
    ref = BlobRef.model_validate(payload)
    return labs_api.delete_blob(ref.lab, ref.blob)
