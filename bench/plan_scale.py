"""Planner at scale: 1,000 definitions x 200 labs x 5 versions each. Prints times and ratios."""

from __future__ import annotations

import gc
import time
from datetime import UTC, datetime, timedelta

from shared.config.models import (
    BaseImage,
    Factory,
    FactorySettings,
    GalleryImage,
    ImageDefinition,
    LabTarget,
    OsType,
)
from shared.model import naming, tags
from shared.planning.definition_hash import definition_hash, resolved_base
from shared.planning.inventory import CatalogEntry, Inventory, LabImage, LabInventory
from shared.planning.plan import Trigger
from shared.planning.planner import plan

SUB = "6f1c2a3b-0d4e-4f5a-9b8c-1d2e3f4a5b6c"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TEAMS = 20


def _lab(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/{name}"


def world(definitions: int, labs: int, versions: int) -> tuple[Factory, Inventory]:
    """Definitions in TEAMS teams (every fifth layered on the one before); each lab selects
    every team's images by glob, a quarter of them all teams; every lab holds `versions`
    versions of each family it selects, the newest of which is current."""
    images: dict[str, ImageDefinition] = {}
    for i in range(definitions):
        name = f"t{i % TEAMS:02d}-img{i:04d}"
        layered = i % 5 == 4
        base = (
            BaseImage(image=f"t{(i - 1) % TEAMS:02d}-img{i - 1:04d}")
            if layered
            else BaseImage(gallery=GalleryImage(publisher="p", offer="o", sku=f"s{i % 7}"))
        )
        images[name] = ImageDefinition(name=name, os=OsType.LINUX, base=base)
    lab_targets = {
        f"lab{j:03d}": LabTarget(
            lab=_lab(f"lab{j:03d}"), images=["*"] if j % 4 == 0 else [f"t{j % TEAMS:02d}-*"]
        )
        for j in range(labs)
    }
    factory = Factory(
        settings=FactorySettings(factory_id="bench", factory_lab=_lab("factory")),
        images=images,
        labs=lab_targets,
    )

    catalog: list[CatalogEntry] = []
    current: dict[str, str] = {}
    for name in sorted(images, key=lambda n: int(n[-4:])):
        image = images[name]
        parent = image.base.image
        for v in range(versions):
            created = NOW - timedelta(days=(versions - v) * 3)
            resolved = resolved_base(image, {}, current.get(parent) if parent else None)
            digest = definition_hash(image, resolved) if v == versions - 1 else f"{v:08x}" * 8
            entry = CatalogEntry(
                family=name,
                version=naming.version_for(created, digest),
                definition_hash=digest,
                base=resolved,
                created=created,
            )
            catalog.append(entry)
        current[name] = catalog[-1].version
    by_family: dict[str, list[CatalogEntry]] = {}
    for entry in catalog:
        by_family.setdefault(entry.family, []).append(entry)
    lab_inventories = []
    for target in lab_targets.values():
        pattern = target.images[0]
        selected = [n for n in images if pattern == "*" or n.startswith(pattern[:-1])]
        lab_images = [
            LabImage(
                name=naming.image_name(e.family, e.version),
                tags={tags.FACTORY: "bench", tags.FAMILY: e.family, tags.VERSION: e.version},
            )
            for family in selected
            for e in by_family[family]
        ]
        lab_inventories.append(LabInventory(lab=target.lab.lower(), images=lab_images))
    return factory, Inventory(catalog=catalog, labs=lab_inventories)


def measure(
    definitions: int, labs: int, versions: int, collect: bool = True
) -> tuple[float, int, int]:
    """Plan once; with `collect=False` Python's cyclic garbage collector is paused, which
    separates the planner's own cost from the collector's scans of a large live heap."""
    factory, inventory = world(definitions, labs, versions)
    images = sum(len(lab.images) for lab in inventory.labs)
    gc.collect()
    if not collect:
        gc.disable()
    try:
        started = time.perf_counter()
        result = plan(factory, inventory, NOW, Trigger(kind="schedule"))
        elapsed = time.perf_counter() - started
    finally:
        gc.enable()
    return elapsed, images, len(result.retirements)


def main() -> None:
    small = measure(250, 50, 5)
    full = measure(1000, 200, 5)
    for label, (seconds, images, retired) in (
        ("250 definitions x 50 labs x 5 versions", small),
        ("1,000 definitions x 200 labs x 5 versions", full),
    ):
        print(
            f"  plan {label}: {seconds:.2f} s over {images:,} lab images "
            f"({seconds / images * 1e6:.1f} us each), {retired:,} retirements"
        )
    print(f"  {full[1] / small[1]:.1f}x the lab images took {full[0] / small[0]:.1f}x the time")
    small_nogc = measure(250, 50, 5, collect=False)
    full_nogc = measure(1000, 200, 5, collect=False)
    print(
        f"  with the garbage collector paused: {small_nogc[0]:.2f} s and {full_nogc[0]:.2f} s, "
        f"{full_nogc[0] / small_nogc[0]:.1f}x the time for {full[1] / small[1]:.1f}x the images "
        "(the planner grows linearly; the rest is the collector scanning a large heap)"
    )


if __name__ == "__main__":
    main()
