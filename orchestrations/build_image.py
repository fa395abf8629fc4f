"""build_image: an ordered list of steps, as Packer's builders run them, each with the
clean-up it needs, run in reverse order whatever happened:

1. create the build VM and wait for its artifacts   (clean-up: start the VM's deletion)
2. deallocate it (Azure reads an OS disk only from a deallocated VM)
3. capture its disk into the catalog                (clean-up: on failure, remove the blob)
4. release the build VM: start its deletion now, off the critical path
5. the optional test gate
6. label the catalog blob: an unlabelled blob is not a version

It returns as soon as the image is released (labelled) or its failure is known, with the
VM deletion it started: the run confirms that deletion beside its other work
(confirm_vm_deleted) and does not report done before it has. Each step's start and end,
from the orchestration's clock, are the result's spans; the label records their seconds
with the version, and the next run's monitors sleep about that long before their first
read.

It never raises: the result says which step failed and why, so one image failing does
not fail the run.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import azure.durable_functions as df

from orchestrations.steps import (
    Orchestration,
    Patience,
    Waited,
    best_effort,
    call,
    create_image,
    monitor,
    vm_gone,
    watch_vm,
)
from shared.config.models import GalleryImage
from shared.function_names import (
    BUILD_IMAGE,
    CAPTURE_STATUS,
    CONFIRM_VM_DELETED,
    CREATE_BUILD_VM,
    DELETE_BLOB,
    DELETE_IMAGE,
    DELETE_VM,
    FINISH_CAPTURE,
    LABEL_CATALOG,
    OPERATION_STATUS,
    START_CAPTURE,
    STOP_VM,
    VM_STATUS,
)
from shared.model import naming, tags
from shared.model.text import first_line
from shared.planning import catalog
from shared.planning.capacity import for_want_of_room
from shared.run.payloads import (
    BlobRef,
    BuildInput,
    BuildOutcome,
    BuildVmRequest,
    CaptureRequest,
    CaptureWatch,
    CopyStatus,
    CreatedVm,
    ImageRef,
    ImageRequest,
    LabelRequest,
    OperationRef,
    OperationStatus,
    StepResult,
    StepSeconds,
    VmDeletion,
    VmRef,
    VmStatus,
)
from shared.run.timeline import StepSpan
from shared.telemetry import run_id_of

bp = df.Blueprint()

GRANT_MARGIN_SECONDS = 600
CREATE_VM, DEALLOCATE, CAPTURE, RELEASE_VM, TEST_GATE, LABEL = (
    "create build VM",
    "deallocate build VM",
    "capture disk",
    "delete build VM",
    "test gate",
    "label catalog",
)
# The steps whose seconds are stored with the version, by StepSeconds' names.
MEASURED = {
    CREATE_VM: "vm_create",
    DEALLOCATE: "deallocate",
    CAPTURE: "disk_copy",
    TEST_GATE: "test_gate",
}
# Operations measured inside a step, by the name the step notes them under: the gate's
# custom image is made from the captured VHD as each distribution's is.
GATE_IMAGE = "gate image"
MEASURED_INSIDE = {GATE_IMAGE: "image_create"}

Outcome = Generator[Any, Any, StepResult | None]


@dataclass(frozen=True)
class Step:
    """One step of a build: its name (in the custom status, the spans and the report), its
    work (None: done; else the failure), and its clean-up, given the build's outcome."""

    name: str
    run: Callable[[], Outcome]
    cleanup: Callable[[StepResult | None], Orchestration] | None = None


@dataclass
class Steps:
    """Runs steps in order until one fails, then the clean-ups of every step that started,
    in reverse order; a clean-up run early (`cleanup_now`) is not run again."""

    context: df.DurableOrchestrationContext
    job: BuildInput
    vm: VmRef
    spans: list[StepSpan] = field(default_factory=list)
    # A step's operation time as its monitors read it (by step name), without the polling
    # lag its span includes.
    took: dict[str, float] = field(default_factory=dict)
    _started: list[Step] = field(default_factory=list)
    _cleaned: set[str] = field(default_factory=set)

    def run(self, steps: list[Step]) -> Outcome:
        result: StepResult | None = None
        for step in steps:
            self.context.set_custom_status({"step": step.name, "vm": self.vm.name})
            self._started.append(step)
            begin = self.context.current_utc_datetime
            try:
                result = yield from step.run()
            except Exception as exc:  # a step's own failure, never the orchestration's
                result = _failed(self.job, step.name, exc)
            end = self.context.current_utc_datetime
            self.spans.append(StepSpan(name=step.name, start=begin, end=end))
            if result is not None:
                break
        for step in reversed(self._started):
            yield from self.cleanup_now(step.name, result)
        return result

    def cleanup_now(self, name: str, result: StepResult | None = None) -> Orchestration:
        step = next((s for s in self._started if s.name == name), None)
        if step is None or step.cleanup is None or name in self._cleaned:
            return None
        self._cleaned.add(name)
        yield from step.cleanup(result)
        return None

    def seconds(self) -> StepSeconds:
        """How long the measured steps took: their operations' own time where the step
        noted it, else the step's span."""
        took: dict[str, float] = {}
        for span in self.spans:
            if span.name in MEASURED:
                seconds = self.took.get(span.name, span.seconds)
                took[MEASURED[span.name]] = took.get(MEASURED[span.name], 0.0) + seconds
        took |= {MEASURED_INSIDE[k]: v for k, v in self.took.items() if k in MEASURED_INSIDE}
        return StepSeconds.model_validate(took)


@bp.function_name(BUILD_IMAGE)
@bp.orchestration_trigger(context_name="context")
def build_image(context: df.DurableOrchestrationContext) -> Orchestration:
    job = BuildInput.model_validate(context.get_input())
    build = job.build
    started = context.current_utc_datetime
    vm = _vm(context, job, build.vm_name)
    blob = BlobRef(
        lab=job.factory_lab,
        blob=naming.catalog_blob_name(build.family, build.version),
        catalog=True,
    )
    warnings: list[str] = []
    deletion: list[VmDeletion | None] = []  # the build VM's, once its deletion started
    steps = Steps(context, job, vm)

    def delete_vm(_: StepResult | None) -> Orchestration:
        deletion.append((yield from _start_delete(context, job, vm)))

    def remove_unlabelled(result: StepResult | None) -> Orchestration:
        if result is not None:  # an unlabelled capture is no version: remove it
            yield from best_effort(context, DELETE_BLOB, blob.model_dump())

    def release_vm() -> Outcome:
        yield from steps.cleanup_now(CREATE_VM)
        return None

    def label() -> Outcome:
        now = context.current_utc_datetime
        minutes = (now - started).total_seconds() / 60
        measured = steps.seconds().known()
        metadata = catalog.metadata(build, job.factory_id, job.commit, now, minutes, measured)
        yield call(context, LABEL_CATALOG, LabelRequest(blob=blob, metadata=metadata).model_dump())
        return None

    gate = [Step(TEST_GATE, lambda: _test_gate(context, job, blob, warnings, steps.took))]
    result = yield from steps.run(
        [
            Step(
                CREATE_VM,
                lambda: _provision(
                    context, job, vm, job.artifacts, job.gallery, job.parent_image, steps.took
                ),
                delete_vm,
            ),
            Step(DEALLOCATE, lambda: _deallocate(context, job, vm, steps.took)),
            Step(CAPTURE, lambda: _capture(context, job, vm, blob, steps.took), remove_unlabelled),
            Step(RELEASE_VM, release_vm),
            *(gate if job.test_artifacts else []),
            Step(LABEL, label),
        ]
    )
    if result is None:
        result = StepResult(family=build.family, version=build.version, ok=True)
    outcome = BuildOutcome(
        result=result.model_copy(update={"warnings": warnings, "spans": steps.spans}),
        deletion=deletion[0] if deletion else None,
    )
    return outcome.model_dump(mode="json")


@bp.function_name(CONFIRM_VM_DELETED)
@bp.orchestration_trigger(context_name="context")
def confirm_vm_deleted(context: df.DurableOrchestrationContext) -> Orchestration:
    """Wait until a build VM is gone (starting its delete again if the first start failed).
    Returns the run report's warnings: none, or that the VM is left to the sweeper."""
    deletion = VmDeletion.model_validate(context.get_input())
    vm = deletion.vm
    context.set_custom_status({"step": "delete build VM", "vm": vm.name})
    try:
        if not deletion.started and not (yield call(context, DELETE_VM, vm.model_dump())):
            return []
        waited = yield from watch_vm(
            context, vm, vm_gone, Patience(deletion.timeout_seconds, deletion.poll_seconds)
        )
    except Exception:
        return [_not_deleted(vm)]
    return [_not_deleted(vm)] if waited.timed_out else []


def _start_delete(
    context: df.DurableOrchestrationContext, job: BuildInput, vm: VmRef
) -> Generator[Any, Any, VmDeletion | None]:
    """Start deleting the VM. None: it is gone already; else the deletion to confirm."""
    try:
        exists = yield call(context, DELETE_VM, vm.model_dump())
        started = True
    except Exception:
        exists, started = True, False
    if not exists:
        return None
    return VmDeletion(
        vm=vm,
        started=started,
        timeout_seconds=job.timeouts.vm_delete,
        poll_seconds=job.poll_seconds,
    )


def _not_deleted(vm: VmRef) -> str:
    return (
        f"build VM {vm.name} in {vm.lab} was not deleted in time; the next run or the "
        "sweeper deletes it"
    )


def _vm(context: df.DurableOrchestrationContext, job: BuildInput, name: str) -> VmRef:
    return VmRef(
        lab=job.factory_lab,
        name=name,
        build_id=job.build.build_id,
        factory_id=job.factory_id,
        run_id=run_id_of(context.instance_id),
    )


def _provision(
    context: df.DurableOrchestrationContext,
    job: BuildInput,
    vm: VmRef,
    artifacts: list[Any],
    gallery: GalleryImage | None,
    custom_image: str | None,
    took: dict[str, float] | None = None,
    role: str = "build",
) -> Orchestration:
    """Create (or adopt) a VM and wait until its artifacts are applied. None: ready.
    `took` gets the create step's operation time (the wait for room aside)."""
    now = context.current_utc_datetime
    request = _vm_request(job, vm, artifacts, gallery, custom_image, role, now)
    step = f"create {role} VM"
    deadline = now + timedelta(seconds=job.timeouts.vm_create)
    expected = job.expected.vm_create if role == "build" else 0.0
    while True:
        try:
            created = yield from _create_when_room(context, job, request, deadline)
            if created.outcome == "refused":
                return _failed(job, step, f"no room for the VM in time: {created.detail}")
            waited = yield from _watch(context, job, vm, lambda s: s.settled, expected)
        except Exception as exc:
            return _failed(job, step, exc)
        if took is not None:
            took[CREATE_VM] = waited.seconds
        status = waited.status
        if waited.timed_out:
            return _failed(job, step, f"timed out waiting for the VM ({status.detail})")
        if status.artifact_failed:
            return _failed(job, "apply artifacts", status.detail)
        if status.state == "ready":
            break
        cause = yield from _deployment_error(context, created)
        room = [e for e in cause.errors if for_want_of_room(e.code, e.message)] if cause else []
        if cause is None or not room:
            return _failed(job, step, (cause.detail if cause else "") or status.detail)
        # Azure took the VM and its deployment then found no room: the failed VM goes, and
        # the create is asked again while the create step's time lasts.
        why = f"{room[0].code}: {room[0].message}"
        if context.current_utc_datetime >= deadline:
            return _failed(job, step, f"no room for the VM in time: {why}")
        if not (yield from _delete_vm(context, job, vm)):
            return _failed(job, step, f"{why}; the failed VM could not be deleted")
        now = context.current_utc_datetime
        yield context.create_timer(min(deadline, now + timedelta(seconds=job.poll_seconds)))
    return None


def _vm_request(
    job: BuildInput,
    vm: VmRef,
    artifacts: list[Any],
    gallery: GalleryImage | None,
    custom_image: str | None,
    role: str,
    now: datetime,
) -> BuildVmRequest:
    """The VM to create: the build's size and artifacts, tagged as this run's, with its
    role and its expiry."""
    build = job.build
    vm_tags = {
        **job.image_tags,
        **vm.owner_tags(),
        tags.ROLE: role,
        tags.CREATED_AT: now.isoformat(),
        tags.EXPIRES_AT: (now + timedelta(hours=job.vm_ttl_hours)).isoformat(),
    }
    return BuildVmRequest(
        lab=vm.lab,
        name=vm.name,
        build_id=build.build_id,
        os=job.os,
        size=job.vm_size,
        artifacts=artifacts,
        tags=vm_tags,
        gallery=gallery,
        custom_image=custom_image,
        notes=f"Image factory {role} VM of {build.build_id}",
    )


def _create_when_room(
    context: df.DurableOrchestrationContext,
    job: BuildInput,
    request: BuildVmRequest,
    deadline: datetime,
) -> Generator[Any, Any, CreatedVm]:
    """Create the VM; while Azure refuses it for want of room (the lab's VM policy, the
    region's vCPU quota), wait and ask again, up to `deadline`."""
    while True:
        created = CreatedVm.model_validate(
            (yield call(context, CREATE_BUILD_VM, request.model_dump(mode="json")))
        )
        now = context.current_utc_datetime
        if created.outcome != "refused" or now >= deadline:
            return created
        yield context.create_timer(min(deadline, now + timedelta(seconds=job.poll_seconds)))


def _deployment_error(
    context: df.DurableOrchestrationContext, created: CreatedVm
) -> Generator[Any, Any, OperationStatus | None]:
    """The failed create operation (its ARM error: `detail` and `errors`), when this run
    started it."""
    if created.operation is None:
        return None
    try:
        found = OperationStatus.model_validate(
            (yield call(context, OPERATION_STATUS, created.operation.model_dump()))
        )
    except Exception:
        return None
    return found if found.state == "failed" else None


def _deallocate(
    context: df.DurableOrchestrationContext, job: BuildInput, vm: VmRef, took: dict[str, float]
) -> Orchestration:
    """DevTest Labs' stop deallocates the VM; sysprep and deprovision only shut the guest
    down, which leaves it allocated, and Azure refuses disk access to an allocated VM."""
    step = "deallocate build VM"
    try:
        status = VmStatus.model_validate((yield call(context, VM_STATUS, vm.model_dump())))
        if status.deallocated:
            return None
        yield call(context, STOP_VM, vm.model_dump())
        waited = yield from _watch(
            context, job, vm, lambda s: s.state != "ready" or s.deallocated, job.expected.deallocate
        )
    except Exception as exc:
        return _failed(job, step, exc)
    took[DEALLOCATE] = waited.seconds
    status = waited.status
    if waited.timed_out or not status.deallocated:
        return _failed(job, step, f"the VM was not deallocated ({status.detail})")
    return None


def _capture(
    context: df.DurableOrchestrationContext,
    job: BuildInput,
    vm: VmRef,
    blob: BlobRef,
    took: dict[str, float],
) -> Orchestration:
    """Grant read access to the deallocated VM's OS disk, copy it into the catalog, then
    revoke the grant. The activities only start each operation; this waits.

    A grant takes seconds and the build VM waits on it, so its status is read at once and
    then briskly; the read that sees it granted starts the copy in the same call and
    returns the copy's state. Only the copy (minutes, in Azure) is waited for as learned,
    and only its own time is what the version records."""
    grant = int(job.timeouts.disk_copy) + GRANT_MARGIN_SECONDS
    request = CaptureRequest(lab=vm.lab, vm=vm.name, blob=blob.blob, grant_seconds=grant)
    begin = context.current_utc_datetime
    try:
        started = yield call(context, START_CAPTURE, request.model_dump())
        watch = CaptureWatch(blob=blob, grant=OperationRef.model_validate(started)).model_dump()
        waited = yield from monitor(
            context,
            CAPTURE_STATUS,
            watch,
            CopyStatus.model_validate,
            lambda s: s.state != "granting",
            Patience(job.timeouts.disk_copy, job.poll_seconds, brisk=True),
        )
        took[CAPTURE] = 0.0
        if not waited.timed_out and not waited.status.settled:
            spent = (context.current_utc_datetime - begin).total_seconds()
            waited = yield from monitor(
                context,
                CAPTURE_STATUS,
                watch,
                CopyStatus.model_validate,
                lambda s: s.settled,
                Patience(
                    max(0.0, job.timeouts.disk_copy - spent),
                    job.poll_seconds,
                    job.expected.disk_copy,
                    brisk=True,
                ),
            )
            took[CAPTURE] = waited.seconds
    except Exception as exc:
        yield from _revoke(context, job, request)
        return _failed(job, "capture disk", exc)
    yield from _revoke(context, job, request)
    status = waited.status
    if waited.timed_out:
        return _failed(job, "capture disk", f"the disk copy timed out at {status.progress}")
    if status.state != "success":
        return _failed(job, "capture disk", status.detail or status.state)
    return None


def _revoke(
    context: df.DurableOrchestrationContext, job: BuildInput, request: CaptureRequest
) -> Orchestration:
    """Revoke the disk's read SAS and wait for it, briskly (it takes seconds and the VM's
    deletion waits on it); best effort."""
    try:
        started = yield call(context, FINISH_CAPTURE, request.model_dump())
        if started is None:
            return False
        yield from monitor(
            context,
            OPERATION_STATUS,
            OperationRef.model_validate(started).model_dump(),
            OperationStatus.model_validate,
            lambda s: s.settled,
            Patience(job.timeouts.vm_delete, job.poll_seconds, brisk=True),
        )
    except Exception:
        return False
    return True


def _test_gate(
    context: df.DurableOrchestrationContext,
    job: BuildInput,
    blob: BlobRef,
    warnings: list[str],
    took: dict[str, float],
) -> Orchestration:
    """A VM from the new image runs the test artifacts. None: passed. `took` gets the gate
    image's creation time."""
    build = job.build
    gate_image = f"{naming.image_name(build.family, build.version)}-gate"
    image = ImageRef(lab=job.factory_lab, name=gate_image, factory_id=job.factory_id)
    # Not a version of the family: only the factory id, the build and the role.
    gate_tags = {
        tags.FACTORY: job.factory_id,
        tags.BUILD_ID: build.build_id,
        tags.RUN: run_id_of(context.instance_id),
        tags.ROLE: "test",
    }
    request = ImageRequest(
        lab=job.factory_lab,
        name=gate_image,
        vhd=blob,
        os=job.os,
        generalized=job.generalize,
        tags=gate_tags,
        note=f"Test gate image of {build.build_id}",
    )
    try:
        patience = Patience(job.timeouts.image_create, job.poll_seconds, job.expected.image_create)
        waited = yield from create_image(context, request, image, patience)
    except Exception as exc:
        yield from best_effort(context, DELETE_IMAGE, image.model_dump())
        return _failed(job, "test gate", exc)
    if waited.timed_out or waited.status.state != "succeeded":
        yield from best_effort(context, DELETE_IMAGE, image.model_dump())
        return _failed(job, "test gate", f"the gate image ended {waited.status.state}")
    took[GATE_IMAGE] = waited.seconds
    test_vm = _vm(context, job, job.test_vm_name)
    gate_job = job.model_copy(
        update={
            "timeouts": job.timeouts.model_copy(
                update={"vm_create": job.timeouts.test_gate, "artifacts": 0.0}
            )
        }
    )
    result = yield from _provision(
        context, gate_job, test_vm, job.test_artifacts, None, gate_image, role="test"
    )
    if not (yield from _delete_vm(context, job, test_vm)):
        warnings.append(_not_deleted(test_vm))
    yield from best_effort(context, DELETE_IMAGE, image.model_dump())
    if result is not None:
        return result.model_copy(update={"step": "test gate"})
    return None


def _delete_vm(
    context: df.DurableOrchestrationContext, job: BuildInput, vm: VmRef
) -> Orchestration:
    """Delete the VM and wait until it is gone. True: gone."""
    try:
        exists = yield call(context, DELETE_VM, vm.model_dump())
        if not exists:
            return True
        waited = yield from watch_vm(
            context, vm, vm_gone, Patience(job.timeouts.vm_delete, job.poll_seconds)
        )
    except Exception:
        return False
    return not waited.timed_out


def _watch(
    context: df.DurableOrchestrationContext,
    job: BuildInput,
    vm: VmRef,
    done: Callable[[VmStatus], bool],
    expected: float = 0.0,
) -> Generator[Any, Any, Waited[VmStatus]]:
    """Monitor a VM for the create and artifacts time the job allows."""
    limit = job.timeouts.vm_create + job.timeouts.artifacts
    waited: Waited[VmStatus] = yield from watch_vm(
        context, vm, done, Patience(limit, job.poll_seconds, expected)
    )
    return waited


def _failed(job: BuildInput, step: str, reason: object) -> StepResult:
    text = first_line(reason, type(reason).__name__)
    return StepResult(
        family=job.build.family, version=job.build.version, ok=False, step=step, reason=text
    )
