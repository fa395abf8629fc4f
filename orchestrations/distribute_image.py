"""distribute_image: copy a catalog VHD into a lab, make the custom image, delete the copy.
distribute_batch: one version's distribute_image to each lab of one subscription, a few at
a time, so the run's own history holds one entry per batch instead of one per copy.

Neither raises: the result says which step failed and why.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

import azure.durable_functions as df

from orchestrations.steps import (
    Job,
    Orchestration,
    Patience,
    best_effort,
    bounded,
    copy_to_lab,
    create_image,
)
from shared.function_names import (
    DELETE_BLOB,
    DELETE_IMAGE,
    DISTRIBUTE_BATCH,
    DISTRIBUTE_IMAGE,
)
from shared.model import naming
from shared.model.text import first_line
from shared.run.payloads import (
    BlobRef,
    DistributeBatch,
    DistributeInput,
    ImageRef,
    ImageRequest,
    LabCopyRequest,
    StepResult,
)
from shared.run.timeline import StepSpan

bp = df.Blueprint()
T = TypeVar("T")


@bp.function_name(DISTRIBUTE_IMAGE)
@bp.orchestration_trigger(context_name="context")
def distribute_image(context: df.DurableOrchestrationContext) -> Orchestration:
    job = DistributeInput.model_validate(context.get_input())
    dist = job.distribution
    catalog_blob = naming.catalog_blob_name(dist.family, dist.version)
    # Into the factory lab's own uploads the factory writes with its identity; any other
    # lab is reached through its upload URI.
    in_factory_lab = dist.lab.lower() == job.factory_lab.lower()
    destination = BlobRef(lab=dist.lab, blob=f"{dist.image_name}.vhd", catalog=in_factory_lab)
    copy = LabCopyRequest(
        source=BlobRef(lab=job.factory_lab, blob=catalog_blob, catalog=True),
        destination=destination,
        read_seconds=int(job.timeouts.disk_copy) + 600,
    )
    image = ImageRef(lab=dist.lab, name=dist.image_name, factory_id=job.factory_id)
    copied_blob = destination.model_dump()

    spans: list[StepSpan] = []
    began = context.current_utc_datetime

    def timed(name: str, work: Generator[Any, Any, T]) -> Generator[Any, Any, T]:
        """Run a step's work; its span, from the end of the step before, ends with the work
        however the work ends."""
        nonlocal began
        try:
            return (yield from work)
        finally:
            now = context.current_utc_datetime
            spans.append(StepSpan(name=name, lab=dist.lab, start=began, end=now))
            began = now

    def result(step: str = "", reason: str = "") -> dict[str, object]:
        outcome = StepResult(
            family=dist.family,
            version=dist.version,
            lab=dist.lab,
            ok=not step,
            step=step,
            reason=reason,
            spans=spans,
        )
        return outcome.model_dump(mode="json")

    def failed(step: str, reason: str) -> Orchestration:
        """The copy in the lab's storage goes; the result says which step failed and why."""
        yield from best_effort(context, DELETE_BLOB, copied_blob)
        return result(step, reason)

    context.set_custom_status({"step": "copy", "lab": dist.lab})
    patience = Patience(job.timeouts.disk_copy, job.poll_seconds, job.expected.disk_copy)
    try:
        copied = yield from timed("copy VHD", copy_to_lab(context, copy, patience))
    except Exception as exc:
        return (yield from failed("copy VHD", first_line(exc)))
    status = copied.status
    if copied.timed_out or status.state != "success":
        reason = f"timed out at {status.progress}" if copied.timed_out else status.detail
        return (yield from failed("copy VHD", reason or status.state))

    context.set_custom_status({"step": "create image", "lab": dist.lab})
    request = ImageRequest(
        lab=dist.lab,
        name=dist.image_name,
        vhd=destination,
        os=job.os,
        generalized=job.generalized,
        tags=job.image_tags,
        note=f"{dist.family} version {dist.version}, built by the image factory",
    )
    patience = Patience(job.timeouts.image_create, job.poll_seconds, job.expected.image_create)
    try:
        created = yield from timed(
            "create custom image", create_image(context, request, image, patience)
        )
    except Exception as exc:
        return (yield from failed("create custom image", first_line(exc)))
    yield from best_effort(context, DELETE_BLOB, copied_blob)
    state = created.status.state
    if created.timed_out or state != "succeeded":
        # An image in an unknown or failed state is removed rather than left half-made.
        yield from best_effort(context, DELETE_IMAGE, image.model_dump())
        reason = "timed out" if created.timed_out else f"the image ended {state}"
        return result("create custom image", reason)
    return result()


@bp.function_name(DISTRIBUTE_BATCH)
@bp.orchestration_trigger(context_name="context")
def distribute_batch(context: df.DurableOrchestrationContext) -> Orchestration:
    """Each copy's result, in the order of the batch's copies."""
    batch = DistributeBatch.model_validate(context.get_input())

    def starter(payload: dict[str, Any], instance_id: str) -> Any:
        return lambda: context.call_sub_orchestrator(DISTRIBUTE_IMAGE, payload, instance_id)

    jobs = [
        Job(key=index, start=starter(copy.model_dump(mode="json"), instance_id))
        for index, (copy, instance_id) in enumerate(
            zip(batch.copies, batch.instance_ids, strict=True)
        )
    ]
    results = yield from bounded(context, jobs, batch.concurrency)
    outcomes = []
    for index, copy in enumerate(batch.copies):
        value = results[index]
        if isinstance(value, dict):
            outcomes.append(value)
            continue
        dist = copy.distribution
        failed = StepResult(
            family=dist.family,
            version=dist.version,
            lab=dist.lab,
            ok=False,
            step="orchestration",
            reason=first_line(value, "failed"),
        )
        outcomes.append(failed.model_dump(mode="json"))
    return outcomes
