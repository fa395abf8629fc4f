"""What the factory found in Azure: images and build VMs per lab, the catalog, gallery versions.

The inventory activities produce it; the planner and retention only read it. Its JSON
form is what `imagefactory plan --inventory FILE` takes.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.model import tags
from shared.model.base import Record


class LabImage(Record):
    """A custom image in a lab, factory-owned or not."""

    name: str
    tags: dict[str, str] = Field(default_factory=dict)
    provisioning_state: str = "Succeeded"

    def family(self) -> str | None:
        return tags.get(self.tags, tags.FAMILY)

    def version(self) -> str | None:
        return tags.get(self.tags, tags.VERSION)


class LabVm(Record):
    """A virtual machine in a lab; build VMs carry the factory's tags and an expiry."""

    name: str
    tags: dict[str, str] = Field(default_factory=dict)
    provisioning_state: str = "Succeeded"


class LabInventory(Record):
    lab: str = Field(description="The lab's resource id.")
    images: list[LabImage] = Field(default_factory=list)
    vms: list[LabVm] = Field(default_factory=list)
    error: str | None = Field(default=None, description="Why the lab could not be read.")


class CatalogEntry(Record):
    """A captured image VHD in the catalog, described by its blob metadata."""

    family: str
    version: str
    definition_hash: str
    base: str = Field(description="The resolved base it was built from.")
    commit: str | None = None
    created: datetime
    build_minutes: float | None = Field(
        default=None, description="How long its build took, as the orchestration's clock saw it."
    )
    step_seconds: dict[str, float] = Field(
        default_factory=dict,
        description="How long each step of its build took (seconds, by the step's timeout "
        "name: vm_create, deallocate, disk_copy, test_gate), for the next run's monitors.",
    )


class Inventory(Record):
    labs: list[LabInventory] = Field(default_factory=list)
    catalog: list[CatalogEntry] = Field(default_factory=list)
    gallery: dict[str, str] = Field(
        default_factory=dict,
        description="Newest version per gallery image, keyed 'publisher/offer/sku' lowercased.",
    )
    active_runs: list[str] | None = Field(
        default=None,
        description="The runs owning build VMs that are still going; unknown (null): every "
        "unexpired build VM counts as another run's work in progress.",
    )

    def lab(self, lab_id: str) -> LabInventory | None:
        for entry in self.labs:
            if entry.lab.lower() == lab_id.lower():
                return entry
        return None

    def unreadable(self) -> list[LabInventory]:
        """The labs that could not be read (each says why)."""
        return [lab for lab in self.labs if lab.error]
