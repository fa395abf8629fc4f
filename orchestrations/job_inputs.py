"""The inputs of a run's jobs, assembled from the configuration and the plan. Pure.

Each job of the scheduler becomes one sub-orchestration: a build (build_image), a copy
(distribute_image) or a build VM's deletion (confirm_vm_deleted). Their inputs and
instance ids are made here, outside the orchestrator, so they can be tested alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from orchestrations.job_scheduler import Estimates, JobId, Kind, distributions_of
from shared.config.models import Factory
from shared.model import naming, tags
from shared.planning.definition_hash import effective_artifacts
from shared.planning.plan import Build, Distribution, Plan
from shared.run.payloads import (
    BuildInput,
    DistributeBatch,
    DistributeInput,
    MonitorTiming,
    StepSeconds,
)

EXPECTED_FRACTION = 0.9


@dataclass(frozen=True)
class JobInputs:
    factory: Factory
    pace: MonitorTiming
    plan: Plan
    instance_id: str  # the factory run's: each job's instance id derives from it
    estimates: Estimates = field(default_factory=Estimates)
    _builds: dict[str, Build] = field(init=False, repr=False)
    _distributions: dict[tuple[str, str, str], Distribution] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        builds = {b.family: b for b in self.plan.builds}
        dists = {(d.family, d.version, d.lab): d for d in self.plan.distributions}
        object.__setattr__(self, "_builds", builds)
        object.__setattr__(self, "_distributions", dists)

    def build(self, job: JobId) -> BuildInput:
        build = self._build(job.family)
        image = self.factory.images[build.family]
        timeouts = self.factory.settings.timeouts
        pace = self.pace
        gallery = image.base.gallery
        if gallery is not None:
            gallery = gallery.model_copy(update={"version": build.base.rsplit("@", 1)[1]})
        return BuildInput(
            build=build,
            factory_id=self.factory.settings.factory_id,
            factory_lab=self.factory.settings.factory_lab,
            commit=self.factory.commit,
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
            image_tags=image_tags(self.factory, build.family, build.version, build),
            timeouts=StepSeconds(
                vm_create=pace.timeout_seconds(timeouts.vm_create),
                artifacts=pace.timeout_seconds(timeouts.artifacts),
                disk_copy=pace.timeout_seconds(timeouts.disk_copy),
                image_create=pace.timeout_seconds(timeouts.image_create),
                test_gate=pace.timeout_seconds(timeouts.test_gate),
                vm_delete=pace.timeout_seconds(timeouts.vm_create),
            ),
            expected=self.expected(build.family),
            vm_ttl_hours=timeouts.build_vm_ttl_hours,
            poll_seconds=pace.poll_seconds,
        )

    def distribute(self, job: JobId) -> DistributeInput:
        dist = self._distribution(job)
        image = self.factory.images[dist.family]
        timeouts = self.factory.settings.timeouts
        build = self._build(dist.family) if dist.after_build else None
        expected = self.expected(dist.family)
        return DistributeInput(
            distribution=dist,
            factory_id=self.factory.settings.factory_id,
            factory_lab=self.factory.settings.factory_lab,
            os=image.os,
            generalized=image.generalize,
            build_id=naming.build_id(dist.family, dist.version),
            image_tags=image_tags(self.factory, dist.family, dist.version, build),
            timeouts=StepSeconds(
                disk_copy=self.pace.timeout_seconds(timeouts.disk_copy),
                image_create=self.pace.timeout_seconds(timeouts.image_create),
            ),
            # The catalog copy of this version took about what a copy of it takes, and its
            # gate image about what its custom image takes.
            expected=StepSeconds(disk_copy=expected.disk_copy, image_create=expected.image_create),
            poll_seconds=self.pace.poll_seconds,
        )

    def expected(self, family: str) -> StepSeconds:
        """How long each step of the family's work is expected to take: a little less than
        its last build's (a monitor's first read then lands just before the end); nothing
        on a first run (the monitors poll from the start)."""
        learned = self.estimates.seconds(family)
        known = {
            k: v * EXPECTED_FRACTION for k, v in learned.items() if k in StepSeconds.model_fields
        }
        return StepSeconds.model_validate(known)

    def batch(self, job: JobId, concurrency: int) -> DistributeBatch:
        """A batch's copies, each with its own instance id, `concurrency` at a time."""
        members = distributions_of(self.plan, self.factory.settings.factory_lab, job)
        copies = [JobId(Kind.DISTRIBUTE, d.family, d.version, lab=d.lab) for d in members]
        return DistributeBatch(
            copies=[self.distribute(copy) for copy in copies],
            instance_ids=[self.child_id(copy) for copy in copies],
            concurrency=concurrency,
        )

    def child_id(self, job: JobId, role: str = "") -> str:
        """The job's sub-orchestration instance id; stable across replays and restarts."""
        if job.kind is Kind.BUILD:
            build_id = self._build(job.family).build_id
            return f"{self.instance_id}:{role or 'build'}:{build_id}"
        image = naming.image_name(job.family, job.version)
        if job.kind is Kind.BATCH:
            return f"{self.instance_id}:distribute-to:{image}:{_key(job.subscription)}"
        return f"{self.instance_id}:distribute:{image}:{_key(self._distribution(job).lab)}"

    def _build(self, family: str) -> Build:
        return self._builds[family]

    def _distribution(self, job: JobId) -> Distribution:
        return self._distributions[(job.family, job.version, job.lab)]


def _key(text: str) -> str:
    return hashlib.sha256(text.lower().encode()).hexdigest()[:10]


def image_tags(factory: Factory, family: str, version: str, build: Build | None) -> dict[str, str]:
    """The tags of a custom image of this version: ours, and the definition's own."""
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
