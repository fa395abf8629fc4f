"""Publishing the run's custom status (`shared.run.progress.RunProgress`) as it goes."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from orchestrations.job_scheduler import JobId, Kind, Scheduler
from orchestrations.ledger import Ledger
from shared.planning.plan import Plan
from shared.run.payloads import RunReport
from shared.run.progress import BuildCounts, DistributionCounts, RetirementCounts, RunProgress


class Progress:
    def __init__(self, context: df.DurableOrchestrationContext) -> None:
        self._context = context
        self._status = RunProgress()
        self._publish()

    def _publish(self, **changes: Any) -> None:
        self._status = self._status.model_copy(update=changes)
        self._context.set_custom_status(self._status.to_status())

    def phase(self, name: str) -> None:
        self._publish(phase=name)

    def planned(self, plan: Plan) -> None:
        status = self._status
        self._publish(
            phase="planned",
            builds=status.builds.model_copy(update={"planned": len(plan.builds)}),
            distributions=status.distributions.model_copy(
                update={"planned": len(plan.distributions)}
            ),
            retirements=RetirementCounts(planned=len(plan.retirements)),
        )

    def jobs(self, scheduler: Scheduler, deleting: set[JobId], ledger: Ledger) -> None:
        """What runs now and what the jobs came to so far."""
        counts = ledger.counts()
        running = scheduler.running
        built, build_failed = counts[Kind.BUILD]
        distributed, distribution_failed = counts[Kind.DISTRIBUTE]
        status = self._status
        self._publish(
            builds=BuildCounts(
                planned=status.builds.planned,
                done=built,
                failed=build_failed,
                running=[j.family for j in running if j.kind is Kind.BUILD and j not in deleting],
                vms_deleting=len(deleting),
            ),
            distributions=DistributionCounts(
                planned=status.distributions.planned,
                done=distributed,
                failed=distribution_failed,
                running=sum(scheduler.slots(j) for j in running if j.kind is not Kind.BUILD),
            ),
        )

    def finish(self, report: RunReport) -> dict[str, Any]:
        """The run's output: the report. The custom status keeps the final counts."""
        self._publish(phase="invalid configuration" if report.problems else "done")
        return report.model_dump(mode="json", by_alias=True)
