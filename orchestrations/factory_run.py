"""factory_run: one run of the factory, as ARCHITECTURE.md section 2 tells it.

load config -> inventory (fan-out per lab) -> plan -> builds in waves -> distribution
-> retirement messages -> report. Deterministic: the plan is a pure function of what
the activities returned and the orchestration's own clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from typing import Any

import azure.durable_functions as df

from orchestrations.progress import Progress
from orchestrations.steps import Job, Orchestration, bounded, call
from shared import naming, tags
from shared.arm_ids import parse_lab_id
from shared.config import Factory
from shared.definition import effective_artifacts
from shared.function_names import (
    BUILD_IMAGE,
    DELETE_EXPIRED_VM,
    DISTRIBUTE_IMAGE,
    ENQUEUE_RETIREMENT,
    FACTORY_RUN,
    INVENTORY_CATALOG,
    INVENTORY_LAB,
    LOAD_CONFIG,
    RESOLVE_GALLERY,
    RUN_STATUSES,
)
from shared.inventory import Inventory, LabInventory
from shared.payloads import (
    ActiveRuns,
    BuildInput,
    CatalogListing,
    CatalogRequest,
    DistributeInput,
    GalleryRequest,
    LabRef,
    LoadedConfig,
    Pace,
    RetirementBatch,
    RunReport,
    RunStatusRequest,
    StepResult,
    VmRef,
)
from shared.plan import Build, Distribution, Plan
from shared.planner import build_vm_runs, left_to_later, retirement_requests
from shared.planner import plan as make_plan
from shared.run_request import RunRequest
from shared.telemetry import run_id_of

bp = df.Blueprint()


@bp.function_name(FACTORY_RUN)
@bp.orchestration_trigger(context_name="context")
def factory_run(context: df.DurableOrchestrationContext) -> Orchestration:
    run = RunRequest.model_validate(context.get_input())
    report = RunReport(
        instance_id=context.instance_id,
        trigger=run.trigger.kind,
        dry_run=run.trigger.dry_run,
        commit=run.source.commit,
    )
    progress = Progress(context)

    # 1. configuration
    progress.phase("load configuration")
    loaded = LoadedConfig.model_validate(
        (yield call(context, LOAD_CONFIG, run.source.model_dump(mode="json")))
    )
    if loaded.factory is None:
        report = report.model_copy(update={"problems": loaded.problems})
        return progress.finish(report)
    factory, pace = loaded.factory, loaded.pace
    report = report.model_copy(update={"commit": factory.commit})

    # 2. inventory, one activity per lab, plus the catalog and the gallery's versions
    progress.phase("inventory")
    try:
        inventory = yield from _inventory(context, factory)
    except Exception as exc:  # without the catalog nothing can be planned safely
        warning = f"the inventory could not be read, nothing was done: {exc}".splitlines()[0]
        return progress.finish(report.model_copy(update={"warnings": [warning]}))

    # 3. plan
    plan = make_plan(factory, inventory, context.current_utc_datetime, run.trigger)
    report = report.model_copy(
        update={"plan": plan, "inventory_errors": [lab for lab in inventory.labs if lab.error]}
    )
    progress.planned(plan)
    if run.trigger.dry_run:
        return progress.finish(report)

    # 4. builds, wave by wave; parents reach the factory lab before their children build
    failed: dict[str, StepResult] = {}  # families not built (failed, or skipped for a parent)
    unfed: dict[str, StepResult] = {}  # parents that did not reach the factory lab
    built: list[StepResult] = []
    distributed: list[StepResult] = []
    dist_failures: list[StepResult] = []
    factory_lab = factory.settings.factory_lab.lower()
    handled: set[tuple[str, str, str]] = set()
    for number, wave in enumerate(plan.waves(), start=1):
        progress.phase(f"build wave {number} of {len(plan.waves())}")
        parents = {b.parent for b in wave if b.parent}
        feeding = [
            d
            for d in plan.distributions
            if d.lab.lower() == factory_lab and d.family in parents and d.family not in failed
        ]
        results = yield from _distribute(context, factory, pace, plan, feeding, progress)
        for result in results:
            handled.add((result.family, result.version, result.lab or ""))
            if result.ok:
                distributed.append(result)
            else:
                dist_failures.append(result)
                unfed.setdefault(result.family, result)
        for build in wave:
            cause = failed.get(build.parent or "") or unfed.get(build.parent or "")
            if cause is not None:
                failed[build.family] = _skip(
                    build, f"its parent {cause.family} failed: {cause.reason}"
                )
        results = yield from _build(
            context, factory, pace, [b for b in wave if b.family not in failed], progress
        )
        for result in results:
            if result.ok:
                built.append(result)
            else:
                failed.setdefault(result.family, result)
    report = report.model_copy(update={"built": built})

    # 5. distribution of everything else
    progress.phase("distribute")
    remaining = [
        d
        for d in plan.distributions
        if (d.family, d.version, d.lab) not in handled
        and not (d.after_build and d.family in failed)
    ]
    skipped = [
        _skip_distribution(d, failed[d.family])
        for d in plan.distributions
        if d.after_build and d.family in failed
    ]
    results = yield from _distribute(context, factory, pace, plan, remaining, progress)
    distributed += [r for r in results if r.ok]
    dist_failures += [r for r in results if not r.ok]

    # 6. retirement (a queue worker keeps the newest N; idempotent) and expired build VMs.
    # Neither fails the run: what is not done now is done by the next run or the sweeper.
    progress.phase("retire")
    messages = retirement_requests(factory, plan, distributed)
    queued = 0
    warnings: list[str] = list(plan.warnings)  # versions that cannot be ordered, left alone
    try:
        if messages:
            batch = RetirementBatch(messages=messages)
            queued = yield call(context, ENQUEUE_RETIREMENT, batch.model_dump(mode="json"))
    except Exception as exc:
        warnings.append(f"retirement was not queued: {exc}".splitlines()[0])
    try:
        cleanups = [
            call(
                context,
                DELETE_EXPIRED_VM,
                VmRef(
                    lab=c.lab, name=c.vm_name, factory_id=factory.settings.factory_id
                ).model_dump(),
            )
            for c in plan.cleanups
        ]
        if cleanups:
            yield context.task_all(cleanups)
    except Exception as exc:
        warnings.append(f"expired build VMs were not all deleted: {exc}".splitlines()[0])

    # 7. report
    report = report.model_copy(
        update={
            "distributed": distributed,
            "failed": [*failed.values(), *dist_failures],
            "skipped": skipped,
            "retirements_queued": queued,
            "warnings": [*left_to_later(plan, [*built, *failed.values()]), *warnings],
        }
    )
    return progress.finish(report)


def _inventory(context: df.DurableOrchestrationContext, factory: Factory) -> Orchestration:
    settings = factory.settings
    by_key = {settings.factory_lab.lower(): settings.factory_lab}
    for lab in factory.labs.values():
        by_key.setdefault(lab.lab.lower(), lab.lab)
    lab_ids = [by_key[key] for key in sorted(by_key)]
    galleries = {
        image.base.gallery.key: image.base.gallery.model_dump(include={"publisher", "offer", "sku"})
        for image in factory.images.values()
        if image.base.gallery is not None
    }
    tasks = [call(context, INVENTORY_LAB, LabRef(lab=lab).model_dump()) for lab in lab_ids]
    tasks.append(
        call(
            context,
            INVENTORY_CATALOG,
            CatalogRequest(
                factory_lab=settings.factory_lab, factory_id=settings.factory_id
            ).model_dump(),
        )
    )
    tasks.append(
        call(
            context,
            RESOLVE_GALLERY,
            GalleryRequest(lab=settings.factory_lab, images=list(galleries.values())).model_dump(),
        )
    )
    results = yield context.task_all(tasks)
    labs = [LabInventory.model_validate(r) for r in results[: len(lab_ids)]]
    # A build VM is another run's work in progress only while that run is still going.
    owners = build_vm_runs(factory, labs) - {run_id_of(context.instance_id)}
    active: list[str] = []
    if owners:
        request = RunStatusRequest(run_ids=sorted(owners))
        found = yield call(context, RUN_STATUSES, request.model_dump())
        active = ActiveRuns.model_validate(found).run_ids
    return Inventory(
        labs=labs,
        catalog=CatalogListing.model_validate(results[-2]).entries,
        gallery=results[-1],
        active_runs=active,
    )


def _build(
    context: df.DurableOrchestrationContext,
    factory: Factory,
    pace: Pace,
    builds: list[Build],
    progress: Progress,
) -> Orchestration:
    timeouts = factory.settings.timeouts
    seconds = {
        "vm_create": pace.timeout_seconds(timeouts.vm_create),
        "artifacts": pace.timeout_seconds(timeouts.artifacts),
        "disk_copy": pace.timeout_seconds(timeouts.disk_copy),
        "image_create": pace.timeout_seconds(timeouts.image_create),
        "test_gate": pace.timeout_seconds(timeouts.test_gate),
        "vm_delete": pace.timeout_seconds(timeouts.vm_create),
    }
    jobs = []
    for build in builds:
        image = factory.images[build.family]
        gallery = None
        if image.base.gallery is not None:
            gallery = image.base.gallery.model_dump(include={"publisher", "offer", "sku"})
            gallery["version"] = build.base.rsplit("@", 1)[1]
        job = BuildInput(
            build=build,
            factory_id=factory.settings.factory_id,
            factory_lab=factory.settings.factory_lab,
            commit=factory.commit,
            os=image.os,
            vm_size=image.vm_size,
            artifacts=effective_artifacts(image),
            test_artifacts=image.test_artifacts,
            test_vm_name=naming.build_vm_name(image, build.build_id, role="test"),
            generalize=image.generalize,
            gallery=gallery,
            parent_image=(
                naming.image_name(build.parent, build.base.rsplit("@", 1)[1])
                if build.parent
                else None
            ),
            image_tags=_image_tags(factory, build.family, build.version, build),
            timeouts=seconds,
            vm_ttl_hours=timeouts.build_vm_ttl_hours,
            poll_seconds=pace.poll_seconds,
        )
        jobs.append(
            Job(
                key=build.family,
                start=_starter(
                    context, BUILD_IMAGE, job.model_dump(mode="json"), _child(context, build)
                ),
            )
        )
    progress.building([b.family for b in builds])
    results = yield from bounded(context, jobs, factory.settings.concurrency.builds)
    outcomes = [_result(results[b.family], b.family, b.version, None) for b in builds]
    progress.built(outcomes)
    return outcomes


def _distribute(
    context: df.DurableOrchestrationContext,
    factory: Factory,
    pace: Pace,
    plan: Plan,
    distributions: list[Distribution],
    progress: Progress,
) -> Orchestration:
    if not distributions:
        return []
    timeouts = factory.settings.timeouts
    seconds = {
        "disk_copy": pace.timeout_seconds(timeouts.disk_copy),
        "image_create": pace.timeout_seconds(timeouts.image_create),
    }
    builds = {b.family: b for b in plan.builds}
    jobs = []
    for dist in distributions:
        image = factory.images.get(dist.family)
        if image is None:
            continue
        build = builds.get(dist.family)
        job = DistributeInput(
            distribution=dist,
            factory_id=factory.settings.factory_id,
            factory_lab=factory.settings.factory_lab,
            os=image.os,
            generalized=image.generalize,
            build_id=naming.build_id(dist.family, dist.version),
            image_tags=_image_tags(
                factory, dist.family, dist.version, build if dist.after_build else None
            ),
            timeouts=seconds,
            poll_seconds=pace.poll_seconds,
        )
        key = (dist.family, dist.version, dist.lab)
        lab_key = hashlib.sha256(dist.lab.lower().encode()).hexdigest()[:10]
        child = f"{context.instance_id}:distribute:{dist.image_name}:{lab_key}"
        jobs.append(
            Job(
                key=key,
                start=_starter(context, DISTRIBUTE_IMAGE, job.model_dump(mode="json"), child),
                group=parse_lab_id(dist.lab).subscription,
            )
        )
    progress.distributing(len(jobs))
    concurrency = factory.settings.concurrency
    results: dict[Hashable, Any] = yield from bounded(
        context, jobs, concurrency.copies, concurrency.copies_per_subscription
    )
    outcomes = [
        _result(results[(d.family, d.version, d.lab)], d.family, d.version, d.lab)
        for d in distributions
        if (d.family, d.version, d.lab) in results
    ]
    progress.distributed(outcomes)
    return outcomes


def _image_tags(factory: Factory, family: str, version: str, build: Build | None) -> dict[str, str]:
    values = {
        tags.FACTORY: factory.settings.factory_id,
        tags.FAMILY: family,
        tags.VERSION: version,
        tags.BUILD_ID: naming.build_id(family, version),
    }
    if build is not None:
        values[tags.DEFINITION_HASH] = build.definition_hash
        values[tags.BASE] = build.base[:256]
    if factory.commit:
        values[tags.COMMIT] = factory.commit
    image = factory.images.get(family)
    if image is not None:  # the definition's own tags, never one that looks like ours
        own = {k: v for k, v in image.tags.items() if not k.lower().startswith(tags.PREFIX)}
        values = {**own, **values}
    return values


def _starter(
    context: df.DurableOrchestrationContext, name: str, payload: dict[str, Any], child_id: str
) -> Any:
    return lambda: context.call_sub_orchestrator(name, payload, child_id)


def _child(context: df.DurableOrchestrationContext, build: Build) -> str:
    return f"{context.instance_id}:build:{build.build_id}"


def _result(value: Any, family: str, version: str, lab: str | None) -> StepResult:
    if isinstance(value, dict):
        return StepResult.model_validate(value)
    return StepResult(
        family=family, version=version, lab=lab, ok=False, step="orchestration", reason=str(value)
    )


def _skip(build: Build, reason: str) -> StepResult:
    return StepResult(
        family=build.family, version=build.version, ok=False, step="skipped", reason=reason
    )


def _skip_distribution(dist: Distribution, cause: StepResult) -> StepResult:
    return StepResult(
        family=dist.family,
        version=dist.version,
        lab=dist.lab,
        ok=False,
        step="skipped",
        reason=f"the build failed at {cause.step}: {cause.reason}",
    )
