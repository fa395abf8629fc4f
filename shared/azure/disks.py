"""Read access to a build VM's OS disk: grant, revoke, and the SAS a grant produced.

Grants and revokes are only started here; the orchestrator follows their operations. The
SAS is read where it is used (the capture copy) and never leaves an activity.
"""

from __future__ import annotations

from azure.mgmt.compute.models import GrantAccessData

from shared.azure import clients
from shared.azure.operations import keep_headers, operation_body, operation_url
from shared.model.arm_ids import ResourceId


def begin_disk_read(disk: ResourceId, seconds: int) -> str:
    """Start a disk grant (a read SAS for `seconds`). Returns its operation's URL: the SAS
    itself is read by `disk_read_url`, so it never leaves an activity."""
    client = clients.compute(disk.subscription)
    headers: dict[str, str] = {}
    client.disks.begin_grant_access(
        disk.resource_group,
        disk.name,
        GrantAccessData(access="Read", duration_in_seconds=seconds),
        polling=False,
        raw_response_hook=keep_headers(headers),
    )
    return operation_url(headers, f"disk grant of {disk.name}")


def begin_disk_revoke(disk: ResourceId) -> str:
    """Start revoking a disk's grants. Returns the operation's URL."""
    client = clients.compute(disk.subscription)
    headers: dict[str, str] = {}
    client.disks.begin_revoke_access(
        disk.resource_group, disk.name, polling=False, raw_response_hook=keep_headers(headers)
    )
    return operation_url(headers, f"disk revoke of {disk.name}")


def disk_read_url(subscription: str, grant_url: str) -> str:
    """The read SAS a succeeded disk grant produced (`properties.output.accessSAS`)."""
    body = operation_body(subscription, grant_url)
    output = (body.get("properties") or {}).get("output") or {}
    sas = output.get("accessSAS")
    if str(body.get("status", "")).lower() != "succeeded" or not sas:
        raise RuntimeError("the disk grant has not produced a read SAS")
    return str(sas)
