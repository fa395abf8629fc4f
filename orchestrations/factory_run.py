"""factory_run: one run of the factory, as ARCHITECTURE.md section 2 tells it.

load config -> inventory (fan-out per lab) -> plan -> schedule (each build and copy
starts the moment what it needs is released) -> retirement messages -> report.
Deterministic: the plan is a pure function of what the activities returned and the
orchestration's own clock, and the scheduler a pure function of the jobs' results in the
order they came.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from orchestrations.job_inputs import JobInputs
from orchestrations.job_scheduler import Estimates, JobId, Kind, Scheduler
from orchestrations.ledger import Ledger
from orchestrations.limits import capacity_warnings, scheduler_for, vm_sizes
from orchestrations.notifications import notify_end
from orchestrations.progress import Progress
from orchestrations.steps import Orchestration, call
from shared.config.models import Factory
from shared.function_names import (
    BUILD_IMAGE,
    CONFIRM_VM_DELETED,
    DELETE_EXPIRED_VM,
    DISTRIBUTE_BATCH,
    DISTRIBUTE_IMAGE,
    ENQUEUE_RETIREMENT,
    FACTORY_RUN,
    INVENTORY_CAPACITY,
    INVENTORY_CATALOG,
    INVENTORY_LAB,
    LOAD_CONFIG,
    RESOLVE_GALLERY,
    RUN_STATUSES,
)
from shared.model.text import first_line
from shared.planning.capacity import Capacity
from shared.planning.inventory import Inventory, LabInventory
from shared.planning.plan import Distribution
from shared.planning.planner import build_vm_runs, retirement_requests
from shared.planning.planner import plan as make_plan
from shared.run.payloads import (
    ActiveRuns,
    BuildOutcome,
    CapacityRequest,
    CatalogListing,
    CatalogRequest,
    GalleryRequest,
    LabRef,
    LoadedConfig,
    RetirementBatch,
    RunReport,
    RunStatusRequest,
    StepResult,
    VmRef,
)
from shared.run.request import RunRequest
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

    # 2. inventory, one activity per lab, plus the catalog, the gallery's versions and
    # what Azure allows the factory lab (its VM policy, its region's vCPU quota)
    progress.phase("inventory")
    try:
        inventory, capacity = yield from _inventory(context, factory)
    except Exception as exc:  # without the catalog nothing can be planned safely
        warning = first_line(f"the inventory could not be read, nothing was done: {exc}")
        report = report.model_copy(update={"warnings": [warning]})
        return progress.finish((yield from notify_end(context, factory, report)))

    # 3. plan
    plan = make_plan(factory, inventory, context.current_utc_datetime, run.trigger)
    report = report.model_copy(update={"plan": plan, "inventory_errors": inventory.unreadable()})
    progress.planned(plan)
    if run.trigger.dry_run:
        return progress.finish(report)

    # 4. schedule: every build and copy starts the moment what it needs is released
    estimates = Estimates.learned(inventory.catalog, pace.time_scale)
    inputs = JobInputs(factory, pace, plan, context.instance_id, estimates)
    run_id = run_id_of(context.instance_id)
    scheduler = scheduler_for(factory, plan, inventory, capacity, estimates, run_id)
    ledger = yield from _run_jobs(context, inputs, scheduler, progress)

    # 5. retirement (a queue worker keeps the newest N; idempotent) and expired build VMs.
    # Neither fails the run: what is not done now is done by the next run or the sweeper.
    progress.phase("retire")
    messages = retirement_requests(factory, plan, ledger.distributed)
    queued = 0
    # versions that cannot be ordered (left alone), limits that could not be read
    warnings: list[str] = [*plan.warnings, *capacity_warnings(capacity)]
    try:
        if messages:
            batch = RetirementBatch(messages=messages)
            queued = yield call(context, ENQUEUE_RETIREMENT, batch.model_dump(mode="json"))
    except Exception as exc:
        warnings.append(first_line(f"retirement was not queued: {exc}"))
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
        warnings.append(first_line(f"expired build VMs were not all deleted: {exc}"))

    # 6. report
    report = report.model_copy(update={**ledger.report(warnings), "retirements_queued": queued})
    report = yield from notify_end(context, factory, report)
    return progress.finish(report)


def _inventory(context: df.DurableOrchestrationContext, factory: Factory) -> Orchestration:
    settings = factory.settings
    lab_ids = factory.lab_ids()
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
            INVENTORY_CAPACITY,
            CapacityRequest(
                factory_lab=settings.factory_lab, vm_sizes=vm_sizes(factory)
            ).model_dump(),
        )
    )
    tasks.append(
        call(
            context,
            RESOLVE_GALLERY,
            GalleryRequest(lab=settings.factory_lab, images=factory.gallery_bases()).model_dump(),
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
    inventory = Inventory(
        labs=labs,
        catalog=CatalogListing.model_validate(results[-3]).entries,
        gallery=results[-1],
        active_runs=active,
    )
    return inventory, Capacity.model_validate(results[-2])


def _run_jobs(
    context: df.DurableOrchestrationContext,
    inputs: JobInputs,
    scheduler: Scheduler,
    progress: Progress,
) -> Orchestration:
    """Start ready jobs as sub-orchestrations, wait for any, feed its result back; until
    every job has finished or is blocked. A build's result releases its dependents; its
    VM's deletion then runs as a job of its own, which frees the build's slot."""
    ledger = Ledger(inputs.plan, inputs.factory.settings.factory_lab)
    progress.phase("build and distribute")
    tasks: dict[JobId, Any] = {}  # each running job's sub-orchestration
    deleting: set[JobId] = set()  # builds whose VM deletion is being confirmed
    while not scheduler.done:
        for job in scheduler.take():
            tasks[job] = _start(context, inputs, job, scheduler.slots(job))
        progress.jobs(scheduler, deleting, ledger)
        finished = yield context.task_any(list(tasks.values()))
        job = next(j for j, task in tasks.items() if task is finished)
        del tasks[job]
        if job in deleting:
            deleting.discard(job)
            ledger.vm_deleted(job, _warnings(finished.result))
            scheduler.finish(job)
            continue
        if job.kind is Kind.BUILD:
            outcome = _build_outcome(finished.result, job)
            ledger.record(job, outcome.result)
            blocked = scheduler.release(job, outcome.result.ok)
            if outcome.deletion is None:
                scheduler.finish(job)
            else:
                deleting.add(job)
                tasks[job] = context.call_sub_orchestrator(
                    CONFIRM_VM_DELETED,
                    outcome.deletion.model_dump(mode="json"),
                    inputs.child_id(job, role="vm-delete"),
                )
        elif job.kind is Kind.BATCH:
            ledger.record_batch(job, _batch_results(finished.result, ledger.members(job)))
            blocked = scheduler.complete(job, True)  # nothing needs a batch
        else:
            result = _result(finished.result, job)
            ledger.record(job, result)
            blocked = scheduler.complete(job, result.ok)
        for skipped in blocked:
            ledger.block(skipped, scheduler.cause(skipped) or job)
    progress.jobs(scheduler, deleting, ledger)
    return ledger


def _start(
    context: df.DurableOrchestrationContext, inputs: JobInputs, job: JobId, slots: int
) -> Any:
    if job.kind is Kind.BUILD:
        payload = inputs.build(job).model_dump(mode="json")
        return context.call_sub_orchestrator(BUILD_IMAGE, payload, inputs.child_id(job))
    if job.kind is Kind.BATCH:
        payload = inputs.batch(job, slots).model_dump(mode="json")
        return context.call_sub_orchestrator(DISTRIBUTE_BATCH, payload, inputs.child_id(job))
    payload = inputs.distribute(job).model_dump(mode="json")
    return context.call_sub_orchestrator(DISTRIBUTE_IMAGE, payload, inputs.child_id(job))


def _build_outcome(value: Any, job: JobId) -> BuildOutcome:
    if isinstance(value, dict):
        return BuildOutcome.model_validate(value)
    return BuildOutcome(result=_result(value, job))


def _result(value: Any, job: JobId) -> StepResult:
    if isinstance(value, dict):
        return StepResult.model_validate(value)
    return StepResult(
        family=job.family,
        version=job.version,
        lab=job.lab or None,
        ok=False,
        step="orchestration",
        reason=str(value),
    )


def _batch_results(value: Any, members: list[Distribution]) -> list[StepResult]:
    """A batch's results, one per lab; a batch that failed as a whole fails each copy."""
    copies = [JobId(Kind.DISTRIBUTE, d.family, d.version, lab=d.lab) for d in members]
    if isinstance(value, list) and len(value) == len(copies):
        return [_result(v, copy) for v, copy in zip(value, copies, strict=True)]
    return [_result(value, copy) for copy in copies]


def _warnings(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(w) for w in value]
    return [first_line(f"a build VM's deletion was not confirmed: {value}")]
