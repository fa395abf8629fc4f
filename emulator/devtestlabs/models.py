"""DevTest Labs rules: labs, lab VMs, custom images, artifacts (their state is in `state`). No HTTP.

Lab VMs and custom images are state machines driven by simulated time: each stores its
phase and when the phase ends; `DevTestLabsBackend.advance` moves them forward, one
event at a time, finishing their asynchronous operations.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypedDict
from urllib.parse import unquote, urlsplit

from emulator import vhd
from emulator.compute.models import ComputeBackend
from emulator.compute.power import PowerAction, PowerStateMachine
from emulator.devtestlabs import exceptions as dtl
from emulator.devtestlabs.state import ArtifactRun, CustomImage, LabState, LabVm
from emulator.exceptions import (
    InvalidParameter,
    MissingRequiredProperty,
    QuotaExceeded,
    ResourceNotFound,
)
from emulator.faults import RequestKind
from emulator.lro import Operation
from emulator.registry import Registry
from emulator.scenario import ArtifactSourceSpec, ArtifactSpec, GalleryImage

PROVIDER = "Microsoft.DevTestLab"
UPLOADS_CONTAINER = "uploads"
GENERALIZING_EFFECTS = {"generalize"}
# An upload SAS is valid from 15 minutes before the request to 24 hours after it
# (st/se of the spec example Labs_GenerateUploadUri.json).
UPLOAD_SAS_LEAD = dt.timedelta(minutes=15)
UPLOAD_SAS_LIFETIME = dt.timedelta(hours=24)


class OsStates(NamedTuple):
    """How a custom image from a VM of one OS declares whether the VM is generalized."""

    info: str  # the os-info property of `properties.vm`
    other_info: str  # the other OS's, refused
    field: str  # the state field inside it
    # Not generalized, generalization requested (DevTest Labs does it), already generalized.
    states: tuple[str, str, str]
    generalization: Literal["sysprep", "deprovision"]


OS_STATES: dict[str, OsStates] = {
    "Windows": OsStates(
        "windowsOsInfo",
        "linuxOsInfo",
        "windowsOsState",
        ("NonSysprepped", "SysprepRequested", "SysprepApplied"),
        "sysprep",
    ),
    "Linux": OsStates(
        "linuxOsInfo",
        "windowsOsInfo",
        "linuxOsState",
        ("NonDeprovisioned", "DeprovisionRequested", "DeprovisionApplied"),
        "deprovision",
    ),
}


class ChildIdentity(TypedDict):
    """Who a new lab child resource is (the fields every one of them starts with)."""

    id: str
    name: str
    location: str
    tags: dict[str, str]


def child_identity(
    lab: LabState, collection: str, name: str, body: dict[str, Any]
) -> ChildIdentity:
    """A new lab child resource's id (`<lab id>/<collection>/<name>`, lower case, as ARM
    writes it), its name, and the location and tags its PUT body gives (the lab's location
    when it names none)."""
    return ChildIdentity(
        id=f"{lab.id}/{collection}/{name}".lower(),
        name=name,
        location=str(body.get("location") or lab.location),
        tags=dict(body.get("tags") or {}),
    )


def required_properties(body: dict[str, Any]) -> dict[str, Any]:
    """The `properties` object of a lab child resource's PUT body; ARM's 400 when the body
    has none."""
    props = body.get("properties")
    if not isinstance(props, dict):
        raise MissingRequiredProperty.of_body("properties")
    return props


def _check_quota(name: str, limit: int, used: int, wanted: int, location: str) -> None:
    """Compute's refusal of vCPUs over a quota, in the words its errors use ("... exceeding
    approved Total Regional Cores quota. Additional details - Deployment Model: Resource
    Manager, Location: westeurope, Current Limit: 4, ...", as users post them)."""
    if used + wanted > limit:
        raise QuotaExceeded(
            f"Operation could not be completed as it results in exceeding approved {name} "
            "quota. Additional details - Deployment Model: Resource Manager, Location: "
            f"{location}, Current Limit: {limit}, Current Usage: {used}, Additional "
            f"Required: {wanted}, (Minimum) New Limit Required: {used + wanted}."
        )


def _require_vm_property(props: dict[str, Any], name: str) -> Any:
    """DevTest Labs' answer to a VM without a required property (Azure/azure-devtestlab
    issue 904, 2024: `RequiredPropertyNullOrEmpty`, "Property userName is either missing
    or empty.")."""
    value = props.get(name)
    if value in (None, ""):
        raise dtl.RequiredPropertyNullOrEmpty(f"Property {name} is either missing or empty.")
    return value


@dataclass(frozen=True)
class VmSource:
    """What a new VM's OS disk starts from: a gallery image (resolved to a version) or a
    custom image (whose disk header it carries on)."""

    os_type: str
    disk_size_gb: int
    resolved_version: str | None = None
    parent_header: str | None = None


def _update_image(image: CustomImage, body: dict[str, Any], props: dict[str, Any]) -> CustomImage:
    """What a PUT on an image that exists changes: its tags and description."""
    if "tags" in body:
        image.tags = dict(body.get("tags") or {})
    if "description" in props:
        image.description = props.get("description")
    return image


def _check_artifact_parameters(spec: ArtifactSpec, given: Any) -> None:
    """The values given name only the artifact's parameters and cover the required ones."""
    if not isinstance(given, list):
        raise InvalidParameter(
            f"The parameters of artifact '{spec.name}' must be a list of name/value pairs."
        )
    names = {str(p.get("name", "")).lower() for p in given if isinstance(p, dict)}
    for pname, param in spec.parameters.items():
        if param.required and param.default is None and pname.lower() not in names:
            raise dtl.InvalidArtifact(
                f"The artifact '{spec.name}' needs a value for parameter '{pname}'."
            )
    known = {p.lower() for p in spec.parameters}
    for pname in names:
        if pname not in known:
            raise dtl.InvalidArtifact(f"The artifact '{spec.name}' has no parameter '{pname}'.")


def resolve_gallery(images: list[GalleryImage], ref: dict[str, Any]) -> tuple[GalleryImage, str]:
    """The gallery image a reference names and its concrete version (`latest` resolved)."""
    for field in ("publisher", "offer", "sku", "osType", "version"):
        if not ref.get(field):
            raise MissingRequiredProperty.of_body(f"properties.galleryImageReference.{field}")
    for image in images:
        if (
            image.publisher.lower() == str(ref["publisher"]).lower()
            and image.offer.lower() == str(ref["offer"]).lower()
            and image.sku.lower() == str(ref["sku"]).lower()
        ):
            if str(ref["osType"]).lower() != image.os_type.lower():
                raise dtl.InvalidGalleryImageReference(
                    f"The gallery image {image.publisher}/{image.offer}/{image.sku} is a "
                    f"{image.os_type} image, not {ref['osType']}."
                )
            version = str(ref["version"])
            if version.lower() == "latest":
                return image, image.latest_version()
            if version in image.versions:
                return image, version
            raise dtl.InvalidGalleryImageReference(
                f"The gallery image {image.publisher}/{image.offer}/{image.sku} has no version "
                f"'{version}'; available: latest, {', '.join(image.versions)}."
            )
    raise dtl.InvalidGalleryImageReference(
        f"No gallery image matches publisher '{ref['publisher']}', offer '{ref['offer']}' "
        f"and sku '{ref['sku']}'."
    )


class DevTestLabsBackend:
    """The rules of Microsoft.DevTestLab over the registry; a removed VM's compute
    leftovers (a disk export) go with it."""

    def __init__(self, registry: Registry, compute: ComputeBackend) -> None:
        self.registry = registry
        self.compute = compute

    # ----- lookups -------------------------------------------------------------------
    def lab(self, subscription: str, resource_group: str, name: str) -> LabState:
        group = self.registry.resource_group(subscription, resource_group)
        lab = group.labs.get(name.lower())
        if lab is None:
            raise ResourceNotFound.under(f"Microsoft.DevTestLab/labs/{name}", resource_group)
        return lab

    def labs_in_subscription(self, subscription: str) -> list[LabState]:
        sub = self.registry.subscription(subscription)
        return [lab for rg in sub.resource_groups.values() for lab in rg.labs.values()]

    def vm(self, lab: LabState, name: str) -> LabVm:
        vm = lab.vms.get(name.lower())
        if vm is None:
            raise lab.not_found(f"virtualMachines/{name}")
        return vm

    def image(self, lab: LabState, name: str) -> CustomImage:
        image = lab.images.get(name.lower())
        if image is None:
            raise lab.not_found(f"customImages/{name}")
        return image

    def artifact_sources(self, lab: LabState) -> list[str]:
        return lab.artifact_sources

    def artifact_source(self, lab: LabState, name: str) -> ArtifactSourceSpec:
        for source in self.registry.scenario.artifact_sources:
            if source.name.lower() == name.lower() and source.name in lab.artifact_sources:
                return source
        raise lab.not_found(f"artifactSources/{name}")

    def artifact(self, lab: LabState, source_name: str, name: str) -> ArtifactSpec:
        source = self.artifact_source(lab, source_name)
        for artifact in source.artifacts:
            if artifact.name.lower() == name.lower():
                return artifact
        raise lab.not_found(f"artifactSources/{source_name}/artifacts/{name}")

    # ----- artifacts ---------------------------------------------------------------------
    def _artifact_runs(
        self, lab: LabState, os_type: str, items: Any, request: RequestKind
    ) -> list[ArtifactRun]:
        if items is None:
            return []
        if not isinstance(items, list):
            raise InvalidParameter("The property 'artifacts' must be a list.")
        return [
            self._artifact_run(lab, os_type, index, item, request)
            for index, item in enumerate(items)
        ]

    def _artifact_run(
        self, lab: LabState, os_type: str, index: int, item: Any, request: RequestKind
    ) -> ArtifactRun:
        if not isinstance(item, dict) or not item.get("artifactId"):
            raise MissingRequiredProperty(
                f"The artifact at position {index} is missing the required property 'artifactId'."
            )
        artifact_id = str(item["artifactId"])
        spec = self._artifact_by_id(lab, artifact_id)
        if spec.target_os_type not in ("Any", os_type):
            raise dtl.InvalidArtifact(
                f"The artifact '{spec.name}' targets {spec.target_os_type}, but the virtual "
                f"machine runs {os_type}."
            )
        given = item.get("parameters") or []
        _check_artifact_parameters(spec, given)
        duration = (
            spec.duration
            if spec.duration is not None
            else self.registry.scenario.durations.artifact
        )
        fault = self.registry.faults.on_artifact(request, spec.name)
        return ArtifactRun(
            artifact_id=artifact_id.lower(),
            name=spec.name,
            title=spec.title,
            parameters=[
                {"name": p.get("name"), "value": p.get("value")}
                for p in given
                if isinstance(p, dict)
            ],
            duration=duration * self.registry.faults.slow_factor(request),
            effect=spec.effect,
            fails_with=(fault.message or f"Artifact '{spec.name}' failed.") if fault else None,
        )

    def _artifact_by_id(self, lab: LabState, artifact_id: str) -> ArtifactSpec:
        parts = artifact_id.strip("/").split("/")
        lowered = [p.lower() for p in parts]
        if len(parts) != 12 or lowered[-2] != "artifacts" or lowered[-4] != "artifactsources":
            raise dtl.InvalidArtifact(
                f"The artifact id '{artifact_id}' is not a lab artifact resource id."
            )
        if lowered[7].lower() != lab.name.lower() or lowered[1] != lab.subscription.lower():
            raise dtl.InvalidArtifact(
                f"The artifact '{artifact_id}' does not belong to lab '{lab.name}'."
            )
        try:
            return self.artifact(lab, parts[9], parts[11])
        except ResourceNotFound:
            raise dtl.InvalidArtifact(
                f"The artifact '{parts[11]}' was not found in artifact source '{parts[9]}' "
                f"of lab '{lab.name}'."
            ) from None

    # ----- lab VMs -----------------------------------------------------------------------
    def create_vm(
        self, lab: LabState, name: str, body: dict[str, Any], request: RequestKind
    ) -> tuple[LabVm, Operation | None]:
        """Create a lab VM (or update the tags/notes of an existing one)."""
        props = required_properties(body)
        existing = lab.vms.get(name.lower())
        if existing is not None:
            if existing.busy:
                raise dtl.OperationInProgress.on(f"virtual machine '{name}'")
            return self.update_vm(existing, body), None
        now = self.registry.now()
        size, vcpus = self._vm_size(props)
        source = self._vm_source(lab, props)
        self._check_sign_in(props)
        self._check_network(lab, props)
        runs = self._artifact_runs(lab, source.os_type, props.get("artifacts"), request)
        self._check_limits(lab, size, vcpus, request)
        unique = str(uuid.uuid4())
        gallery_ref = props.get("galleryImageReference")
        custom_image_id = props.get("customImageId")
        vm = LabVm(
            **child_identity(lab, "virtualmachines", name, body),
            notes=props.get("notes"),
            size=size,
            vcpus=vcpus,
            os_type=source.os_type,
            user_name=str(props.get("userName")),
            is_ssh=bool(props.get("isAuthenticationWithSshKey")),
            gallery_image_reference=dict(gallery_ref) if gallery_ref else None,
            resolved_version=source.resolved_version,
            custom_image_id=str(custom_image_id).lower() if custom_image_id else None,
            parent_header=source.parent_header,
            lab_subnet_name=props.get("labSubnetName"),
            lab_virtual_network_id=props.get("labVirtualNetworkId"),
            disallow_public_ip=bool(props.get("disallowPublicIpAddress")),
            allow_claim=bool(props.get("allowClaim")),
            storage_type=str(props.get("storageType") or "Standard"),
            expiration_date=props.get("expirationDate"),
            owner_object_id=props.get("ownerObjectId"),
            created=now,
            unique_identifier=unique,
            compute_resource_group=lab.compute_resource_group(),
            compute_name=name,
            os_disk_name=f"{name}_OsDisk_1_{unique.replace('-', '')}",
            disk_size_gb=source.disk_size_gb,
            artifacts=runs,
        )
        vm.phase_until = self._due(now, self.registry.scenario.durations.vm_create, request)
        failure = ("DeploymentFailed", f"The deployment of virtual machine '{name}' failed.")
        operation = self._begin(lab, vm, "create", request, failure)
        lab.vms[name.lower()] = vm
        return vm, operation

    def update_vm(self, vm: LabVm, body: dict[str, Any]) -> LabVm:
        """What a PATCH, or a PUT on a VM that exists, changes: its tags and notes."""
        props = body.get("properties")
        if "tags" in body:
            vm.tags = dict(body.get("tags") or {})
        if isinstance(props, dict) and "notes" in props:
            vm.notes = props.get("notes")
        return vm

    def _vm_size(self, props: dict[str, Any]) -> tuple[str, int]:
        """The VM size asked for (as the scenario spells it, or in any case) and its vCPUs."""
        size = str(_require_vm_property(props, "size"))
        sizes = self.registry.scenario.vm_sizes
        vcpus = sizes.get(size)
        if vcpus is None:
            vcpus = {k.lower(): v for k, v in sizes.items()}.get(size.lower())
        if vcpus is None:
            raise dtl.InvalidVmSize(f"The virtual machine size '{size}' is not available.")
        return size, vcpus

    def _vm_source(self, lab: LabState, props: dict[str, Any]) -> VmSource:
        """What a new VM's OS disk starts from: a gallery image or one of the lab's images."""
        gallery_ref = props.get("galleryImageReference")
        custom_image_id = props.get("customImageId")
        if not gallery_ref and not custom_image_id:
            raise MissingRequiredProperty(
                "The request body needs either 'properties.galleryImageReference' or "
                "'properties.customImageId'."
            )
        if gallery_ref:
            if not isinstance(gallery_ref, dict):
                raise InvalidParameter("The property 'galleryImageReference' must be an object.")
            image, version = resolve_gallery(self.registry.scenario.gallery_images, gallery_ref)
            return VmSource(image.os_type, image.disk_size_gb, resolved_version=version)
        source = self._image_by_id(lab, str(custom_image_id))
        return VmSource(source.os_type, source.size_gb, parent_header=source.source_header)

    def _check_sign_in(self, props: dict[str, Any]) -> None:
        """A VM needs a user name and a password or SSH key; the password is noted, never kept."""
        if not props.get("userName"):
            _require_vm_property(props, "userName")
        if not props.get("password") and not props.get("sshKey"):
            raise MissingRequiredProperty(
                "The request body needs 'properties.password' or 'properties.sshKey'."
            )
        if props.get("password"):
            self.registry.secrets_received.append(str(props["password"]))

    def _check_network(self, lab: LabState, props: dict[str, Any]) -> None:
        """A VM names the lab's network and subnet, as `az lab vm create` and the spec send."""
        missing = [k for k in ("labVirtualNetworkId", "labSubnetName") if not props.get(k)]
        if missing:
            raise dtl.MissingRequiredProperties(
                "The request is missing the required properties "
                f"{', '.join(f'properties.{k}' for k in missing)}; name the lab's virtual "
                f"network '{lab.virtual_network_id}' and its subnet '{lab.subnet_name}'."
            )
        network = props.get("labVirtualNetworkId")
        if network and str(network).lower() != lab.virtual_network_id:
            raise InvalidParameter(
                f"The virtual network '{network}' is not a network of lab '{lab.name}'; use "
                f"'{lab.virtual_network_id}'."
            )
        subnet = props.get("labSubnetName")
        if subnet and str(subnet).lower() != lab.subnet_name.lower():
            raise InvalidParameter(
                f"The subnet '{subnet}' is not a subnet of lab '{lab.name}'; use "
                f"'{lab.subnet_name}'."
            )

    def region_vms(self, subscription: str, location: str) -> list[LabVm]:
        """The lab VMs of a subscription in a location: what its vCPU quotas count."""
        return [
            vm
            for lab in self.labs_in_subscription(subscription)
            if lab.location.lower() == location.lower()
            for vm in lab.vms.values()
        ]

    def _check_limits(self, lab: LabState, size: str, vcpus: int, request: RequestKind) -> None:
        if lab.max_vms_allowed_per_lab is not None:
            count = len(lab.vms)
            if count + 1 > lab.max_vms_allowed_per_lab:
                raise dtl.PolicyViolation(
                    f"The lab policy MaxVmsAllowedPerLab allows {lab.max_vms_allowed_per_lab} "
                    f"virtual machines in lab '{lab.name}', which has {count} already."
                )
        sub = self.registry.subscription(lab.subscription)
        location = lab.location.lower()
        vms = self.region_vms(lab.subscription, location)
        faulted = self.registry.faults.on_quota(request) is not None
        limit = sub.vcpu_quota.get(location, sub.default_vcpu_quota)
        used = sum(vm.vcpus for vm in vms)
        _check_quota(
            "Total Regional Cores", limit, max(used, limit) if faulted else used, vcpus, location
        )
        family = self.registry.scenario.family_of(size)
        if family:
            limit = sub.family_quota(location, family)
            scenario = self.registry.scenario
            used = sum(
                vm.vcpus for vm in vms if scenario.family_of(vm.size).lower() == family.lower()
            )
            _check_quota(f"{family} Cores", limit, used, vcpus, location)

    def _image_by_id(self, lab: LabState, image_id: str) -> CustomImage:
        parts = image_id.strip("/").split("/")
        if len(parts) != 10 or parts[-2].lower() != "customimages":
            raise InvalidParameter(f"The custom image id '{image_id}' is not a resource id.")
        if parts[7].lower() != lab.name.lower():
            raise InvalidParameter(
                f"The custom image '{image_id}' does not belong to lab '{lab.name}'."
            )
        image = self.image(lab, parts[-1])
        if image.provisioning_state != "Succeeded":
            raise dtl.CustomImageNotReady(
                f"The custom image '{image.name}' is {image.provisioning_state}, not Succeeded."
            )
        return image

    def apply_artifacts(
        self, lab: LabState, vm: LabVm, body: dict[str, Any], request: RequestKind
    ) -> Operation:
        if vm.busy:
            raise dtl.OperationInProgress.on(f"virtual machine '{vm.name}'")
        if vm.power_state != "running":
            raise dtl.VmNotRunning(
                f"The virtual machine '{vm.name}' must be running to apply artifacts; it is "
                f"{vm.power_state or 'not started'}."
            )
        items = body.get("artifacts")
        if not items:
            raise MissingRequiredProperty.of_body("artifacts")
        runs = self._artifact_runs(lab, vm.os_type, items, request)
        now = self.registry.now()
        start = len(vm.artifacts)
        vm.artifacts.extend(runs)
        vm.current_artifact = start
        vm.phase = "artifacts"
        vm.provisioning_state = "Updating"
        operation = self._begin(
            lab,
            vm,
            "applyArtifacts",
            request,
            ("ApplyArtifactsFailed", "Applying artifacts failed."),
        )
        self._start_artifact(vm, now)
        return operation

    def delete_vm(self, lab: LabState, vm: LabVm, request: RequestKind) -> Operation:
        seconds = self.registry.scenario.durations.vm_delete
        return self._begin_delete(lab, vm, f"virtual machine '{vm.name}'", seconds, request)

    def power(self, lab: LabState, vm: LabVm, action: str, request: RequestKind) -> Operation:
        """DevTest Labs' `start` (start the compute VM) or `stop` (deallocate it)."""
        if vm.busy or vm.provisioning_state != "Succeeded" or vm.power is None:
            raise dtl.OperationInProgress(
                f"The virtual machine '{vm.name}' is {vm.provisioning_state}; it can be "
                f"{'started' if action == 'start' else 'stopped'} once provisioning finished."
            )
        durations = self.registry.scenario.durations
        move: PowerAction = "start" if action == "start" else "deallocate"
        now = self.registry.now()
        operation = self._begin(
            lab, vm, action, request, ("OperationFailed", f"The {action} failed.")
        )
        if vm.power.settled_in(move):
            # Already there: the operation ends at once (a fault still fails it).
            self._finish_power(vm, now)
            return operation
        seconds = durations.vm_start if action == "start" else durations.vm_stop
        vm.power.begin(move, now, seconds * self.registry.faults.slow_factor(request))
        return operation

    def _finish_power(self, vm: LabVm, at: dt.datetime) -> None:
        """End a start or stop: the machine reaches its target (or reverts on a fault)."""
        operation = self._operation_of(vm)
        if vm.power is None:
            return
        if vm.planned_failure is not None:
            code, message = vm.planned_failure
            vm.planned_failure = None
            vm.power.revert()
            if operation:
                operation.fail(at, code, message)
        else:
            vm.power.finish()
            if operation:
                operation.succeed(at)

    def _step_power(self, vm: LabVm, now: dt.datetime) -> None:
        if vm.power is None or not vm.power.transitioning or not vm.power.due(now):
            return
        if vm.phase == "deleting":
            # The delete canceled the start or stop; the VM is going anyway.
            vm.power.finish()
            return
        self._finish_power(vm, vm.power.until or now)

    def _start_artifact(self, vm: LabVm, at: dt.datetime) -> None:
        run = vm.artifacts[vm.current_artifact]
        run.status = "Installing"
        vm.phase_until = at + dt.timedelta(seconds=run.duration)

    def _finish_vm(self, vm: LabVm, at: dt.datetime) -> None:
        if not self._fail_as_planned(vm, at):
            vm.provisioning_state = "Succeeded"
            vm.phase = "ready"
            self._succeed(vm, at)

    def _step_vm(self, lab: LabState, vm: LabVm, now: dt.datetime) -> None:
        while vm.phase_until is not None and vm.phase_until <= now:
            at = vm.phase_until
            if vm.phase == "creating":
                vm.compute_exists = True
                vm.power = PowerStateMachine(state="running")
                if vm.artifacts:
                    vm.phase = "artifacts"
                    vm.current_artifact = 0
                    self._start_artifact(vm, at)
                else:
                    self._finish_vm(vm, at)
            elif vm.phase == "artifacts":
                self._end_artifact(vm, at)
            elif vm.phase == "deleting":
                if self._fail_as_planned(vm, at):
                    continue
                self.compute.on_vm_removed(vm)
                lab.vms.pop(vm.name.lower(), None)
                self._succeed(vm, at)
                return
            else:
                vm.phase_until = None

    def _end_artifact(self, vm: LabVm, at: dt.datetime) -> None:
        """The artifact being installed is done: the next one starts, or the VM is ready; a
        failing artifact skips those after it and fails the VM."""
        run = vm.artifacts[vm.current_artifact]
        run.install_time = at
        if run.fails_with is not None:
            run.status = "Failed"
            run.message = run.fails_with
            for later in vm.artifacts[vm.current_artifact + 1 :]:
                later.status = "Skipped"
            vm.planned_failure = (
                "VMExtensionProvisioningError",
                f"The artifact '{run.name}' failed on virtual machine '{vm.name}': "
                f"{run.fails_with}",
            )
            self._finish_vm(vm, at)
            return
        run.status = "Succeeded"
        run.message = "Artifact applied."
        # Sysprep and deprovision end with a guest shutdown: the compute VM stops
        # but stays allocated (only a deallocation frees its disk for export).
        if run.effect in GENERALIZING_EFFECTS:
            vm.generalized = "sysprep" if vm.os_type == "Windows" else "deprovision"
            if vm.power is not None:
                vm.power.set("stopped")
        elif run.effect == "power_off" and vm.power is not None:
            vm.power.set("stopped")
        vm.current_artifact += 1
        if vm.current_artifact < len(vm.artifacts):
            self._start_artifact(vm, at)
        else:
            self._finish_vm(vm, at)

    # ----- what VMs and images share ----------------------------------------------------
    def _due(self, now: dt.datetime, seconds: float, request: RequestKind) -> dt.datetime:
        """When work of `seconds` started now ends (a slow-down fault stretches it)."""
        return now + dt.timedelta(seconds=seconds * self.registry.faults.slow_factor(request))

    def _begin(
        self,
        lab: LabState,
        resource: LabVm | CustomImage,
        action: str,
        request: RequestKind,
        failure: tuple[str, str],
    ) -> Operation:
        """Start the resource's operation; a fault rule may plan its failure (default code
        and message in `failure`)."""
        fault = self.registry.faults.on_operation(request)
        resource.planned_failure = (
            (fault.code or failure[0], fault.message or failure[1]) if fault else None
        )
        operation = self.registry.start_operation(
            PROVIDER, resource.location, action, resource.id, lab.subscription
        )
        if fault:
            operation.error_details = [d.model_dump() for d in fault.details]
        resource.operation_id = operation.id
        return operation

    def _begin_delete(
        self,
        lab: LabState,
        resource: LabVm | CustomImage,
        what: str,
        seconds: float,
        request: RequestKind,
    ) -> Operation:
        """Delete a VM or an image: a second delete answers with the first one's operation."""
        now = self.registry.now()
        if resource.phase == "deleting" and resource.operation_id:
            existing = self.registry.world.operations.get(resource.operation_id)
            if existing is not None:
                return existing
        self._cancel_running(resource.operation_id, now, what)
        resource.phase = "deleting"
        resource.provisioning_state = "Deleting"
        resource.phase_until = self._due(now, seconds, request)
        noun = "VM" if isinstance(resource, LabVm) else "image"
        return self._begin(
            lab, resource, "delete", request, ("DeleteFailed", f"Deleting the {noun} failed.")
        )

    def _operation_of(self, resource: LabVm | CustomImage) -> Operation | None:
        return self.registry.world.operations.get(resource.operation_id or "")

    def _fail_as_planned(self, resource: LabVm | CustomImage, at: dt.datetime) -> bool:
        """End the operation in flight as a fault planned it, if one did: the resource is
        then Failed. True when it failed."""
        if resource.planned_failure is None:
            return False
        code, message = resource.planned_failure
        resource.planned_failure = None
        resource.provisioning_state = "Failed"
        resource.phase = "failed"
        resource.phase_until = None
        operation = self._operation_of(resource)
        if operation:
            operation.fail(at, code, message)
        return True

    def _succeed(self, resource: LabVm | CustomImage, at: dt.datetime) -> None:
        resource.phase_until = None
        operation = self._operation_of(resource)
        if operation:
            operation.succeed(at)

    def _cancel_running(self, operation_id: str | None, now: dt.datetime, what: str) -> None:
        operation = self.registry.world.operations.get(operation_id or "")
        if operation is not None and not operation.done:
            operation.cancel(
                now, f"The operation was canceled because the {what} is being deleted."
            )

    # ----- custom images -------------------------------------------------------------------
    def create_image(
        self, lab: LabState, name: str, body: dict[str, Any], request: RequestKind
    ) -> tuple[CustomImage, Operation | None]:
        props = required_properties(body)
        existing = lab.images.get(name.lower())
        if existing is not None:
            if existing.busy:
                raise dtl.OperationInProgress.on(f"custom image '{name}'")
            return _update_image(existing, body, props), None
        vm_props = props.get("vm")
        vhd_props = props.get("vhd")
        if bool(vm_props) == bool(vhd_props):
            raise MissingRequiredProperty(
                "The request body needs exactly one of 'properties.vm' and 'properties.vhd'."
            )
        now = self.registry.now()
        durations = self.registry.scenario.durations
        factor = self.registry.faults.slow_factor(request)
        if vm_props:
            os_type, header, size_gb, extra = self._image_source_vm(lab, vm_props)
        else:
            os_type, header, size_gb, extra = self._image_source_vhd(lab, vhd_props)
        seconds = durations.image_create + extra + durations.disk_copy_per_gb * size_gb
        image = CustomImage(
            **child_identity(lab, "customimages", name, body),
            description=props.get("description"),
            author=props.get("author"),
            os_type=os_type,
            vm=dict(vm_props) if vm_props else None,
            vhd=dict(vhd_props) if vhd_props else None,
            created=now,
            unique_identifier=str(uuid.uuid4()),
            size_gb=size_gb,
            source_header=header,
            phase_until=now + dt.timedelta(seconds=seconds * factor),
        )
        failure = ("ImageCreationFailed", f"Creating custom image '{name}' failed.")
        operation = self._begin(lab, image, "create", request, failure)
        lab.images[name.lower()] = image
        return image, operation

    def _image_source_vm(self, lab: LabState, vm_props: Any) -> tuple[str, str, int, float]:
        if not isinstance(vm_props, dict) or not vm_props.get("sourceVmId"):
            raise MissingRequiredProperty.of_body("properties.vm.sourceVmId")
        source_id = str(vm_props["sourceVmId"])
        parts = source_id.strip("/").split("/")
        if len(parts) != 10 or parts[-2].lower() != "virtualmachines":
            raise InvalidParameter(f"The source VM id '{source_id}' is not a lab VM resource id.")
        if parts[7].lower() != lab.name.lower():
            raise InvalidParameter(f"The source VM '{source_id}' is not in lab '{lab.name}'.")
        vm = self.vm(lab, parts[-1])
        if vm.provisioning_state != "Succeeded":
            raise dtl.OperationInProgress(
                f"The virtual machine '{vm.name}' is {vm.provisioning_state}; a custom image "
                "needs a VM that finished provisioning."
            )
        os_states = OS_STATES[vm.os_type]
        if vm_props.get(os_states.other_info):
            raise InvalidParameter(
                f"The virtual machine '{vm.name}' runs {vm.os_type}; use '{os_states.info}', not "
                f"'{os_states.other_info}'."
            )
        state = str((vm_props.get(os_states.info) or {}).get(os_states.field) or "")
        states = os_states.states
        if state not in states:
            raise InvalidParameter(
                f"The property 'properties.vm.{os_states.info}.{os_states.field}' must be "
                f"{', '.join(states[:-1])} or {states[-1]}."
            )
        not_generalized, requested, _ = states
        extra = 0.0
        if state == requested:
            # DevTest Labs generalizes the VM itself and deallocates it to capture it.
            vm.generalized = os_states.generalization
            if vm.power is not None:
                vm.power.set("deallocated")
            extra = self.registry.scenario.durations.sysprep
        generalized = state != not_generalized
        text = vhd.header(vm.disk_bytes())
        header = "\n".join(
            [
                text,
                f"captured-from-vm: {vm.id}",
                f"declared-os-state: {state}",
                f"image-generalized: {'yes' if generalized else 'no'}",
            ]
        )
        return vm.os_type, header, vm.disk_size_gb, extra

    def _vhd_blob(self, lab: LabState, image_name: str) -> tuple[str, str]:
        """The (account, blob) a VHD URI names, when it is a blob of the lab's `uploads`.

        The DevTest Labs team's PowerShell module (Azure/azure-devtestlab,
        Az.DevTestLabs2.psm1 and the 201-dtl-create-customimage-from-vhd template) names
        the VHD by its full blob URI, `<blob endpoint>uploads/<name>`, without a SAS.
        """
        blobs = self.registry.blobs()
        accounts = dict.fromkeys([lab.storage_account, lab.artifacts_storage_account])
        containers = {a: blobs.container_url(a, UPLOADS_CONTAINER) for a in accounts}
        expected = f"{containers[lab.storage_account]}/<name>.vhd"
        parts = urlsplit(image_name)
        if parts.query or parts.fragment:
            raise dtl.VhdNotFound(
                f"The VHD '{image_name}' must be named by its blob URI without a SAS or "
                f"fragment, like '{expected}'."
            )
        for account, container in containers.items():
            base = urlsplit(container)
            same_host = (parts.scheme.lower(), parts.netloc.lower()) == (
                base.scheme.lower(),
                base.netloc.lower(),
            )
            prefix = base.path.rstrip("/") + "/"
            if same_host and parts.path.lower().startswith(prefix.lower()):
                blob = unquote(parts.path[len(prefix) :])
                if blob and "/" not in blob:
                    return account, blob
        raise dtl.VhdNotFound(
            f"The VHD '{image_name}' is not a blob in the '{UPLOADS_CONTAINER}' container of "
            f"the storage account of lab '{lab.name}'; name it by its full blob URI, like "
            f"'{expected}'."
        )

    def _image_source_vhd(self, lab: LabState, vhd_props: Any) -> tuple[str, str, int, float]:
        if not isinstance(vhd_props, dict) or not vhd_props.get("imageName"):
            raise MissingRequiredProperty.of_body("properties.vhd.imageName")
        # Real clients send "Windows"/"Linux"; the team's quick-start template defaults to
        # "windows", so the OS type is read without regard to case.
        os_types = {"windows": "Windows", "linux": "Linux"}
        os_type = os_types.get(str(vhd_props.get("osType") or "").lower())
        if os_type is None:
            raise InvalidParameter("The property 'properties.vhd.osType' must be Windows or Linux.")
        sysprep = vhd_props.get("sysPrep", False)
        if not isinstance(sysprep, bool):
            raise InvalidParameter("The property 'properties.vhd.sysPrep' must be true or false.")
        account, blob_name = self._vhd_blob(lab, str(vhd_props["imageName"]))
        blobs = self.registry.blobs()
        kind = blobs.blob_type(account, UPLOADS_CONTAINER, blob_name)
        data = blobs.read(account, UPLOADS_CONTAINER, blob_name) if kind else None
        if kind is not None and "page" not in kind.lower():
            raise dtl.VhdNotFound(
                f"The blob '{blob_name}' in the '{UPLOADS_CONTAINER}' container of lab "
                f"'{lab.name}' is a {kind}; a custom image needs a page blob VHD."
            )
        if data is None:
            raise dtl.VhdNotFound(
                f"The VHD '{blob_name}' was not found in the '{UPLOADS_CONTAINER}' container of "
                f"storage account '{account}' of lab '{lab.name}'."
            )
        text = vhd.header(data)
        size_field = vhd.field(text, "size-gb")
        size_gb = int(size_field) if size_field and size_field.isdigit() else 1
        header = "\n".join(
            [
                text,
                f"imported-from-blob: {account}/{UPLOADS_CONTAINER}/{blob_name}",
                f"declared-os-type: {os_type}",
                f"declared-sysprep: {'yes' if sysprep else 'no'}",
            ]
        )
        return os_type, header, size_gb, 0.0

    def delete_image(self, lab: LabState, image: CustomImage, request: RequestKind) -> Operation:
        seconds = self.registry.scenario.durations.image_delete
        return self._begin_delete(lab, image, f"custom image '{image.name}'", seconds, request)

    def _step_image(self, lab: LabState, image: CustomImage, now: dt.datetime) -> None:
        if image.phase_until is None or image.phase_until > now:
            return
        at = image.phase_until
        if self._fail_as_planned(image, at):
            return
        if image.phase == "creating":
            image.provisioning_state = "Succeeded"
            image.phase = "ready"
        elif image.phase == "deleting":
            lab.images.pop(image.name.lower(), None)
        self._succeed(image, at)

    # ----- time --------------------------------------------------------------------------
    def advance(self, now: dt.datetime) -> None:
        for sub in self.registry.world.subscriptions.values():
            for group in sub.resource_groups.values():
                for lab in group.labs.values():
                    for vm in list(lab.vms.values()):
                        self._step_vm(lab, vm, now)
                        self._step_power(vm, now)
                    for image in list(lab.images.values()):
                        self._step_image(lab, image, now)

    # ----- storage ---------------------------------------------------------------------
    def upload_uri(self, lab: LabState, blob_name: str | None) -> str:
        """A SAS URI for one blob of the lab's `uploads` container: read, create, write.

        As the spec example Labs_GenerateUploadUri.json shows (`sr=b`, `sp=rcw`, valid
        from 15 minutes before the request to 24 hours after it). No recorded request
        omits the blob name; without one the emulator names the blob itself, so it never
        grants the whole container.
        """
        blobs = self.registry.blobs()
        blobs.ensure_container(lab.storage_account, UPLOADS_CONTAINER)
        now = dt.datetime.now(dt.UTC)
        name = blob_name or f"{uuid.uuid4()}.vhd"
        return blobs.blob_upload_sas(
            lab.storage_account,
            UPLOADS_CONTAINER,
            name,
            start=now - UPLOAD_SAS_LEAD,
            expiry=now + UPLOAD_SAS_LIFETIME,
        )

    def list_vhds(self, lab: LabState) -> list[str]:
        blobs = self.registry.blobs()
        base = blobs.container_url(lab.storage_account, UPLOADS_CONTAINER)
        names = blobs.list_names(lab.storage_account, UPLOADS_CONTAINER)
        return [f"{base}/{n}" for n in names if n.lower().endswith(".vhd")]
