"""The plan of one run: what to build, distribute, retire and clean up, each with a reason."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from shared.model.base import Record


class Trigger(Record):
    """What started the run."""

    kind: Literal["schedule", "push", "manual"] = "manual"
    commit: str | None = Field(default=None, description="push: the pushed commit")
    changed_paths: list[str] = Field(default_factory=list, description="push: changed files")
    families: list[str] = Field(default_factory=list, description="manual: only these images")
    force: bool = Field(default=False, description="manual: rebuild even if up to date")
    dry_run: bool = Field(default=False, description="plan only; change nothing")


class BuildReason(StrEnum):
    NEW = "new definition"
    CHANGED = "definition changed"
    BASE_UPDATED = "base image has a newer version"
    PARENT_REBUILT = "parent rebuilt"
    MAX_AGE = "older than max age"
    FORCED = "forced"


class Build(Record):
    family: str
    version: str
    build_id: str
    definition_hash: str
    base: str = Field(description="Resolved base: gallery image@version or parent@version.")
    parent: str | None = None
    wave: int = Field(description="1 for images on gallery bases; parent's wave + 1 if layered.")
    reason: BuildReason
    detail: str = ""
    vm_name: str


class Distribution(Record):
    family: str
    version: str
    lab: str
    image_name: str
    reason: str
    after_build: bool = Field(description="The version is built in this run.")


class Retirement(Record):
    lab: str
    image_name: str
    family: str
    version: str
    reason: str


class CatalogPrune(Record):
    """A catalog VHD no lab holds any more, beyond what the factory keeps: the sweep deletes it."""

    family: str
    version: str
    blob_name: str
    reason: str


class Cleanup(Record):
    lab: str
    vm_name: str
    reason: str


class Skip(Record):
    family: str
    lab: str | None = None
    reason: str
    left_to_run: str | None = Field(
        default=None, description="The run still building this image, which this run leaves it to."
    )


class Plan(Record):
    factory_id: str
    now: datetime
    trigger: Trigger
    commit: str | None = None
    builds: list[Build] = Field(default_factory=list)
    distributions: list[Distribution] = Field(default_factory=list)
    retirements: list[Retirement] = Field(default_factory=list)
    cleanups: list[Cleanup] = Field(default_factory=list)
    prunes: list[CatalogPrune] = Field(
        default_factory=list, description="Catalog VHDs to delete (by the orphan sweep)."
    )
    skips: list[Skip] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list,
        description="What the plan ignored and a person should look at: versions that "
        "cannot be ordered (malformed, or dated in the future).",
    )

    def waves(self) -> list[list[Build]]:
        """Builds grouped by wave, in order: a wave starts when its parents are built."""
        count = max((b.wave for b in self.builds), default=0)
        return [[b for b in self.builds if b.wave == w] for w in range(1, count + 1)]

    @property
    def is_empty(self) -> bool:
        return not (
            self.builds or self.distributions or self.retirements or self.cleanups or self.prunes
        )
