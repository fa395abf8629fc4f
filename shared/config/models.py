"""The configuration repository as typed models: factory.yaml, images/*.yaml, labs/*.yaml.

Every model rejects unknown keys. Keys are camelCase in YAML (snake_case in Python).
Cross-file rules (duplicates, references, cycles) live in `shared.config.loading`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from shared.config.ncrontab import NcrontabError, check_ncrontab
from shared.model import tags as factory_tags
from shared.model.arm_ids import ArmIdError, LabId, parse_resource_id
from shared.model.base import Record

# A family name becomes part of custom image names `<family>-<version>` (see shared.model.naming).
FAMILY_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"
FamilyName = Annotated[str, StringConstraints(pattern=FAMILY_PATTERN)]


# Upper bounds a real factory could need; beyond them a value is a mistake (and would
# overflow a date or a timer at run time).
MAX_KEEP = 100
MAX_AGE_DAYS = 3650  # ten years
MAX_STEP_MINUTES = 7 * 24 * 60  # one step of a build: a week
MAX_VM_TTL_HOURS = 30 * 24  # a build VM's life: thirty days
MAX_PARAMETER_NUMBER = 2**53  # what every JSON reader holds exactly

# Azure Resource Manager's limits on tags, per resource: the factory's own tags (all of
# shared.model.tags on a build VM) and an image's `tags` share the 50.
MAX_TAGS_PER_RESOURCE = 50
MAX_IMAGE_TAGS = MAX_TAGS_PER_RESOURCE - len(factory_tags.ALL)
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256
TAG_NAME_FORBIDDEN = "<>%&\\?/"


def _scalar(value: Any) -> Any:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int) and abs(value) <= MAX_PARAMETER_NUMBER:
        return value
    if isinstance(value, float) and abs(value) <= MAX_PARAMETER_NUMBER:  # no inf or nan
        return value
    if isinstance(value, int | float):
        raise ValueError(
            f"expected a number between -{MAX_PARAMETER_NUMBER} and {MAX_PARAMETER_NUMBER} "
            "as the parameter value (quote longer ones as text)"
        )
    raise ValueError("expected text, a number or true/false as the parameter value")


def _check_tags(value: dict[str, str]) -> dict[str, str]:
    if len(value) > MAX_IMAGE_TAGS:
        raise ValueError(
            f"{len(value)} tags; expected at most {MAX_IMAGE_TAGS}: Azure allows "
            f"{MAX_TAGS_PER_RESOURCE} per resource and the factory adds {len(factory_tags.ALL)}"
        )
    seen: dict[str, str] = {}
    for name, text in value.items():
        shown = name if len(name) <= 40 else name[:40] + "..."
        bad = [c for c in name if c in TAG_NAME_FORBIDDEN or ord(c) < 32 or ord(c) == 127]
        if bad:
            raise ValueError(
                f"tag name '{shown}' holds {bad[0]!r}; Azure forbids "
                f"{' '.join(TAG_NAME_FORBIDDEN)} and control characters in tag names"
            )
        if name.lower().startswith(factory_tags.PREFIX):
            raise ValueError(
                f"tag name '{shown}' starts with '{factory_tags.PREFIX}', which is the "
                "factory's own; expected another name"
            )
        if len(text) > MAX_TAG_VALUE:
            raise ValueError(
                f"the value of tag '{shown}' has {len(text)} characters; Azure allows "
                f"{MAX_TAG_VALUE}"
            )
        first = seen.setdefault(name.lower(), name)
        if first != name:
            raise ValueError(
                f"tag names '{first}' and '{name}' differ only in case; Azure treats them "
                "as one tag"
            )
    return value


Scalar = Annotated[
    Any,
    AfterValidator(_scalar),
    WithJsonSchema({"type": ["string", "number", "boolean"]}),
]
Tags = Annotated[
    dict[Annotated[str, StringConstraints(min_length=1, max_length=MAX_TAG_NAME)], str],
    AfterValidator(_check_tags),
]


class Model(Record):
    """The configuration's base: a `Record` whose unknown keys are errors (a misspelt YAML
    key must be reported, not ignored as a payload's extra key is)."""

    model_config = ConfigDict(extra="forbid")


class OsType(StrEnum):
    WINDOWS = "Windows"
    LINUX = "Linux"


class GalleryImage(Model):
    """A DevTest Labs gallery (Marketplace) image. `version: latest` is resolved at plan time."""

    publisher: str = Field(min_length=1)
    offer: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    version: str = Field(default="latest", min_length=1)

    @property
    def key(self) -> str:
        """How the inventory names this image when it reports the resolved version."""
        return f"{self.publisher}/{self.offer}/{self.sku}".lower()


class BaseImage(Model):
    """Exactly one of: a gallery image, or the name of another definition (layered)."""

    gallery: GalleryImage | None = None
    image: FamilyName | None = Field(
        default=None, description="Name of another image definition to build on (layered)."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> BaseImage:
        if (self.gallery is None) == (self.image is None):
            raise ValueError("set exactly one of 'gallery' (a gallery image) or 'image' (layered)")
        return self


class Artifact(Model):
    """A DevTest Labs artifact applied to the build VM, in order."""

    name: str = Field(min_length=1, description="Artifact name in its source, e.g. 'windows-7zip'.")
    source: str = Field(
        default="public repo", min_length=1, description="Artifact source (repository) name."
    )
    parameters: dict[str, Scalar] = Field(default_factory=dict)


class RetentionOverride(Model):
    keep: int | None = Field(
        default=None, ge=1, le=MAX_KEEP, description="Keep this many newest successful versions."
    )


class Retention(Model):
    keep: int = Field(
        default=3, ge=1, le=MAX_KEEP, description="Keep this many newest successful versions."
    )
    retire_removed: StrictBool = Field(
        default=True,
        description="Retire images of removed definitions or no longer selected by a lab.",
    )


class RebuildPolicy(Model):
    on_change: StrictBool = Field(
        default=True, description="Rebuild when the definition or its base image changes."
    )
    max_age_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_AGE_DAYS,
        description="Rebuild when the newest version is older than this.",
    )


class ImageDefinition(Model):
    """One golden image: the family and how to build it."""

    name: FamilyName = Field(description="The image family; versions are `<name>-<version>`.")
    description: str = ""
    os: OsType
    base: BaseImage
    vm_size: str = Field(default="Standard_D2s_v5", min_length=1)
    artifacts: list[Artifact] = Field(default_factory=list)
    generalize: StrictBool = Field(
        default=True,
        description="Append windows-sysprep / linux-deprovision as the last artifact.",
    )
    test_artifacts: list[Artifact] = Field(
        default_factory=list,
        description=(
            "Optional gate: a VM from the new image runs these; a failure stops distribution."
        ),
    )
    rebuild: RebuildPolicy | None = None
    retention: RetentionOverride | None = None
    build_vm_prefix: str | None = Field(
        default=None,
        pattern=r"^[a-zA-Z][a-zA-Z0-9-]*$",
        description="Prefix of build VM names; defaults to the start of the family name.",
    )
    tags: Tags = Field(default_factory=dict)


class Concurrency(Model):
    builds: int = Field(default=4, ge=1, le=100)
    copies: int = Field(default=8, ge=1, le=500)
    copies_per_subscription: int = Field(default=4, ge=1, le=500)


class Timeouts(Model):
    """Per-step timeouts, in minutes."""

    vm_create: int = Field(default=60, ge=1, le=MAX_STEP_MINUTES)
    artifacts: int = Field(default=180, ge=1, le=MAX_STEP_MINUTES)
    disk_copy: int = Field(default=120, ge=1, le=MAX_STEP_MINUTES)
    image_create: int = Field(default=60, ge=1, le=MAX_STEP_MINUTES)
    test_gate: int = Field(default=120, ge=1, le=MAX_STEP_MINUTES)
    build_vm_ttl_hours: int = Field(
        default=24,
        ge=1,
        le=MAX_VM_TTL_HOURS,
        description="A build VM older than this is an orphan to sweep.",
    )


class Catalog(Model):
    storage_account: str | None = Field(
        default=None,
        description=(
            "Resource id of a separate catalog storage account; default: the factory lab's."
        ),
    )

    @field_validator("storage_account")
    @classmethod
    def _account_id(cls, value: str | None) -> str | None:
        if value is not None:
            _check_arm_id(value, "Microsoft.Storage/storageAccounts")
        return value


SETTING_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"  # an app setting, as an environment variable


class NotificationKind(StrEnum):
    TEAMS = "teams"  # a Microsoft Teams incoming webhook: an Adaptive Card message
    SLACK = "slack"  # a Slack incoming webhook: text and blocks
    CLOUDEVENTS = "cloudevents"  # any webhook: a CloudEvents 1.0 JSON event


class NotifyOn(StrEnum):
    ALWAYS = "always"
    FAILURE = "failure"  # only when something failed or nothing could be done


class Notification(Model):
    """Where a run's end is posted. The URL is a secret, so the configuration names the
    app setting that holds it (in Azure, a Key Vault reference)."""

    kind: NotificationKind
    url_setting: str = Field(
        max_length=128,
        description="Name of the app setting holding the webhook's URL, e.g. TEAMS_URL.",
        json_schema_extra={"pattern": SETTING_NAME},
    )
    on: NotifyOn = Field(default=NotifyOn.ALWAYS, description="always, or only on failure")

    @field_validator("url_setting")
    @classmethod
    def _setting_name(cls, value: str) -> str:
        if "://" in value:
            raise ValueError(
                "expected the name of the app setting that holds the URL, not the URL "
                "(it is a secret: keep it in an app setting or Key Vault)"
            )
        if not re.fullmatch(SETTING_NAME, value):
            raise ValueError(
                f"expected an app setting's name (letters, digits and _, not starting "
                f"with a digit), got '{value}'"
            )
        return value


class FactorySettings(Model):
    """factory.yaml: the factory lab and how the factory runs."""

    factory_id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$",
        description="Identifies this factory's resources (tag value). Never change it.",
    )
    factory_lab: LabId = Field(description="Resource id of the lab where images are built.")
    schedule: str = Field(
        default="0 0 2 * * *", description="Six-field NCRONTAB (Azure Functions timer)."
    )
    concurrency: Concurrency = Field(default_factory=Concurrency)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    retention: Retention = Field(default_factory=Retention)
    rebuild: RebuildPolicy = Field(default_factory=RebuildPolicy)
    catalog: Catalog = Field(default_factory=Catalog)
    notifications: list[Notification] = Field(
        default_factory=list, max_length=20, description="Posted at the end of every run."
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        try:
            check_ncrontab(value)
        except NcrontabError as exc:
            raise ValueError(str(exc)) from exc
        return value


class LabTarget(Model):
    """labs/*.yaml: one distribution target."""

    lab: LabId = Field(description="Resource id of the target DevTest Lab.")
    images: list[Annotated[str, StringConstraints(min_length=1)]] = Field(
        min_length=1,
        description="Image names or globs (`*`, `?`, `[...]`); never a string prefix.",
    )
    retention: RetentionOverride | None = None
    pinned: dict[FamilyName, list[str]] = Field(
        default_factory=dict, description="Versions per family this lab keeps; never retired."
    )


def _check_arm_id(value: str, resource_type: str) -> None:
    try:
        parsed = parse_resource_id(value)
    except ArmIdError as exc:
        raise ValueError(str(exc)) from exc
    if parsed.full_type.lower() != resource_type.lower():
        raise ValueError(f"expected a {resource_type} resource id, got a {parsed.full_type} id")


class SourceFile(BaseModel):
    """Where a model came from, for error messages and the plan."""

    model_config = ConfigDict(frozen=True)

    path: str
    kind: Literal["factory", "image", "lab"]


class Factory(BaseModel):
    """The whole validated configuration."""

    model_config = ConfigDict(frozen=True)

    settings: FactorySettings
    images: dict[str, ImageDefinition]
    labs: dict[str, LabTarget] = Field(description="Keyed by the lab file's stem.")
    image_files: dict[str, str] = Field(default_factory=dict)
    lab_files: dict[str, str] = Field(default_factory=dict)
    commit: str | None = None
    warnings: list[str] = Field(
        default_factory=list,
        description="What is valid but likely a mistake (file:line: field: sentence), such as "
        "a glob that matches no image; `imagefactory validate` prints them.",
    )

    def lab_ids(self) -> list[str]:
        """The factory lab and every target lab, each once (ARM ids match case-insensitively),
        in the order of their lowercased ids."""
        by_key = {self.settings.factory_lab.lower(): self.settings.factory_lab}
        for lab in self.labs.values():
            by_key.setdefault(lab.lab.lower(), lab.lab)
        return [by_key[key] for key in sorted(by_key)]

    def gallery_bases(self) -> list[GalleryImage]:
        """The Marketplace images the definitions start from, each once (by its key)."""
        bases = {i.base.gallery.key: i.base.gallery for i in self.images.values() if i.base.gallery}
        return list(bases.values())
