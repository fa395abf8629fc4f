"""Microsoft.Compute handlers: virtual machines, disks and disk access, image versions."""

from __future__ import annotations

from typing import Any

from emulator.compute.power import PowerStateMachine
from emulator.devtestlabs.state import LabVm
from emulator.exceptions import InvalidParameter, ResourceNotFound
from emulator.http import ArmRequest, ArmResponse
from emulator.lro import iso_offset


def vm_body(vm: LabVm, expand: str = "") -> dict[str, Any]:
    if vm.gallery_image_reference is not None:
        ref = vm.gallery_image_reference
        image: dict[str, Any] = {
            "publisher": ref.get("publisher"),
            "offer": ref.get("offer"),
            "sku": ref.get("sku"),
            "version": ref.get("version"),
            "exactVersion": vm.resolved_version,
        }
    else:
        image = {"id": str(vm.custom_image_id)}
    body: dict[str, Any] = {
        "id": vm.compute_id,
        "name": vm.compute_name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": vm.location,
        "tags": {"hidden-DevTestLabs-LabUId": vm.unique_identifier},
        "properties": {
            "vmId": vm.unique_identifier,
            "hardwareProfile": {"vmSize": vm.size},
            "storageProfile": {
                "imageReference": image,
                "osDisk": {
                    "osType": vm.os_type,
                    "name": vm.os_disk_name,
                    "createOption": "FromImage",
                    "caching": "ReadWrite",
                    "managedDisk": {"id": vm.os_disk_id, "storageAccountType": "Standard_LRS"},
                    "diskSizeGB": vm.disk_size_gb,
                },
                "dataDisks": [],
            },
            "osProfile": {"computerName": vm.compute_name[:15], "adminUsername": vm.user_name},
            "provisioningState": "Succeeded",
            "timeCreated": iso_offset(vm.created),
        },
    }
    if "instanceview" in expand.lower():
        body["properties"]["instanceView"] = instance_view(vm)
    return body


def instance_view(vm: LabVm) -> dict[str, Any]:
    """Provisioning and power state, as `GET .../instanceView` and `$expand=instanceView`."""
    power = vm.power or PowerStateMachine()
    return {
        "statuses": [
            {
                "code": "ProvisioningState/succeeded",
                "level": "Info",
                "displayStatus": "Provisioning succeeded",
                "time": iso_offset(vm.created),
            },
            {"code": power.code, "level": "Info", "displayStatus": power.display_status},
        ]
    }


def disk_body(vm: LabVm) -> dict[str, Any]:
    # Disk states as the Compute DiskState enum describes them: an OS disk of a
    # deallocated VM is Reserved; one with an access SAS is ActiveSAS.
    if vm.disk_grant_blob:
        state = "ActiveSAS"
    elif vm.power_state == "deallocated":
        state = "Reserved"
    else:
        state = "Attached"
    return {
        "id": vm.os_disk_id,
        "name": vm.os_disk_name,
        "type": "Microsoft.Compute/disks",
        "location": vm.location,
        "managedBy": vm.compute_id,
        "sku": {"name": "Standard_LRS", "tier": "Standard"},
        "properties": {
            "osType": vm.os_type,
            "hyperVGeneration": "V1",
            "creationData": {"createOption": "FromImage"},
            "diskSizeGB": vm.disk_size_gb,
            "diskSizeBytes": vm.disk_size_gb * 1024**3,
            # A Standard_LRS disk's limits and platform-key encryption, as recorded
            # (azure-sdk-for-python test_mgmt_managed_disks.test_grant_access.yaml).
            "diskIOPSReadWrite": 500,
            "diskMBpsReadWrite": 60,
            "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
            "uniqueId": vm.unique_identifier,
            "provisioningState": "Succeeded",
            "diskState": state,
            "timeCreated": iso_offset(vm.created),
        },
    }


def _ids(request: ArmRequest) -> tuple[str, str, str]:
    p = request.params
    return p["subscription"], p["resourceGroup"], p["name"]


def get_vm(request: ArmRequest) -> ArmResponse:
    vm = request.core.compute.virtual_machine(*_ids(request))
    return ArmResponse(200, vm_body(vm, request.query.get("$expand", "")))


def get_instance_view(request: ArmRequest) -> ArmResponse:
    return ArmResponse(200, instance_view(request.core.compute.virtual_machine(*_ids(request))))


def get_disk(request: ArmRequest) -> ArmResponse:
    return ArmResponse(200, disk_body(request.core.compute.disk(*_ids(request))))


def grant_access(request: ArmRequest) -> ArmResponse:
    subscription, group, name = _ids(request)
    vm = request.core.compute.disk(subscription, group, name)
    operation = request.core.compute.grant_access(subscription, vm, request.json(), request.kind)
    return request.accepted(operation)


def revoke_access(request: ArmRequest) -> ArmResponse:
    subscription, group, name = _ids(request)
    vm = request.core.compute.disk(subscription, group, name)
    operation = request.core.compute.revoke_access(subscription, vm, request.kind)
    return request.accepted(operation)


def _gallery(request: ArmRequest) -> Any:
    p = request.params
    for image in request.core.scenario.gallery_images:
        if (
            image.publisher.lower() == p["publisher"].lower()
            and image.offer.lower() == p["offer"].lower()
            and image.sku.lower() == p["sku"].lower()
        ):
            return image
    raise ResourceNotFound(
        f"Artifact: VMImage was not found for publisher '{p['publisher']}', offer "
        f"'{p['offer']}' and sku '{p['sku']}'."
    )


def _version_body(request: ArmRequest, version: str) -> dict[str, Any]:
    p = request.params
    return {
        "id": (
            f"/Subscriptions/{p['subscription']}/Providers/Microsoft.Compute/Locations/"
            f"{p['location']}/Publishers/{p['publisher']}/ArtifactTypes/VMImage/Offers/"
            f"{p['offer']}/Skus/{p['sku']}/Versions/{version}"
        ),
        "name": version,
        "location": p["location"],
    }


def list_image_versions(request: ArmRequest) -> ArmResponse:
    image = _gallery(request)
    order = request.query.get("$orderby", "").split()
    descending = len(order) > 1 and order[1].lower() == "desc"
    versions = image.ordered_versions(descending)
    top = request.query.get("$top")
    if top is not None:
        if not top.isdigit() or int(top) < 1:
            raise InvalidParameter(f"The value '{top}' of $top is not a positive integer.")
        versions = versions[: int(top)]
    return ArmResponse(200, [_version_body(request, v) for v in versions])


def get_image_version(request: ArmRequest) -> ArmResponse:
    image = _gallery(request)
    version = request.params["version"]
    if version not in image.versions:
        raise ResourceNotFound(f"Artifact: VMImage version '{version}' was not found.")
    body = _version_body(request, version)
    body["properties"] = {
        "osImage": {"operatingSystem": image.os_type, "sizeInGb": image.disk_size_gb},
        "hyperVGeneration": "V1",
    }
    return ArmResponse(200, body)
