"""Microsoft.Storage handlers: the storage accounts of the labs, with Azurite endpoints."""

from __future__ import annotations

from typing import Any

from emulator.exceptions import ResourceNotFound
from emulator.http import ArmRequest, ArmResponse


def account_body(request: ArmRequest, name: str, location: str) -> dict[str, Any]:
    p = request.params
    endpoints = request.core.blobs().endpoints
    return {
        "id": (
            f"/subscriptions/{p['subscription']}/resourceGroups/{p['resourceGroup']}"
            f"/providers/Microsoft.Storage/storageAccounts/{name}"
        ),
        "name": name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": location,
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS", "tier": "Standard"},
        "tags": {},
        "properties": {
            "provisioningState": "Succeeded",
            "primaryLocation": location,
            "statusOfPrimary": "available",
            "allowSharedKeyAccess": True,
            "supportsHttpsTrafficOnly": True,
            "primaryEndpoints": {
                "blob": endpoints.blob_endpoint(name) + "/",
                "queue": endpoints.queue_endpoint(name) + "/",
                "table": endpoints.table_endpoint(name) + "/",
            },
        },
    }


def get_account(request: ArmRequest) -> ArmResponse:
    p = request.params
    group = request.core.resource_group(p["subscription"], p["resourceGroup"])
    name = p["name"].lower()
    for lab in group.labs.values():
        names = {lab.storage_account, lab.premium_storage_account, lab.artifacts_storage_account}
        if name in names:
            return ArmResponse(200, account_body(request, name, lab.location))
    raise ResourceNotFound.under(
        f"Microsoft.Storage/storageAccounts/{p['name']}", p["resourceGroup"]
    )
