"""The orphan sweep: expired build and test VMs, and catalog VHDs nothing needs any more
(no lab holds their version and they are beyond the family's keep: see
`shared.planning.pruning`).

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
from shared.planning.inventory import LabInventory
from shared.planning.planner import held_versions, pruning_policy
from shared.planning.pruning import catalog_pruning
from shared.run.payloads import BlobRef


@dataclass
class SweepReport:
    vms: list[str] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def sweep(factory: Factory, now: datetime) -> SweepReport:
    """Delete expired build/test VMs of this factory in every lab, and the catalog blobs
    that no lab holds beyond each family's newest `keep` (from one read of every lab)."""
    report = SweepReport()
    inventories = [labs.inventory(lab) for lab in factory.lab_ids()]
    for inventory in inventories:
        _sweep_vms(inventory, factory.settings.factory_id, now, report)
    _sweep_catalog(factory, inventories, now, report)
    return report


def _sweep_vms(
    inventory: LabInventory, factory_id: str, now: datetime, report: SweepReport
) -> None:
    """The lab's VMs of this factory whose expiry tag has passed."""
    lab = inventory.lab
    if inventory.error:
        report.errors.append(f"{lab}: {inventory.error}")
        return
    for vm in inventory.vms:
        if not tags.owned_by(vm.tags, factory_id) or not tags.expired(vm.tags, now):
            continue
        if vm.provisioning_state.lower() == "deleting":
            continue
        try:
            if vms.begin_delete_owned_vm(lab, vm.name, factory_id):
                report.vms.append(f"{lab}/{vm.name}")
        except Exception as exc:  # one VM must not stop the sweep
            report.errors.append(first_line(f"{lab}/{vm.name}: {exc}"))


def _sweep_catalog(
    factory: Factory, inventories: list[LabInventory], now: datetime, report: SweepReport
) -> None:
    """The catalog VHDs of this factory that the plan would prune; none while a lab could
    not be read (what it holds is unknown)."""
    held = held_versions(factory, inventories)
    if held is None:
        return
    factory_lab = factory.settings.factory_lab
    entries = catalog.list_entries(factory_lab, factory.settings.factory_id)
    for prune in catalog_pruning(entries, held, pruning_policy(factory, now)):
        blob = naming.catalog_blob_name(prune.family, prune.version)
        try:
            if blobs.delete_blob(BlobRef(lab=factory_lab, blob=blob, catalog=True)):
                report.blobs.append(blob)
        except Exception as exc:  # one blob must not stop the sweep
            report.errors.append(first_line(f"{blob}: {exc}"))
