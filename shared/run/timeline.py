"""When each step of a build or a distribution ran: the run report's timeline.

Times come from the orchestration's own clock (replay-safe), so the same history gives
the same spans; durations learned from them order the next run's jobs."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.model.base import Record


class StepSpan(Record):
    """One step of one image's work: its name (as the report names steps), where it ran,
    when it started and ended."""

    name: str = Field(max_length=100)
    lab: str | None = Field(default=None, description="the lab it ran in; None: the factory lab")
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()
