"""Small builders of configurations and inventories for planner and retention tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.config.loading import load_files
from shared.config.models import Factory
from shared.model import naming, tags
from shared.planning.definition_hash import definition_hash, resolved_base
from shared.planning.inventory import CatalogEntry, Inventory, LabImage, LabInventory

SUB_A = "6f1c2a3b-0d4e-4f5a-9b8c-1d2e3f4a5b6c"
SUB_B = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
FACTORY_ID = "test-factory"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def lab_id(name: str, sub: str = SUB_A) -> str:
    return (
        f"/subscriptions/{sub}/resourceGroups/rg-{name}/providers/Microsoft.DevTestLab/labs/{name}"
    )


FACTORY_LAB = lab_id("factory")


def factory(images: dict[str, str], labs: dict[str, str], settings: str = "") -> Factory:
    files = {
        "factory.yaml": f"factoryId: {FACTORY_ID}\nfactoryLab: {FACTORY_LAB}\n{settings}",
        **{f"images/{name}.yaml": f"name: {name}\n{body}" for name, body in images.items()},
        **{f"labs/{name}.yaml": f"lab: {lab_id(name)}\n{body}" for name, body in labs.items()},
    }
    return load_files(files)


def gallery(sku: str = "sku", os: str = "Linux") -> str:
    return f"os: {os}\nbase:\n  gallery: {{publisher: pub, offer: ofr, sku: {sku}}}\n"


def layered(parent: str, os: str = "Linux") -> str:
    return f"os: {os}\nbase:\n  image: {parent}\n"


def built(
    config: Factory,
    family: str,
    when: datetime,
    gallery_versions: dict[str, str] | None = None,
    parent_version: str | None = None,
) -> CatalogEntry:
    """The catalog entry a successful build of the current definition would have left."""
    image = config.images[family]
    base = resolved_base(image, gallery_versions or {}, parent_version)
    digest = definition_hash(image, base)
    return CatalogEntry(
        family=family,
        version=naming.version_for(when, digest),
        definition_hash=digest,
        base=base,
        created=when,
    )


def image(family: str, version: str, state: str = "Succeeded", owner: str = FACTORY_ID) -> LabImage:
    return LabImage(
        name=naming.image_name(family, version),
        provisioning_state=state,
        tags={tags.FACTORY: owner, tags.FAMILY: family, tags.VERSION: version},
    )


def inventory(
    catalog: list[CatalogEntry], labs: dict[str, list[LabImage]] | None = None, **extra: Any
) -> Inventory:
    return Inventory(
        catalog=catalog,
        labs=[LabInventory(lab=lab, images=images) for lab, images in (labs or {}).items()],
        **extra,
    )


def everywhere(config: Factory, entries: list[CatalogEntry]) -> dict[str, list[LabImage]]:
    """Each lab holding the given versions of the families it selects (ids lowercased)."""
    from shared.planning.selection import select_images

    result: dict[str, list[LabImage]] = {}
    for lab in config.labs.values():
        selected = select_images(lab.images, config.images)
        result[lab.lab.lower()] = [
            image(e.family, e.version) for e in entries if e.family in selected
        ]
    return result
