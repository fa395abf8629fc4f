"""Retirement and the orphan sweep: the only places the factory deletes images and VMs.

Both act only on resources carrying this factory's id, and both are idempotent: a
message or a sweep run twice deletes nothing twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from shared.azure import catalog, labs
from shared.config.models import Factory
from shared.model import naming, tags
from shared.planning.inventory import CatalogEntry
from shared.planning.planner import retention_policy
from shared.planning.retention import retention, version_key, version_problem
from shared.run.payloads import RetirementRequest

MAX_MESSAGE_BYTES = 4096  # a request names a lab id and a family: well under 1 KiB


class InvalidMessage(ValueError):
    """A retirement message that is not a request; the text says why, in one sentence."""


def parse_request(body: bytes) -> RetirementRequest:
    """The request a queue message names, or InvalidMessage with one sentence."""
    if len(body) > MAX_MESSAGE_BYTES:
        raise InvalidMessage(f"the message is {len(body)} bytes; a request is at most 4096")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidMessage("the message is not UTF-8") from None
    except RecursionError:
        raise InvalidMessage("the message is JSON nested too deeply") from None
    except ValueError as exc:
        raise InvalidMessage(f"the message is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidMessage("the message is not a JSON object with lab and family")
    try:
        return RetirementRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the message"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InvalidMessage(f"{where}: {first['msg']}{more}") from None


@dataclass
class RetireOutcome:
    deleted: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: str | None = None  # why nothing was re-checked at all


def retire(request: RetirementRequest, factory: Factory, now: datetime) -> RetireOutcome:
    """Delete what `request.lab` no longer needs of `request.family` under `factory` (the
    current configuration), from a fresh read of the lab.

    The request names only what to re-check: this factory's id, keep, pins and selection
    come from `factory`, so only images carrying this factory's id go, never below keep,
    never a pinned version, never the newest valid version of a family the lab selects.
    """
    policy = retention_policy(factory, request.lab, now)
    if policy is None:
        return RetireOutcome(skipped="the configuration does not distribute to this lab")
    inventory = labs.inventory(request.lab)
    if inventory.error:
        raise RuntimeError(f"cannot read lab {request.lab}: {inventory.error}")
    images = [i for i in inventory.images if i.family() == request.family]
    outcome = retention(images, policy)
    for retire_ in outcome.retire:
        labs.begin_delete_image(request.lab, retire_.image.name, policy.factory_id)
    return RetireOutcome(
        deleted=[r.image.name for r in outcome.retire],
        warnings=[i.warning for i in outcome.ignored],
    )


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
    lab_ids = {factory.settings.factory_lab.lower(): factory.settings.factory_lab}
    for target in factory.labs.values():
        lab_ids.setdefault(target.lab.lower(), target.lab)
    for lab in lab_ids.values():
        inventory = labs.inventory(lab)
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
                if labs.begin_delete_owned_vm(lab, vm.name, factory_id):
                    report.vms.append(f"{lab}/{vm.name}")
            except Exception as exc:  # one VM must not stop the sweep
                report.errors.append(f"{lab}/{vm.name}: {exc}".splitlines()[0])
    keep = factory.settings.retention.keep
    entries = catalog.list_entries(factory.settings.factory_lab, factory_id)
    by_family: dict[str, list[CatalogEntry]] = {}
    for entry in entries:
        # Only versions that can be ordered: a malformed or future-dated one is left alone.
        if version_problem(entry.version, now, entry.created) is None:
            by_family.setdefault(entry.family, []).append(entry)
    for family, found in by_family.items():
        if family in factory.images:
            continue
        newest_first = sorted(found, key=lambda e: version_key(e.version, e.created), reverse=True)
        for version in [e.version for e in newest_first[keep:]]:
            blob = naming.catalog_blob_name(family, version)
            try:
                at = labs.BlobAt(factory.settings.factory_lab, blob, catalog=True)
                if labs.delete_blob(at):
                    report.blobs.append(blob)
            except Exception as exc:
                report.errors.append(f"{blob}: {exc}".splitlines()[0])
    return report
