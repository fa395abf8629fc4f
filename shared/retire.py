"""Retirement and the orphan sweep: the only places the factory deletes images and VMs.

Both act only on resources carrying this factory's id, and both are idempotent: a
message or a sweep run twice deletes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared import catalog, labs_api, naming, tags
from shared.config import Factory
from shared.payloads import RetirementRequest
from shared.retention import RetentionPolicy, images_to_retire


def policy_of(request: RetirementRequest) -> RetentionPolicy:
    family = request.family
    return RetentionPolicy(
        factory_id=request.factory_id,
        selected=frozenset({family} if request.selected else ()),
        defined=frozenset({family} if request.defined else ()),
        keep={family: request.keep},
        default_keep=request.keep,
        pinned={family: frozenset(request.pinned)},
        retire_removed=request.retire_removed,
    )


def retire(request: RetirementRequest) -> list[str]:
    """Delete what the lab no longer needs of one family; returns the images being deleted."""
    inventory = labs_api.inventory(request.lab)
    if inventory.error:
        raise RuntimeError(f"cannot read lab {request.lab}: {inventory.error}")
    images = [i for i in inventory.images if i.family() == request.family]
    doomed = images_to_retire(images, policy_of(request))
    for retire_ in doomed:
        labs_api.begin_delete_image(request.lab, retire_.image.name, request.factory_id)
    return [r.image.name for r in doomed]


@dataclass
class SweepReport:
    vms: list[str] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def sweep(factory: Factory, now: datetime) -> SweepReport:
    """Delete expired build/test VMs of this factory in every lab, and catalog blobs of
    families no longer defined beyond the newest `keep` (default retention)."""
    report = SweepReport()
    factory_id = factory.settings.factory_id
    labs = {factory.settings.factory_lab.lower(): factory.settings.factory_lab}
    for target in factory.labs.values():
        labs.setdefault(target.lab.lower(), target.lab)
    for lab in labs.values():
        inventory = labs_api.inventory(lab)
        if inventory.error:
            report.errors.append(f"{lab}: {inventory.error}")
            continue
        for vm in inventory.vms:
            expiry = tags.parse_time(tags.get(vm.tags, tags.EXPIRES_AT))
            if not tags.owned_by(vm.tags, factory_id) or expiry is None or expiry > now:
                continue
            if vm.provisioning_state.lower() == "deleting":
                continue
            try:
                if labs_api.begin_delete_owned_vm(lab, vm.name, factory_id):
                    report.vms.append(f"{lab}/{vm.name}")
            except Exception as exc:  # one VM must not stop the sweep
                report.errors.append(f"{lab}/{vm.name}: {exc}".splitlines()[0])
    keep = factory.settings.retention.keep
    entries = catalog.list_entries(factory.settings.factory_lab, factory_id)
    by_family: dict[str, list[str]] = {}
    for entry in entries:
        by_family.setdefault(entry.family, []).append(entry.version)
    for family, versions in by_family.items():
        if family in factory.images:
            continue
        for version in sorted(versions, reverse=True)[keep:]:
            blob = naming.catalog_blob_name(family, version)
            try:
                at = labs_api.BlobAt(factory.settings.factory_lab, blob, catalog=True)
                if labs_api.delete_blob(at):
                    report.blobs.append(blob)
            except Exception as exc:
                report.errors.append(f"{blob}: {exc}".splitlines()[0])
    return report
