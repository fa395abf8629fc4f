"""Microsoft.DevTestLab handlers: read the request, call the model, shape the reply."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from emulator.compute.power import PowerStateMachine
from emulator.devtestlabs.exceptions import InvalidFilter
from emulator.devtestlabs.state import ArtifactRun, CustomImage, LabState, LabVm
from emulator.exceptions import InvalidParameter, ResourceNotFound
from emulator.faults import RequestKind
from emulator.http import ArmRequest, ArmResponse
from emulator.lro import Operation, dtl_time
from emulator.names import VM_NAME_LENGTH, check_resource_name, check_tags, check_vm_name
from emulator.scenario import ArtifactSourceSpec, ArtifactSpec, GalleryImage


# ----- shapes -------------------------------------------------------------------------------
def lab_body(lab: LabState) -> dict[str, Any]:
    return {
        "id": lab.id,
        "name": lab.name,
        "type": "Microsoft.DevTestLab/labs",
        "location": lab.location,
        **_tags(lab.tags),
        "properties": {
            "defaultStorageAccount": lab.storage_account_id(lab.storage_account),
            "defaultPremiumStorageAccount": lab.storage_account_id(lab.premium_storage_account),
            "artifactsStorageAccount": lab.storage_account_id(lab.artifacts_storage_account),
            "premiumDataDiskStorageAccount": lab.storage_account_id(lab.premium_storage_account),
            "vaultName": (
                f"/subscriptions/{lab.subscription}/resourcegroups/{lab.resource_group}"
                f"/providers/microsoft.keyvault/vaults/{lab.name}{lab.unique_identifier[:4]}"
            ).lower(),
            "labStorageType": "Premium",
            "mandatoryArtifactsResourceIdsLinux": [],
            "mandatoryArtifactsResourceIdsWindows": [],
            "createdDate": dtl_time(lab.created),
            "premiumDataDisks": "Disabled",
            "environmentPermission": "Reader",
            "announcement": {"title": "", "markdown": "", "enabled": "Disabled", "expired": False},
            "support": {"enabled": "Disabled", "markdown": ""},
            "provisioningState": "Succeeded",
            "uniqueIdentifier": lab.unique_identifier,
        },
    }


def _tags(tags: dict[str, str]) -> dict[str, Any]:
    """Recorded bodies carry `tags` only when the resource has some."""
    return {"tags": dict(tags)} if tags else {}


def default_network(vm: LabVm) -> str:
    lab_id, _, _ = vm.id.partition("/virtualmachines/")
    return f"{lab_id}/virtualnetworks/dtl{lab_id.rsplit('/', 1)[-1]}"


def default_subnet(vm: LabVm) -> str:
    lab_name = vm.id.partition("/virtualmachines/")[0].rsplit("/", 1)[-1]
    return f"Dtl{lab_name}Subnet"


# DevTest Labs' word for the compute power state. The recordings (Azure/azure-cli
# test_lab_vm.yaml, test_lab_custom_image.yaml) show "Running" and "Stopped" (for VMs that
# DevTest Labs stopped, i.e. deallocated); no source shows a guest-shut-down VM, so a VM
# that is stopped but still allocated also reads "Stopped": only the compute power state
# (computeVm.statuses, or the compute VM's instance view) tells the two apart.
LAST_KNOWN_POWER_STATE: dict[str, str] = {
    "starting": "Starting",
    "running": "Running",
    "stopping": "Stopping",
    "stopped": "Stopped",
    "deallocating": "Stopping",
    "deallocated": "Stopped",
}


def vm_body(vm: LabVm, expand: str = "") -> dict[str, Any]:
    expand = expand.lower()
    props: dict[str, Any] = {
        "notes": vm.notes,
        "ownerObjectId": vm.owner_object_id or "",
        "ownerUserPrincipalName": "",
        "createdByUserId": "",
        "createdByUser": "",
        "createdDate": dtl_time(vm.created),
        "osType": vm.os_type,
        "size": vm.size,
        "userName": vm.user_name,
        "isAuthenticationWithSshKey": vm.is_ssh,
        "labSubnetName": vm.lab_subnet_name or default_subnet(vm),
        "labVirtualNetworkId": (vm.lab_virtual_network_id or default_network(vm)).lower(),
        "disallowPublicIpAddress": vm.disallow_public_ip,
        "artifactDeploymentStatus": _deployment_status(vm),
        "networkInterface": {},
        "allowClaim": vm.allow_claim,
        "storageType": vm.storage_type,
        "virtualMachineCreationSource": "FromGalleryImage"
        if vm.gallery_image_reference
        else "FromCustomImage",
        "provisioningState": vm.provisioning_state,
        "uniqueIdentifier": vm.unique_identifier,
    }
    if vm.power is not None:
        props["lastKnownPowerState"] = LAST_KNOWN_POWER_STATE[vm.power.state]
    if vm.compute_exists:
        props["computeId"] = vm.compute_arm_id
        if not vm.disallow_public_ip:
            props["fqdn"] = f"{vm.name.lower()}.{vm.location.lower()}.cloudapp.azure.com"
    if vm.gallery_image_reference is not None:
        ref = vm.gallery_image_reference
        props["galleryImageReference"] = {
            k: ref.get(k) for k in ("offer", "publisher", "sku", "osType", "version")
        }
    if vm.custom_image_id:
        props["customImageId"] = vm.custom_image_id
    if vm.expiration_date:
        props["expirationDate"] = vm.expiration_date
    if "artifacts" in expand:
        props["artifacts"] = [_artifact_run_body(run) for run in vm.artifacts]
    if "computevm" in expand and vm.compute_exists:
        props["computeVm"] = _compute_vm_body(vm)
    return {
        "id": vm.id,
        "name": vm.name,
        "type": "Microsoft.DevTestLab/labs/virtualMachines",
        "location": vm.location,
        **_tags(vm.tags),
        "properties": {k: v for k, v in props.items() if v is not None},
    }


def _artifact_run_body(run: ArtifactRun) -> dict[str, Any]:
    """One artifact of `$expand=properties($expand=artifacts)`."""
    return {
        "artifactId": run.artifact_id,
        "artifactTitle": run.title,
        "parameters": run.parameters,
        "status": run.status,
        "deploymentStatusMessage": run.message,
        "vmExtensionStatusMessage": run.message,
        **({"installTime": dtl_time(run.install_time)} if run.install_time else {}),
    }


def _compute_vm_body(vm: LabVm) -> dict[str, Any]:
    """The compute VM as `$expand=properties($expand=computeVm)` shows it."""
    power = vm.power or PowerStateMachine()
    return {
        "statuses": [
            {
                "code": f"ProvisioningState/{vm.provisioning_state.lower()}",
                "displayStatus": f"Provisioning {vm.provisioning_state.lower()}",
            },
            {"code": power.code, "displayStatus": power.display_status},
        ],
        "osType": vm.os_type,
        "vmSize": vm.size,
        "networkInterfaceId": (
            vm.compute_id.rsplit("/providers/", 1)[0]
            + f"/providers/microsoft.network/networkinterfaces/{vm.compute_name.lower()}"
        ),
        "osDiskId": vm.os_disk_id,
        "dataDiskIds": [],
        "dataDisks": [],
    }


def _deployment_status(vm: LabVm) -> dict[str, Any]:
    """`artifactsApplied`/`totalArtifacts`; `deploymentStatus` only once there are artifacts
    (a VM without artifacts is recorded with the two counts alone)."""
    status = vm.deployment_status()
    if not status["totalArtifacts"]:
        status.pop("deploymentStatus", None)
    return status


def image_body(image: CustomImage) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if image.vm is not None:
        props["vm"] = image.vm
    if image.vhd is not None:
        props["vhd"] = image.vhd
    props.update(
        {
            "description": image.description,
            "author": image.author,
            "creationDate": dtl_time(image.created),
        }
    )
    if image.provisioning_state == "Succeeded":
        # DevTest Labs keeps a capture of a VM that was not generalized as a managed
        # snapshot, a generalized one (or a VHD) as a managed image.
        kind, collection = (
            ("managedSnapshotId", "snapshots")
            if _not_generalized(image)
            else ("managedImageId", "images")
        )
        props[kind] = (
            image.id.split("/providers/")[0]
            + f"/providers/microsoft.compute/{collection}/{image.name.lower()}"
        )
    props["provisioningState"] = image.provisioning_state
    props["uniqueIdentifier"] = image.unique_identifier
    return {
        "id": image.id,
        "name": image.name,
        "type": "Microsoft.DevTestLab/labs/customImages",
        **_tags(image.tags),
        "properties": {k: v for k, v in props.items() if v is not None},
    }


def _not_generalized(image: CustomImage) -> bool:
    vm = image.vm or {}
    states = [
        str((vm.get(info) or {}).get(key) or "")
        for info, key in (("windowsOsInfo", "windowsOsState"), ("linuxOsInfo", "linuxOsState"))
    ]
    return any(state in ("NonSysprepped", "NonDeprovisioned") for state in states)


def gallery_body(lab: LabState, image: GalleryImage) -> dict[str, Any]:
    return {
        "id": f"{lab.id}/galleryimages/{image.name}".lower(),
        "name": image.name,
        "type": "Microsoft.DevTestLab/labs/galleryImages",
        "properties": {
            "author": image.publisher,
            "createdDate": dtl_time(lab.created),
            "description": image.description or image.name,
            "imageReference": {
                "offer": image.offer,
                "publisher": image.publisher,
                "sku": image.sku,
                "osType": image.os_type,
                "version": "latest",
            },
            "enabled": True,
        },
    }


def source_body(lab: LabState, source: ArtifactSourceSpec) -> dict[str, Any]:
    return {
        "id": f"{lab.id}/artifactsources/{source.name}".lower(),
        "name": source.name,
        "type": "Microsoft.DevTestLab/labs/artifactSources",
        "properties": {
            "displayName": source.display_name,
            "uri": source.uri,
            "sourceType": source.source_type,
            "folderPath": source.folder_path,
            "branchRef": source.branch_ref,
            "status": "Enabled",
            "provisioningState": "Succeeded",
            "uniqueIdentifier": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{lab.id}/{source.name}")),
        },
    }


def artifact_body(lab: LabState, source: ArtifactSourceSpec, art: ArtifactSpec) -> dict[str, Any]:
    return {
        "id": f"{lab.id}/artifactsources/{source.name}/artifacts/{art.name}".lower(),
        "name": art.name,
        "type": "Microsoft.DevTestLab/labs/artifactSources/artifacts",
        "properties": {
            "title": art.title,
            "description": art.description or art.title,
            "publisher": art.publisher,
            "filePath": f"{source.folder_path.rstrip('/')}/{art.name}/Artifactfile.json",
            "targetOsType": art.target_os_type,
            "parameters": {
                name: {
                    "type": p.type,
                    "displayName": p.display_name or name,
                    "description": p.description,
                    **({"defaultValue": p.default} if p.default is not None else {}),
                    **({"allowEmpty": False} if p.required else {}),
                }
                for name, p in art.parameters.items()
            },
            "createdDate": dtl_time(lab.created),
        },
    }


_BLOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,1023}$")


# ----- OData $filter / $top / $orderby ----------------------------------------------------
_CLAUSE = re.compile(r"^\s*([A-Za-z0-9_/.\-]+)\s+(eq|ne)\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)
_STARTS = re.compile(
    r"^\s*startswith\(\s*([A-Za-z0-9_/.\-]+)\s*,\s*'((?:[^']|'')*)'\s*\)\s*$", re.IGNORECASE
)
# A bare boolean property, as `az lab vm list --claimable` sends (`properties/allowClaim`).
_BOOLEAN = re.compile(r"^\s*(properties/[A-Za-z0-9_.\-]+)\s*$", re.IGNORECASE)


def _lookup(item: dict[str, Any], path: str) -> Any:
    value: Any = item
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        matches = [v for k, v in value.items() if k.lower() == part.lower()]
        value = matches[0] if matches else None
    return value


def _clause(item: dict[str, Any], text: str) -> bool:
    boolean = _BOOLEAN.match(text)
    if boolean:
        return _lookup(item, boolean.group(1)) is True
    starts = _STARTS.match(text)
    if starts:
        value = _lookup(item, starts.group(1))
        prefix = starts.group(2).replace("''", "'")
        return isinstance(value, str) and value.lower().startswith(prefix.lower())
    match = _CLAUSE.match(text)
    if match is None:
        raise InvalidFilter(
            f"The $filter clause '{text.strip()}' is not supported; use "
            "\"<property path> eq '<value>'\", ne, startswith(), and, or."
        )
    path, op, literal = match.groups()
    literal = literal.replace("''", "'")
    value = _lookup(item, path)
    equal = value is not None and str(value).lower() == literal.lower()
    return equal if op.lower() == "eq" else not equal


def apply_query(items: list[dict[str, Any]], request: ArmRequest) -> list[dict[str, Any]]:
    text = request.query.get("$filter")
    if text:
        alternatives = re.split(r"\s+or\s+", text, flags=re.IGNORECASE)
        items = [
            item
            for item in items
            if any(
                all(_clause(item, c) for c in re.split(r"\s+and\s+", alt, flags=re.IGNORECASE))
                for alt in alternatives
            )
        ]
    order = request.query.get("$orderby")
    if order:
        parts = order.split()
        descending = len(parts) > 1 and parts[1].lower() == "desc"
        items = sorted(items, key=lambda i: str(_lookup(i, parts[0]) or ""), reverse=descending)
    top = request.query.get("$top")
    if top is not None:
        if not top.isdigit() or int(top) < 1:
            raise InvalidParameter(f"The value '{top}' of $top is not a positive integer.")
        items = items[: int(top)]
    return items


def parse_tags(value: Any) -> dict[str, str]:
    """Tags as ARM accepts them: an object of string values."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidParameter("The property 'tags' must be an object whose values are strings.")
    check_tags(value)
    return dict(value)


def check_tags_of(body: dict[str, Any]) -> None:
    """A body's tags, when it has some, are what ARM accepts."""
    if "tags" in body:
        parse_tags(body["tags"])


def page(items: list[dict[str, Any]]) -> ArmResponse:
    return ArmResponse(200, {"value": items})


Child = TypeVar("Child")


def put_child(
    request: ArmRequest,
    lab: LabState,
    body: dict[str, Any],
    create: Callable[[LabState, str, dict[str, Any], RequestKind], tuple[Child, Operation | None]],
    render: Callable[[Child], dict[str, Any]],
) -> ArmResponse:
    """An ARM PUT of the lab child resource the path names, once its own checks passed: the
    body's tags are checked, the resource is created (or updated), and the reply is 200,
    or 201 with the operation that creates it."""
    check_tags_of(body)
    resource, operation = create(lab, request.params["name"], body, request.kind)
    return request.put_reply(render(resource), operation)


# ----- labs ---------------------------------------------------------------------------------
def lab_of(request: ArmRequest) -> LabState:
    p = request.params
    return request.core.devtestlabs.lab(p["subscription"], p["resourceGroup"], p["lab"])


def list_labs_by_subscription(request: ArmRequest) -> ArmResponse:
    labs = request.core.devtestlabs.labs_in_subscription(request.params["subscription"])
    return page(apply_query([lab_body(lab) for lab in labs], request))


def list_labs_by_resource_group(request: ArmRequest) -> ArmResponse:
    p = request.params
    group = request.core.resource_group(p["subscription"], p["resourceGroup"])
    return page(apply_query([lab_body(lab) for lab in group.labs.values()], request))


def get_lab(request: ArmRequest) -> ArmResponse:
    return ArmResponse(200, lab_body(lab_of(request)))


def generate_upload_uri(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    body = request.json_or_empty()
    blob_name = body.get("blobName")
    if blob_name is not None and (
        not isinstance(blob_name, str) or not _BLOB_NAME.match(blob_name)
    ):
        raise InvalidParameter(
            f"The blobName {blob_name!r} is not a plain blob name (letters, digits, '.', '_', "
            "'-'; at most 1024 characters)."
        )
    return ArmResponse(200, {"uploadUri": request.core.devtestlabs.upload_uri(lab, blob_name)})


def list_vhds(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    return page([{"id": uri} for uri in request.core.devtestlabs.list_vhds(lab)])


# ----- virtual machines -----------------------------------------------------------------
def list_vms(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    expand = request.query.get("$expand", "")
    items = [vm_body(vm, expand) for vm in lab.vms.values()]
    return page(apply_query(items, request))


def get_vm(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    vm = request.core.devtestlabs.vm(lab, request.params["name"])
    return ArmResponse(200, vm_body(vm, request.query.get("$expand", "")))


def _vm_os_type(lab: LabState, body: dict[str, Any]) -> str | None:
    """The OS a VM body asks for (its name rule depends on it), if it says."""
    props = body.get("properties")
    if not isinstance(props, dict):
        return None
    ref = props.get("galleryImageReference")
    if isinstance(ref, dict) and ref.get("osType") in VM_NAME_LENGTH:
        return str(ref["osType"])
    image_id = props.get("customImageId")
    if isinstance(image_id, str):
        image = lab.images.get(image_id.rstrip("/").rsplit("/", 1)[-1].lower())
        return image.os_type if image else None
    return None


def put_vm(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    body = request.json()
    check_vm_name(request.params["name"], _vm_os_type(lab, body))
    return put_child(request, lab, body, request.core.devtestlabs.create_vm, vm_body)


def patch_vm(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    vm = request.core.devtestlabs.vm(lab, request.params["name"])
    body = request.json()
    check_tags_of(body)
    return ArmResponse(200, vm_body(request.core.devtestlabs.update_vm(vm, body)))


def delete_vm(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    vm = lab.vms.get(request.params["name"].lower())
    if vm is None:
        return ArmResponse(204)
    return request.accepted(request.core.devtestlabs.delete_vm(lab, vm, request.kind))


def apply_artifacts(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    vm = request.core.devtestlabs.vm(lab, request.params["name"])
    operation = request.core.devtestlabs.apply_artifacts(lab, vm, request.json(), request.kind)
    return request.accepted(operation)


def start_vm(request: ArmRequest) -> ArmResponse:
    return _power(request, "start")


def stop_vm(request: ArmRequest) -> ArmResponse:
    return _power(request, "stop")


def _power(request: ArmRequest, action: str) -> ArmResponse:
    lab = lab_of(request)
    vm = request.core.devtestlabs.vm(lab, request.params["name"])
    operation = request.core.devtestlabs.power(lab, vm, action, request.kind)
    return request.accepted(operation)


# ----- custom images ----------------------------------------------------------------------
def list_images(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    return page(apply_query([image_body(i) for i in lab.images.values()], request))


def get_image(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    return ArmResponse(200, image_body(request.core.devtestlabs.image(lab, request.params["name"])))


def put_image(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    body = request.json()
    check_resource_name(request.params["name"], "custom image")
    return put_child(request, lab, body, request.core.devtestlabs.create_image, image_body)


def patch_image(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    image = request.core.devtestlabs.image(lab, request.params["name"])
    body = request.json()
    if "tags" in body:
        image.tags = parse_tags(body.get("tags"))
    return ArmResponse(200, image_body(image))


def delete_image(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    image = lab.images.get(request.params["name"].lower())
    if image is None:
        return ArmResponse(204)
    return request.accepted(request.core.devtestlabs.delete_image(lab, image, request.kind))


# ----- virtual networks, policies ------------------------------------------------------------
def network_body(lab: LabState) -> dict[str, Any]:
    # The subnet keeps ARM's casing; the external network id is lowercase (as recorded).
    subnet_id = (
        f"/subscriptions/{lab.subscription}/resourceGroups/{lab.resource_group}"
        f"/providers/Microsoft.Network/virtualNetworks/{lab.virtual_network_name}"
        f"/subnets/{lab.subnet_name}"
    )
    return {
        "id": lab.virtual_network_id,
        "name": lab.virtual_network_name,
        "type": "Microsoft.DevTestLab/labs/virtualNetworks",
        "properties": {
            "allowedSubnets": [
                {
                    "resourceId": subnet_id,
                    "labSubnetName": lab.subnet_name,
                    "allowPublicIp": "Allow",
                }
            ],
            "externalProviderResourceId": lab.network_id,
            "subnetOverrides": [
                {
                    "resourceId": subnet_id,
                    "labSubnetName": lab.subnet_name,
                    "useInVmCreationPermission": "Allow",
                    "usePublicIpAddressPermission": "Allow",
                    "sharedPublicIpAddressConfiguration": {
                        "allowedPorts": [
                            {"transportProtocol": "Tcp", "backendPort": 3389},
                            {"transportProtocol": "Tcp", "backendPort": 22},
                        ]
                    },
                }
            ],
            "createdDate": dtl_time(lab.created),
            "provisioningState": "Succeeded",
            "uniqueIdentifier": lab.unique_identifier,
        },
    }


def list_networks(request: ArmRequest) -> ArmResponse:
    return page(apply_query([network_body(lab_of(request))], request))


def get_network(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    if request.params["name"].lower() != lab.virtual_network_name.lower():
        raise lab.not_found(f"virtualNetworks/{request.params['name']}")
    return ArmResponse(200, network_body(lab))


def _policies(lab: LabState) -> list[dict[str, Any]]:
    return _vm_count_policy(lab) + _gallery_image_policy(lab)


def _gallery_image_policy(lab: LabState) -> list[dict[str, Any]]:
    """The GalleryImage policy: its threshold is a JSON array of JSON-encoded image
    references, as the portal and ARM templates of DevTest Labs write it."""
    if lab.allowed_gallery_images is None:
        return []
    references = []
    for text in lab.allowed_gallery_images:
        publisher, offer, sku = text.split("/", 2)
        references.append(
            json.dumps(
                {
                    "offer": offer,
                    "publisher": publisher,
                    "sku": sku,
                    "osType": "",
                    "version": "latest",
                },
                separators=(",", ":"),
            )
        )
    return [
        {
            "id": f"{lab.id}/policysets/default/policies/galleryimage",
            "name": "GalleryImage",
            "type": "Microsoft.DevTestLab/labs/policySets/policies",
            "location": lab.location,
            "properties": {
                "status": "Enabled",
                "factName": "GalleryImage",
                "threshold": json.dumps(references),
                "evaluatorType": "AllowedValuesPolicy",
                "createdDate": dtl_time(lab.created),
                "provisioningState": "Succeeded",
                "uniqueIdentifier": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{lab.id}/galleryimage")),
            },
        }
    ]


def _vm_count_policy(lab: LabState) -> list[dict[str, Any]]:
    if lab.max_vms_allowed_per_lab is None:
        return []
    return [
        {
            "id": f"{lab.id}/policysets/default/policies/labvmcount",
            "name": "LabVmCount",
            "type": "Microsoft.DevTestLab/labs/policySets/policies",
            "location": lab.location,
            "properties": {
                "description": "MaxVmsAllowedPerLab",
                "status": "Enabled",
                "factName": "LabVmCount",
                "threshold": str(lab.max_vms_allowed_per_lab),
                "evaluatorType": "MaxValuePolicy",
                "createdDate": dtl_time(lab.created),
                "provisioningState": "Succeeded",
                "uniqueIdentifier": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{lab.id}/labvmcount")),
            },
        }
    ]


def list_policies(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    if request.params["policySet"].lower() != "default":
        raise ResourceNotFound(f"The policy set '{request.params['policySet']}' was not found.")
    return page(apply_query(_policies(lab), request))


# ----- gallery images, artifact sources, artifacts ---------------------------------------
def list_gallery_images(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    items = [gallery_body(lab, image) for image in request.core.scenario.gallery_images]
    return page(apply_query(items, request))


def list_sources(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    items = [
        source_body(lab, s)
        for s in request.core.scenario.artifact_sources
        if s.name in lab.artifact_sources
    ]
    return page(apply_query(items, request))


def get_source(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    source = request.core.devtestlabs.artifact_source(lab, request.params["source"])
    return ArmResponse(200, source_body(lab, source))


def list_artifacts(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    source = request.core.devtestlabs.artifact_source(lab, request.params["source"])
    items = [artifact_body(lab, source, a) for a in source.artifacts]
    return page(apply_query(items, request))


def get_artifact(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    source = request.core.devtestlabs.artifact_source(lab, request.params["source"])
    art = request.core.devtestlabs.artifact(lab, request.params["source"], request.params["name"])
    return ArmResponse(200, artifact_body(lab, source, art))
