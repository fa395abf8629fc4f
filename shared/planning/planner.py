"""The planner: (configuration, inventory, now, trigger) -> Plan. Pure and deterministic."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.config.models import Factory, ImageDefinition
from shared.model import naming, tags
from shared.planning.definition_hash import definition_hash, resolved_base
from shared.planning.inventory import CatalogEntry, Inventory, LabImage, LabInventory, LabVm
from shared.planning.plan import (
    Build,
    BuildReason,
    CatalogPrune,
    Cleanup,
    Distribution,
    Plan,
    Retirement,
    Skip,
    Trigger,
)
from shared.planning.pruning import PruningPolicy, Version, catalog_pruning, pinned_versions
from shared.planning.retention import RetentionPolicy, retention, version_key, version_problem
from shared.planning.selection import select_images
from shared.run.payloads import RetirementRequest, StepResult


def plan(factory: Factory, inventory: Inventory, now: datetime, trigger: Trigger) -> Plan:
    builds, versions, skips = _plan_builds(factory, inventory, now, trigger)
    targets = lab_targets(factory, builds)
    distributions, dist_skips = _plan_distributions(targets, inventory, builds, versions)
    retirements, ignored = _plan_retirements(factory, targets, inventory, distributions, now)
    held = held_versions(factory, inventory.labs, targets, retirements, distributions)
    prunes = catalog_pruning(inventory.catalog, held, pruning_policy(factory, now))
    return Plan(
        factory_id=factory.settings.factory_id,
        now=now,
        trigger=trigger,
        commit=factory.commit,
        builds=builds,
        distributions=distributions,
        retirements=retirements,
        cleanups=_plan_cleanups(factory, inventory, now),
        prunes=[
            CatalogPrune(
                family=p.family,
                version=p.version,
                blob_name=naming.catalog_blob_name(p.family, p.version),
                reason=p.reason,
            )
            for p in prunes
        ],
        skips=skips + dist_skips,
        warnings=[*catalog_warnings(factory, inventory, now), *ignored],
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
        latest = newest_entry(catalog[family], now)
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
            # Another run's build VM is at work: building beside it could only collide, so
            # this run leaves it to that run.
            run, why = in_progress[family]
            skips.append(Skip(family=family, reason=why, left_to_run=run))
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


def newest_entry(entries: Iterable[CatalogEntry], now: datetime) -> CatalogEntry | None:
    """The newest catalog version whose version and created time validate (see
    shared.planning.retention): a malformed or future-dated one is never the newest."""
    valid = [e for e in entries if version_problem(e.version, now, e.created) is None]
    return max(valid, key=lambda e: version_key(e.version, e.created), default=None)


def catalog_warnings(factory: Factory, inventory: Inventory, now: datetime) -> list[str]:
    """A warning for each catalog version of a defined family that cannot be ordered."""
    return [
        f"catalog version of {e.family} ignored: {problem}; it is never taken for the newest"
        for e in sorted(inventory.catalog, key=lambda e: (e.family, e.version))
        if e.family in factory.images
        and (problem := version_problem(e.version, now, e.created)) is not None
    ]


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


def _builds_in_progress(
    factory: Factory, inventory: Inventory, now: datetime
) -> dict[str, tuple[str, str]]:
    """Families with a build VM of another run that is still going: the run, and why.

    A run plans before it builds, so any build VM it sees is another run's (or a leftover
    of this run's earlier attempt). Whether that run still goes comes from Durable
    (`inventory.active_runs`); unknown, an unexpired VM counts as work in progress.
    """
    found: dict[str, tuple[str, str]] = {}
    for vm in _build_vms(factory, inventory.lab(factory.settings.factory_lab)):
        family = tags.get(vm.tags, tags.FAMILY) or ""
        run = tags.get(vm.tags, tags.RUN) or ""
        if not _still_going(vm, run, inventory, now):
            continue
        expiry = tags.get(vm.tags, tags.EXPIRES_AT) or "?"
        owner = run or "an earlier run"
        why = f"run {owner} is building it on VM {vm.name} (the VM expires at {expiry})"
        found[family] = (run, why)
    return found


def _build_vms(factory: Factory, lab: LabInventory | None) -> list[LabVm]:
    """This factory's build and test VMs in a lab."""
    return [
        vm
        for vm in (lab.vms if lab else [])
        if tags.get(vm.tags, tags.FAMILY)
        and tags.owned_by(vm.tags, factory.settings.factory_id)
        and tags.get(vm.tags, tags.ROLE) in ("build", "test")
    ]


def _still_going(vm: LabVm, run: str, inventory: Inventory, now: datetime) -> bool:
    if tags.expired(vm.tags, now):
        return False
    if inventory.active_runs is None:
        return True
    return bool(run) and run in inventory.active_runs


def build_vm_runs(factory: Factory, labs: list[LabInventory]) -> set[str]:
    """The runs that own this factory's build VMs in the factory lab (to ask Durable)."""
    factory_lab = next(
        (lab for lab in labs if lab.lab.lower() == factory.settings.factory_lab.lower()), None
    )
    return {run for vm in _build_vms(factory, factory_lab) if (run := tags.get(vm.tags, tags.RUN))}


def left_to_later(plan: Plan, results: list[StepResult]) -> list[str]:
    """The report's warnings of work left to another run, a later run or the sweeper."""
    later = [
        f"{skip.family} is left to run {skip.left_to_run}, which is still building it"
        for skip in plan.skips
        if skip.left_to_run
    ]
    return later + [warning for result in results for warning in result.warnings]


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
    now: datetime,
) -> tuple[list[Retirement], list[str]]:
    """Retention over each lab as it will be once this run's distributions land, and a
    warning for each image whose version cannot be ordered (left alone)."""
    result: list[Retirement] = []
    warnings: list[str] = []
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
        outcome = retention([*lab.images, *incoming], _policy(factory, target, now))
        result += [
            Retirement(
                lab=target.lab,
                image_name=r.image.name,
                family=r.family,
                version=r.version,
                reason=r.reason,
            )
            for r in outcome.retire
        ]
        warnings += [f"in {target.lab}: {i.warning}" for i in outcome.ignored]
    return result, warnings


def _policy(factory: Factory, target: _Target, now: datetime) -> RetentionPolicy:
    return RetentionPolicy(
        factory_id=factory.settings.factory_id,
        selected=frozenset(target.families),
        defined=frozenset(factory.images),
        now=now,
        keep=target.keep,
        default_keep=factory.settings.retention.keep,
        pinned=target.pinned,
        retire_removed=factory.settings.retention.retire_removed,
    )


def retention_policy(factory: Factory, lab: str, now: datetime) -> RetentionPolicy | None:
    """What `lab` keeps under this configuration, as a run plans it; None: the configuration
    does not distribute to that lab, so nothing there is this configuration's to retire."""
    for target in lab_targets(factory):
        if target.lab.lower() == lab.lower():
            return _policy(factory, target, now)
    return None


def retirement_requests(
    factory: Factory, plan: Plan, distributed: Iterable[StepResult]
) -> list[RetirementRequest]:
    """One message per (lab, family) whose versions may now exceed what the lab keeps.

    A message names only what to re-check: the worker re-derives the policy from the
    configuration of its own time and a fresh read of the lab."""
    pairs = {(r.lab.lower(), r.family): r.lab for r in plan.retirements}
    for d in distributed:
        if d.ok and d.lab:
            pairs.setdefault((d.lab.lower(), d.family), d.lab)
    return [RetirementRequest(lab=lab, family=family) for (_, family), lab in sorted(pairs.items())]


def pruning_policy(factory: Factory, now: datetime) -> PruningPolicy:
    """What the catalog keeps: each family's newest `keep` (the image's own retention, else
    the factory's) and every version any lab pins."""
    return PruningPolicy(
        now=now,
        keep={
            n: i.retention.keep
            for n, i in factory.images.items()
            if i.retention and i.retention.keep
        },
        default_keep=factory.settings.retention.keep,
        pinned=pinned_versions(lab.pinned for lab in factory.labs.values()),
    )


def held_versions(
    factory: Factory,
    labs: Iterable[LabInventory],
    targets: Iterable[_Target] | None = None,
    retirements: Iterable[Retirement] = (),
    distributions: Iterable[Distribution] = (),
) -> set[Version] | None:
    """Every (family, version) of this factory that a lab holds once this run's
    distributions and retirements are done; None when a lab the configuration names (or
    the factory lab) was not read or could not be read: what it holds is unknown."""
    read = {lab.lab.lower(): lab for lab in labs}
    for target in lab_targets(factory) if targets is None else targets:
        lab = read.get(target.lab.lower())
        if lab is None or lab.error:
            return None
    retired = {(r.lab.lower(), r.image_name) for r in retirements}
    held: set[Version] = set()
    for lab in read.values():
        if lab.error:
            return None
        for image in lab.images:
            family, version = image.family(), image.version()
            if not (family and version and tags.owned_by(image.tags, factory.settings.factory_id)):
                continue
            if (lab.lab.lower(), image.name) not in retired:
                held.add((family, version))
    held |= {(d.family, d.version) for d in distributions}
    return held


def _plan_cleanups(factory: Factory, inventory: Inventory, now: datetime) -> list[Cleanup]:
    """Expired build VMs of this factory, and those whose run has ended: no run will
    delete them, and they hold the lab's VM quota."""
    result: list[Cleanup] = []
    ended = {
        vm.name
        for vm in _build_vms(factory, inventory.lab(factory.settings.factory_lab))
        if inventory.active_runs is not None
        and (tags.get(vm.tags, tags.RUN) or "") not in inventory.active_runs
    }
    for lab in inventory.labs:
        for vm in lab.vms:
            if not tags.owned_by(vm.tags, factory.settings.factory_id):
                continue
            if tags.expired(vm.tags, now):
                expiry = tags.get(vm.tags, tags.EXPIRES_AT)
                reason = f"build VM expired at {expiry}"
            elif lab.lab.lower() == factory.settings.factory_lab.lower() and vm.name in ended:
                run = tags.get(vm.tags, tags.RUN) or "unknown"
                reason = f"its run {run} has ended"
            else:
                continue
            result.append(Cleanup(lab=lab.lab, vm_name=vm.name, reason=reason))
    return result
