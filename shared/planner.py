"""The planner: (configuration, inventory, now, trigger) -> Plan. Pure and deterministic."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared import naming, tags
from shared.config import Factory, ImageDefinition
from shared.definition import definition_hash, resolved_base
from shared.inventory import CatalogEntry, Inventory, LabImage
from shared.payloads import RetirementRequest, StepResult
from shared.plan import (
    Build,
    BuildReason,
    Cleanup,
    Distribution,
    Plan,
    Retirement,
    Skip,
    Trigger,
)
from shared.retention import RetentionPolicy, images_to_retire
from shared.validation import select_images


def plan(factory: Factory, inventory: Inventory, now: datetime, trigger: Trigger) -> Plan:
    builds, versions, skips = _plan_builds(factory, inventory, now, trigger)
    targets = lab_targets(factory, builds)
    distributions, dist_skips = _plan_distributions(targets, inventory, builds, versions)
    return Plan(
        factory_id=factory.settings.factory_id,
        now=now,
        trigger=trigger,
        commit=factory.commit,
        builds=builds,
        distributions=distributions,
        retirements=_plan_retirements(factory, targets, inventory, distributions),
        cleanups=_plan_cleanups(factory, inventory, now),
        skips=skips + dist_skips,
    )


def build_order(images: dict[str, ImageDefinition]) -> list[str]:
    """Families with every parent before its children; by name within a layer."""
    depth: dict[str, int] = {}

    def depth_of(name: str) -> int:
        if name not in depth:
            parent = images[name].base.image
            depth[name] = 0 if parent is None or parent not in images else depth_of(parent) + 1
        return depth[name]

    return sorted(images, key=lambda name: (depth_of(name), name))


def _plan_builds(
    factory: Factory, inventory: Inventory, now: datetime, trigger: Trigger
) -> tuple[list[Build], dict[str, str | None], list[Skip]]:
    catalog: dict[str, list[CatalogEntry]] = defaultdict(list)
    for entry in inventory.catalog:
        catalog[entry.family].append(entry)
    in_progress = _builds_in_progress(factory, inventory, now)
    builds: dict[str, Build] = {}
    versions: dict[str, str | None] = {}  # the version each family has after this run
    skips: list[Skip] = []
    for family in build_order(factory.images):
        image = factory.images[family]
        parent = image.base.image
        base = resolved_base(image, inventory.gallery, versions.get(parent) if parent else None)
        digest = definition_hash(image, base)
        latest = max(catalog[family], key=lambda e: e.version, default=None)
        versions[family] = latest.version if latest else None

        manual_only = trigger.kind == "manual" and trigger.families
        if manual_only and family not in trigger.families and parent not in builds:
            skips.append(Skip(family=family, reason="not among the manual run's images"))
            continue
        reason, detail = _build_reason(factory, image, latest, base, digest, builds, now, trigger)
        if reason is None:
            skips.append(Skip(family=family, reason=detail))
            continue
        if family in in_progress:
            # Another run's build VM is at work (or an orphan the sweeper will remove when it
            # expires): building beside it could only collide, so this run leaves it be.
            skips.append(Skip(family=family, reason=in_progress[family]))
            continue
        version = naming.version_for(now, digest)
        build = naming.build_id(family, version)
        builds[family] = Build(
            family=family,
            version=version,
            build_id=build,
            definition_hash=digest,
            base=base,
            parent=parent,
            wave=builds[parent].wave + 1 if parent in builds else 1,
            reason=reason,
            detail=detail,
            vm_name=naming.build_vm_name(image, build),
        )
        versions[family] = version
    return sorted(builds.values(), key=lambda b: (b.wave, b.family)), versions, skips


def _build_reason(
    factory: Factory,
    image: ImageDefinition,
    latest: CatalogEntry | None,
    base: str,
    digest: str,
    builds: dict[str, Build],
    now: datetime,
    trigger: Trigger,
) -> tuple[BuildReason | None, str]:
    policy = image.rebuild or factory.settings.rebuild
    parent = image.base.image
    if (
        trigger.kind == "manual"
        and trigger.force
        and (not trigger.families or image.name in trigger.families)
    ):
        return BuildReason.FORCED, "the manual run forces a rebuild"
    if latest is None:
        return BuildReason.NEW, "no version in the catalog yet"
    if latest.definition_hash != digest:
        if not policy.on_change:
            return None, f"changed, but rebuild.onChange is off; stays at {latest.version}"
        if parent is not None and parent in builds:
            return BuildReason.PARENT_REBUILT, f"{parent} is rebuilt as {builds[parent].version}"
        if latest.base != base:
            if parent is not None:
                return BuildReason.PARENT_REBUILT, f"{parent} has a newer version ({base})"
            return BuildReason.BASE_UPDATED, f"{latest.base} -> {base}"
        detail = f"hash {latest.definition_hash[:8]} -> {digest[:8]}"
        path = factory.image_files.get(image.name)
        if trigger.kind == "push" and path in trigger.changed_paths:
            detail += f"; {path} changed in this push"
        return BuildReason.CHANGED, detail
    max_age = policy.max_age_days or factory.settings.rebuild.max_age_days
    if max_age is not None and now - latest.created > timedelta(days=max_age):
        age = (now - latest.created).days
        return BuildReason.MAX_AGE, f"{latest.version} is {age} days old (max {max_age})"
    return None, f"up to date at {latest.version}"


def _builds_in_progress(factory: Factory, inventory: Inventory, now: datetime) -> dict[str, str]:
    """Families with an unexpired build VM of this factory, and why they are left alone.

    A run plans before it builds, so any build VM it sees is another run's.
    """
    found: dict[str, str] = {}
    factory_lab = inventory.lab(factory.settings.factory_lab)
    for vm in factory_lab.vms if factory_lab else []:
        family = tags.get(vm.tags, tags.FAMILY)
        if not (family and tags.owned_by(vm.tags, factory.settings.factory_id)):
            continue
        if tags.get(vm.tags, tags.ROLE) in ("build", "test") and not _expired(vm.tags, now):
            run = tags.get(vm.tags, tags.RUN) or "an earlier run"
            expiry = tags.get(vm.tags, tags.EXPIRES_AT) or "?"
            found[family] = f"run {run} is building it on VM {vm.name} (the VM expires at {expiry})"
    return found


@dataclass
class _Target:
    """A lab and what it should hold: configured labs, and the factory lab for parents."""

    lab: str
    families: set[str] = field(default_factory=set)
    keep: dict[str, int] = field(default_factory=dict)
    pinned: dict[str, frozenset[str]] = field(default_factory=dict)
    on_demand: set[str] = field(default_factory=set)  # kept, but sent only when needed
    reasons: dict[str, str] = field(default_factory=dict)


def lab_targets(factory: Factory, builds: Iterable[Build] = ()) -> list[_Target]:
    """What each lab should hold; the factory lab keeps the parents of layered images."""
    targets: dict[str, _Target] = {}
    for lab in factory.labs.values():
        target = targets.setdefault(lab.lab.lower(), _Target(lab.lab))
        for family in select_images(lab.images, factory.images):
            target.families.add(family)
            image = factory.images[family]
            keep = (lab.retention and lab.retention.keep) or (
                image.retention and image.retention.keep
            )
            if keep:
                target.keep[family] = keep
        target.pinned.update({f: frozenset(v) for f, v in lab.pinned.items()})
    factory_lab = factory.settings.factory_lab
    target = targets.setdefault(factory_lab.lower(), _Target(factory_lab))
    parents = {i.base.image for i in factory.images.values() if i.base.image is not None}
    target.on_demand = parents - target.families
    target.families |= parents
    for build in builds:
        if build.parent in target.on_demand:
            target.reasons[build.parent] = f"base of the layered image {build.family}"
    return sorted(targets.values(), key=lambda t: t.lab.lower())


def _plan_distributions(
    targets: list[_Target],
    inventory: Inventory,
    builds: list[Build],
    versions: dict[str, str | None],
) -> tuple[list[Distribution], list[Skip]]:
    built = {b.family for b in builds}
    known = {(e.family, e.version) for e in inventory.catalog}
    result: list[Distribution] = []
    skips: list[Skip] = []
    for target in targets:
        lab = inventory.lab(target.lab)
        if lab is not None and lab.error:
            skips += [
                Skip(family=f, lab=target.lab, reason=f"the lab could not be read: {lab.error}")
                for f in sorted(target.families)
            ]
            continue
        present = _present_versions(lab.images if lab else [])
        for family in sorted(target.families):
            if family in target.on_demand and family not in target.reasons:
                continue
            version = versions.get(family)
            if version is None:
                skips.append(Skip(family=family, lab=target.lab, reason="no version exists yet"))
                continue
            wanted = [(version, family in built)]
            wanted += [
                (v, False) for v in sorted(target.pinned.get(family, ())) if (family, v) in known
            ]
            for want, after_build in wanted:
                if want in present[family]:
                    continue
                if want != version:
                    reason = "pinned version missing from the lab"
                elif family in target.reasons:
                    reason = target.reasons[family]
                elif after_build:
                    reason = "new version built in this run"
                elif not present[family]:
                    reason = "the lab has no version of this image yet"
                else:
                    reason = "newest version missing from the lab"
                result.append(
                    Distribution(
                        family=family,
                        version=want,
                        lab=target.lab,
                        image_name=naming.image_name(family, want),
                        reason=reason,
                        after_build=after_build,
                    )
                )
    return result, skips


def _present_versions(images: Iterable[LabImage]) -> dict[str, set[str]]:
    present: dict[str, set[str]] = defaultdict(set)
    for image in images:
        family, version = image.family(), image.version()
        if family and version and image.provisioning_state.lower() != "failed":
            present[family].add(version)
    return present


def _plan_retirements(
    factory: Factory,
    targets: list[_Target],
    inventory: Inventory,
    distributions: list[Distribution],
) -> list[Retirement]:
    """Retention over each lab as it will be once this run's distributions land."""
    result: list[Retirement] = []
    for target in targets:
        lab = inventory.lab(target.lab)
        if lab is None or lab.error:
            continue
        incoming = [
            LabImage(
                name=d.image_name,
                tags={
                    tags.FACTORY: factory.settings.factory_id,
                    tags.FAMILY: d.family,
                    tags.VERSION: d.version,
                },
            )
            for d in distributions
            if d.lab.lower() == target.lab.lower()
        ]
        policy = _policy(factory, target)
        result += [
            Retirement(
                lab=target.lab,
                image_name=r.image.name,
                family=r.family,
                version=r.version,
                reason=r.reason,
            )
            for r in images_to_retire([*lab.images, *incoming], policy)
        ]
    return result


def _policy(factory: Factory, target: _Target) -> RetentionPolicy:
    return RetentionPolicy(
        factory_id=factory.settings.factory_id,
        selected=frozenset(target.families),
        defined=frozenset(factory.images),
        keep=target.keep,
        default_keep=factory.settings.retention.keep,
        pinned=target.pinned,
        retire_removed=factory.settings.retention.retire_removed,
    )


def retirement_requests(
    factory: Factory, plan: Plan, distributed: Iterable[StepResult]
) -> list[RetirementRequest]:
    """One message per (lab, family) whose versions may now exceed what the lab keeps."""
    pairs = {(r.lab.lower(), r.family) for r in plan.retirements}
    pairs |= {((d.lab or "").lower(), d.family) for d in distributed if d.ok and d.lab}
    targets = {t.lab.lower(): t for t in lab_targets(factory, plan.builds)}
    messages = []
    for lab_key, family in sorted(pairs):
        target = targets.get(lab_key)
        lab = (
            target.lab
            if target
            else next(r.lab for r in plan.retirements if r.lab.lower() == lab_key)
        )
        policy = _policy(factory, target or _Target(lab))
        messages.append(
            RetirementRequest(
                lab=lab,
                family=family,
                factory_id=policy.factory_id,
                selected=family in policy.selected,
                defined=family in policy.defined,
                keep=policy.keep_for(family),
                pinned=sorted(policy.pinned.get(family, frozenset())),
                retire_removed=policy.retire_removed,
            )
        )
    return messages


def _plan_cleanups(factory: Factory, inventory: Inventory, now: datetime) -> list[Cleanup]:
    result: list[Cleanup] = []
    for lab in inventory.labs:
        for vm in lab.vms:
            if tags.owned_by(vm.tags, factory.settings.factory_id) and _expired(vm.tags, now):
                expiry = tags.get(vm.tags, tags.EXPIRES_AT)
                result.append(
                    Cleanup(lab=lab.lab, vm_name=vm.name, reason=f"build VM expired at {expiry}")
                )
    return result


def _expired(vm_tags: dict[str, str], now: datetime) -> bool:
    expiry = tags.parse_time(tags.get(vm_tags, tags.EXPIRES_AT))
    return expiry is not None and expiry <= now
