"""The run's ledger: what each job came to, kept in one place for the report. Pure.

A job that ran has its result; a job blocked by a failure has a skip naming the cause, in
the report's words: a layered child "its parent P failed: ...", a distribution "the build
failed at STEP: ...". A build VM's deletion, confirmed after its image was released, adds
its warning (if any) to the build's result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrations.job_scheduler import JobId, Kind, distributions_of
from shared.planning.plan import Distribution, Plan
from shared.planning.planner import left_to_later
from shared.run.payloads import StepResult


@dataclass
class Ledger:
    """Results by build and by distribution (a batch's, one per lab), in the order they came."""

    plan: Plan
    factory_lab: str
    results: dict[JobId, StepResult] = field(default_factory=dict)
    blocked: set[JobId] = field(default_factory=set)

    def record(self, job: JobId, result: StepResult) -> None:
        self.results[job] = result

    def record_batch(self, job: JobId, results: list[StepResult]) -> None:
        for dist, result in zip(self.members(job), results, strict=True):
            self.results[JobId(Kind.DISTRIBUTE, dist.family, dist.version, lab=dist.lab)] = result

    def members(self, job: JobId) -> list[Distribution]:
        """The distributions a copy or batch job stands for."""
        return distributions_of(self.plan, self.factory_lab, job)

    def block(self, job: JobId, cause: JobId) -> None:
        """A job that will not run: `cause`, a job it needs, failed or was blocked."""
        source = self._failure_behind(cause)
        if job.kind is Kind.BUILD:
            self.blocked.add(job)
            self.results[job] = StepResult(
                family=job.family,
                version=job.version,
                ok=False,
                step="skipped",
                reason=f"its parent {source.family} failed: {source.reason}",
            )
            return
        for dist in self.members(job):
            key = JobId(Kind.DISTRIBUTE, dist.family, dist.version, lab=dist.lab)
            self.blocked.add(key)
            self.results[key] = StepResult(
                family=dist.family,
                version=dist.version,
                lab=dist.lab,
                ok=False,
                step="skipped",
                reason=f"the build failed at {source.step}: {source.reason}",
            )

    def vm_deleted(self, job: JobId, warnings: list[str]) -> None:
        """The build VM's deletion is confirmed (or left to the sweeper, with a warning)."""
        result = self.results[job]
        self.results[job] = result.model_copy(update={"warnings": [*result.warnings, *warnings]})

    def counts(self) -> dict[Kind, tuple[int, int]]:
        """Per kind: how many jobs succeeded and how many failed or were skipped."""
        return {
            kind: (
                sum(1 for j, r in self.results.items() if j.kind is kind and r.ok),
                sum(1 for j, r in self.results.items() if j.kind is kind and not r.ok),
            )
            for kind in Kind
        }

    def report(self, warnings: list[str]) -> dict[str, Any]:
        """The report's fields for the run's jobs (RunReport's names)."""
        builds = [r for j, r in self.results.items() if j.kind is Kind.BUILD]
        copies = [(j, r) for j, r in self.results.items() if j.kind is Kind.DISTRIBUTE]
        failed_builds = [r for r in builds if not r.ok]
        return {
            "built": [r for r in builds if r.ok],
            "distributed": [r for _, r in copies if r.ok],
            "failed": [
                *failed_builds,
                *(r for j, r in copies if not r.ok and j not in self.blocked),
            ],
            "skipped": [r for j, r in copies if j in self.blocked],
            "warnings": [*left_to_later(self.plan, builds), *warnings],
        }

    @property
    def distributed(self) -> list[StepResult]:
        return [r for j, r in self.results.items() if j.kind is Kind.DISTRIBUTE and r.ok]

    def _failure_behind(self, cause: JobId) -> StepResult:
        """The result to name: a failed job's own; a blocked copy's cause, the build."""
        result = self.results[cause]
        if cause in self.blocked and cause.kind is Kind.DISTRIBUTE:
            parent = JobId(Kind.BUILD, cause.family, cause.version)
            return self.results.get(parent, result)
        return result
