"""The run's custom status: counts per phase and what is in flight, for people watching."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from shared.payloads import RunReport, StepResult
from shared.plan import Plan


class Progress:
    def __init__(self, context: df.DurableOrchestrationContext) -> None:
        self._context = context
        self._status: dict[str, Any] = {
            "phase": "starting",
            "builds": {"planned": 0, "done": 0, "failed": 0, "running": []},
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

    def building(self, families: list[str]) -> None:
        self._status["builds"]["running"] = families
        self._publish()

    def built(self, results: list[StepResult]) -> None:
        builds = self._status["builds"]
        builds["running"] = []
        builds["done"] += sum(1 for r in results if r.ok)
        builds["failed"] += sum(1 for r in results if not r.ok)
        self._publish()

    def distributing(self, count: int) -> None:
        self._status["distributions"]["running"] = count
        self._publish()

    def distributed(self, results: list[StepResult]) -> None:
        dists = self._status["distributions"]
        dists["running"] = 0
        dists["done"] += sum(1 for r in results if r.ok)
        dists["failed"] += sum(1 for r in results if not r.ok)
        self._publish()

    def finish(self, report: RunReport) -> dict[str, Any]:
        """The run's output: the report. The custom status keeps the final counts."""
        self._status["phase"] = "invalid configuration" if report.problems else "done"
        self._publish()
        return report.model_dump(mode="json", by_alias=True)
