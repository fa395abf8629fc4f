"""A run's custom status: counts per phase and what is in flight, for people watching.

`factory_run` publishes it as the Durable custom status (`GET /api/runs/<id>` answers it
as `progress`); the CLI's live view reads it back. Its JSON keys are camelCase.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from shared.model.base import Record


class BuildCounts(Record):
    planned: int = 0
    done: int = 0
    failed: int = 0
    running: list[str] = Field(default_factory=list, description="families building now")
    vms_deleting: int = Field(default=0, description="finished builds whose VM is going")


class DistributionCounts(Record):
    planned: int = 0
    done: int = 0
    failed: int = 0
    running: int = Field(default=0, description="copies and image creates in flight")


class RetirementCounts(Record):
    planned: int = 0


class RunProgress(Record):
    phase: str = "starting"
    builds: BuildCounts = Field(default_factory=BuildCounts)
    distributions: DistributionCounts = Field(default_factory=DistributionCounts)
    retirements: RetirementCounts = Field(default_factory=RetirementCounts)

    def to_status(self) -> dict[str, Any]:
        """The custom status's JSON form."""
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def from_status(cls, status: object) -> RunProgress | None:
        """A published custom status read back; None when there is none or it is not one
        (a run that has not started, a run queue's waiting request)."""
        if not isinstance(status, dict):
            return None
        try:
            return cls.model_validate(status)
        except ValidationError:
            return None
