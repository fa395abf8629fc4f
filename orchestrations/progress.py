"""The run's custom status: counts per phase and what is in flight, for people watching."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from orchestrations.job_scheduler import JobId, Kind, Scheduler
from orchestrations.ledger import Ledger
from shared.planning.plan import Plan
from shared.run.payloads import RunReport


class Progress:
    def __init__(self, context: df.DurableOrchestrationContext) -> None:
        self._context = context
        self._status: dict[str, Any] = {
            "phase": "starting",
            "builds": {"planned": 0, "done": 0, "failed": 0, "running": [], "vmsDeleting": 0},
            "distributions": {"planned": 0, "done": 0, "failed": 0, "running": 0},
            "retirements": {"planned": 0},
        }
        self._publish()

    def _publish(self) -> None:
        self._context.set_custom_status(self._status)

    def phase(self, name: str) -> None:
        self._status["phase"] = name
        self._publish()

    def planned(self, plan: Plan) -> None:
        self._status["builds"]["planned"] = len(plan.builds)
        self._status["distributions"]["planned"] = len(plan.distributions)
        self._status["retirements"]["planned"] = len(plan.retirements)
        self._status["phase"] = "planned"
        self._publish()

    def jobs(self, scheduler: Scheduler, deleting: set[JobId], ledger: Ledger) -> None:
        """What runs now and what the jobs came to so far."""
        counts = ledger.counts()
        running = scheduler.running
        builds = self._status["builds"]
        builds["running"] = [
            j.family for j in running if j.kind is Kind.BUILD and j not in deleting
        ]
        builds["done"], builds["failed"] = counts[Kind.BUILD]
        builds["vmsDeleting"] = len(deleting)
        dists = self._status["distributions"]
        dists["running"] = sum(scheduler.slots(j) for j in running if j.kind is not Kind.BUILD)
        dists["done"], dists["failed"] = counts[Kind.DISTRIBUTE]
        self._publish()

    def finish(self, report: RunReport) -> dict[str, Any]:
        """The run's output: the report. The custom status keeps the final counts."""
        self._status["phase"] = "invalid configuration" if report.problems else "done"
        self._publish()
        return report.model_dump(mode="json", by_alias=True)
