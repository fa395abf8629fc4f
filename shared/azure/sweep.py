"""The orphan sweep: expired build and test VMs, and catalog versions of families no
longer defined.

It acts only on resources carrying this factory's id and is idempotent: a sweep run twice
deletes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.azure import blobs, catalog, labs, vms
from shared.config.models import Factory
from shared.model import naming, tags
from shared.model.text import first_line
from shared.planning.inventory import CatalogEntry
from shared.planning.retention import version_key, version_problem


@dataclass
class SweepReport:
    vms: list[str] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def sweep(factory: Factory, now: datetime) -> SweepReport:
    """Delete expired build/test VMs of this factory in every lab, and catalog blobs of
    families no longer defined beyond the newest `keep` (default retention)."""
    report = SweepReport()
    lab_ids = {factory.settings.factory_lab.lower(): factory.settings.factory_lab}
    for target in factory.labs.values():
        lab_ids.setdefault(target.lab.lower(), target.lab)
    for lab in lab_ids.values():
        _sweep_vms(lab, factory.settings.factory_id, now, report)
    _sweep_catalog(factory, now, report)
    return report


def _sweep_vms(lab: str, factory_id: str, now: datetime, report: SweepReport) -> None:
    """The lab's VMs of this factory whose expiry tag has passed."""
    inventory = labs.inventory(lab)
    if inventory.error:
        report.errors.append(f"{lab}: {inventory.error}")
        return
    for vm in inventory.vms:
        expiry = tags.parse_time(tags.get(vm.tags, tags.EXPIRES_AT))
        if not tags.owned_by(vm.tags, factory_id) or expiry is None or expiry > now:
            continue
        if vm.provisioning_state.lower() == "deleting":
            continue
        try:
            if vms.begin_delete_owned_vm(lab, vm.name, factory_id):
                report.vms.append(f"{lab}/{vm.name}")
        except Exception as exc:  # one VM must not stop the sweep
            report.errors.append(first_line(f"{lab}/{vm.name}: {exc}"))


def _sweep_catalog(factory: Factory, now: datetime, report: SweepReport) -> None:
    """Catalog versions of families the configuration no longer defines, beyond `keep`."""
    factory_lab = factory.settings.factory_lab
    by_family: dict[str, list[CatalogEntry]] = {}
    for entry in catalog.list_entries(factory_lab, factory.settings.factory_id):
        # Only versions that can be ordered: a malformed or future-dated one is left alone.
        if version_problem(entry.version, now, entry.created) is None:
            by_family.setdefault(entry.family, []).append(entry)
    keep = factory.settings.retention.keep
    for family, found in by_family.items():
        if family in factory.images:
            continue
        newest_first = sorted(found, key=lambda e: version_key(e.version, e.created), reverse=True)
        for version in [e.version for e in newest_first[keep:]]:
            blob = naming.catalog_blob_name(family, version)
            try:
                if blobs.delete_blob(blobs.BlobAt(factory_lab, blob, catalog=True)):
                    report.blobs.append(blob)
            except Exception as exc:  # one blob must not stop the sweep
                report.errors.append(first_line(f"{blob}: {exc}"))
