"""The scenario: the world the emulator starts with, read from YAML.

See README.md for the format. Unknown keys are rejected so a typo never goes unnoticed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

DEFAULT_SCENARIO = Path(__file__).resolve().parent / "scenarios" / "default.yaml"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")


class ScenarioError(ValueError):
    """The scenario file is invalid; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Durations(_Strict):
    """Simulated seconds each step takes."""

    vm_create: float = 600
    vm_delete: float = 180
    artifact: float = 120
    vm_start: float = 60
    vm_stop: float = 60
    sysprep: float = 300
    disk_copy_per_gb: float = 2
    image_create: float = 240
    image_delete: float = 60
    grant_access: float = 5
    revoke_access: float = 5
    resource_deploy: float = 60
    environment_delete: float = 120


class Bucket(_Strict):
    capacity: int = Field(ge=1)
    refill_per_second: float = Field(gt=0)


class Throttling(_Strict):
    """ARM's per-subscription token buckets (wall-clock refill)."""

    reads: Bucket = Bucket(capacity=250, refill_per_second=25)
    writes: Bucket = Bucket(capacity=200, refill_per_second=10)
    deletes: Bucket = Bucket(capacity=200, refill_per_second=10)
    retry_after_seconds: float = 5


class ErrorDetail(_Strict):
    """An inner error of a failed operation, as ARM nests a deployment's cause."""

    code: str
    message: str


class FaultSpec(_Strict):
    """One fault rule; see README.md (Faults)."""

    kind: Literal["throttle", "error", "fail_operation", "artifact_failure", "quota", "slow"]
    method: str | None = None
    resource_type: str | None = None
    operation: str | None = None
    path_contains: str | None = None
    artifact: str | None = None
    rate: float = Field(default=1.0, ge=0, le=1)
    count: int | None = Field(default=None, ge=1)
    status: int | None = None
    code: str | None = None
    message: str | None = None
    details: list[ErrorDetail] = Field(default_factory=list)
    retry_after: float | None = Field(default=None, ge=0)
    factor: float = Field(default=10.0, gt=0)


class GalleryImage(_Strict):
    name: str
    publisher: str
    offer: str
    sku: str
    os_type: Literal["Windows", "Linux"]
    versions: list[str] = Field(min_length=1)
    description: str = ""
    disk_size_gb: int = 127

    def ordered_versions(self, descending: bool = False) -> list[str]:
        """Its versions in order, numerically part by part (as Compute lists them)."""
        return sorted(self.versions, key=_version_order, reverse=descending)

    def latest_version(self) -> str:
        """The version `latest` names."""
        return max(self.versions, key=_version_order)


def _version_order(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


class ArtifactParameter(_Strict):
    type: str = "string"
    display_name: str = ""
    description: str = ""
    default: Any = None
    required: bool = False


class ArtifactSpec(_Strict):
    name: str
    title: str
    description: str = ""
    publisher: str = "Microsoft"
    target_os_type: Literal["Windows", "Linux", "Any"] = "Any"
    parameters: dict[str, ArtifactParameter] = {}
    duration: float | None = None
    effect: Literal["none", "generalize", "power_off"] = "none"


class ArmTemplateSpec(_Strict):
    """An environment template of a repository: its folder's `azuredeploy.json` (`file`,
    relative to the scenario file, read into `contents`) and its parameters files."""

    name: str
    display_name: str = ""
    description: str = ""
    publisher: str = ""
    file: str | None = None
    contents: dict[str, Any] = {}
    parameters_files: dict[str, Any] = {}
    enabled: bool = True

    @model_validator(mode="after")
    def _has_contents(self) -> ArmTemplateSpec:
        if not self.contents:
            raise ValueError(
                f"the ARM template {self.name!r} needs 'contents' or a 'file' read from the "
                "scenario's folder"
            )
        return self


class ArtifactSourceSpec(_Strict):
    name: str
    display_name: str
    uri: str = "https://github.com/Azure/azure-devtestlab.git"
    source_type: Literal["GitHub", "VsoGit", "StorageAccount"] = "GitHub"
    folder_path: str = "/Artifacts"
    arm_template_folder_path: str = "/Environments"
    branch_ref: str = "master"
    artifacts: list[ArtifactSpec] = []
    arm_templates: list[ArmTemplateSpec] = []


class LabPolicies(_Strict):
    max_vms_allowed_per_lab: int | None = Field(default=None, ge=0)
    # The lab's GalleryImage policy (AllowedValuesPolicy): which Marketplace images its
    # VMs may use, as "publisher/offer/sku"; None: no such policy.
    allowed_gallery_images: list[str] | None = None


class LabSpec(_Strict):
    name: str
    location: str
    storage_account: str
    premium_storage_account: str | None = None
    artifacts_storage_account: str | None = None
    vm_creation_resource_group: str | None = None
    policies: LabPolicies = LabPolicies()
    tags: dict[str, str] = {}
    artifact_sources: list[str] | None = None

    @field_validator("storage_account", "premium_storage_account", "artifacts_storage_account")
    @classmethod
    def _account_name(cls, value: str | None) -> str | None:
        if value is not None and not _ACCOUNT.match(value):
            raise ValueError(f"{value!r} is not a storage account name (3-24 a-z, 0-9)")
        return value

    def accounts(self) -> list[str]:
        names = [self.storage_account, self.premium_storage_account, self.artifacts_storage_account]
        return list(dict.fromkeys(n for n in names if n))


class ResourceGroupSpec(_Strict):
    name: str
    location: str
    labs: list[LabSpec] = []


class SubscriptionSpec(_Strict):
    id: str
    display_name: str = ""
    vcpu_quota: dict[str, int] = {}
    default_vcpu_quota: int = 100
    # vCPUs of each VM family, by location then family (Compute's per-family quota)
    family_vcpu_quota: dict[str, dict[str, int]] = {}
    default_family_vcpu_quota: int = 100
    resource_groups: list[ResourceGroupSpec] = []

    @field_validator("id")
    @classmethod
    def _guid(cls, value: str) -> str:
        if not _GUID.match(value):
            raise ValueError(f"{value!r} is not a lowercase hex GUID")
        return value

    def quota(self, location: str) -> int:
        return self.vcpu_quota.get(location.lower(), self.default_vcpu_quota)


class Scenario(_Strict):
    name: str = "scenario"
    seed: int = 0
    clock_scale: float | str = 1.0
    durations: Durations = Durations()
    throttling: Throttling = Throttling()
    vm_sizes: dict[str, int] = {
        "Standard_B2s": 2,
        "Standard_B2ms": 2,
        "Standard_B4ms": 4,
        "Standard_D2s_v3": 2,
        "Standard_D4s_v3": 4,
        "Standard_D8s_v3": 8,
        "Standard_D2s_v5": 2,
        "Standard_D4s_v5": 4,
        "Standard_D8s_v5": 8,
        "Standard_DS2_v2": 2,
        "Standard_DS3_v2": 4,
    }
    # Each size's VM family, as Compute's resource SKUs name it (`family`) and its usages
    # count it: a size without one counts against the regional quota only.
    vm_families: dict[str, str] = {
        "Standard_B2s": "standardBSFamily",
        "Standard_B2ms": "standardBSFamily",
        "Standard_B4ms": "standardBSFamily",
        "Standard_D2s_v3": "standardDSv3Family",
        "Standard_D4s_v3": "standardDSv3Family",
        "Standard_D8s_v3": "standardDSv3Family",
        "Standard_D2s_v5": "standardDSv5Family",
        "Standard_D4s_v5": "standardDSv5Family",
        "Standard_D8s_v5": "standardDSv5Family",
        "Standard_DS2_v2": "standardDSv2Family",
        "Standard_DS3_v2": "standardDSv2Family",
    }
    gallery_images: list[GalleryImage] = []
    artifact_sources: list[ArtifactSourceSpec] = []
    subscriptions: list[SubscriptionSpec] = []
    faults: list[FaultSpec] = []

    def family_of(self, size: str) -> str:
        """The size's VM family ("" when the scenario names none); sizes compare without case."""
        return {k.lower(): v for k, v in self.vm_families.items()}.get(size.lower(), "")

    def storage_accounts(self) -> list[str]:
        names: list[str] = []
        for sub in self.subscriptions:
            for rg in sub.resource_groups:
                for lab in rg.labs:
                    names.extend(lab.accounts())
        return list(dict.fromkeys(names))


def load_scenario(path: Path | None = None) -> Scenario:
    """Read and validate a scenario file (the default one when `path` is None)."""
    path = path or DEFAULT_SCENARIO
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"scenario {path} is not valid YAML: {exc}") from None
    return scenario_from_dict(data, str(path), base_dir=path.parent)


def _read_json(base_dir: Path, name: str, source: str, where: str) -> Any:
    file = base_dir / name
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{source}: {where}: cannot read {name}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{source}: {where}: {name} is not JSON: {exc}") from None


def _inline_templates(data: Any, source: str, base_dir: Path) -> None:
    """Read each ARM template's `file` (and the parameters files beside it) into the data."""
    if not isinstance(data, dict):
        return
    for i, repo in enumerate(data.get("artifact_sources") or []):
        if not isinstance(repo, dict):
            continue
        for j, spec in enumerate(repo.get("arm_templates") or []):
            if not isinstance(spec, dict) or not spec.get("file"):
                continue
            where = f"artifact_sources.{i}.arm_templates.{j}.file"
            spec["contents"] = _read_json(base_dir, str(spec["file"]), source, where)
            folder = (base_dir / str(spec["file"])).parent
            for extra in sorted(folder.glob("*.parameters*.json")):
                relative = str(extra.relative_to(base_dir))
                content = _read_json(base_dir, relative, source, where)
                spec.setdefault("parameters_files", {})[extra.name] = content


def scenario_from_dict(
    data: Any, source: str = "scenario", base_dir: Path | None = None
) -> Scenario:
    if base_dir is not None:
        _inline_templates(data, source, base_dir)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ScenarioError(f"{source}: {where}: {first['msg']}") from None
