"""What starts a run: the orchestration input of `factory_run`, and its instance id.

The instance id derives from the trigger, so duplicates coalesce: every delivery of a
push of one commit maps to one run, and one timer occurrence to one run.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.model.base import Record
from shared.planning.plan import Trigger


class ConfigSourceRef(Record):
    """Where the configuration repository is read from."""

    kind: Literal["directory", "git"] = "directory"
    location: str = Field(description="A directory path, or a Git repository URL or path.")
    path: str = Field(default="", description="The folder holding factory.yaml, if not the root.")
    branch: str = "main"
    commit: str | None = Field(default=None, description="Exact commit; default: branch head.")


class RunRequest(Record):
    trigger: Trigger
    source: ConfigSourceRef


COORDINATOR_ID = "imagefactory-run-coordinator"  # the one instance of `run_coordinator`
# The Durable runtime statuses of an instance that has not ended (it may still act).
GOING = ("Pending", "Running", "ContinuedAsNew", "Suspended")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def run_instance_id(
    trigger: Trigger, *, commit: str | None = None, at: datetime | None = None, key: str = ""
) -> str:
    """A stable id: `push-<commit>`, `schedule-<occurrence>`, `manual-<digest of options/key>`."""
    if trigger.kind == "push":
        if not commit:
            raise ValueError("a push run needs the pushed commit")
        return f"push-{_UNSAFE.sub('-', commit)}"
    if trigger.kind == "schedule":
        if at is None:
            raise ValueError("a scheduled run needs its occurrence time")
        return f"schedule-{at.strftime('%Y%m%dT%H%M%SZ')}"
    options = trigger.model_dump_json() + key
    return f"manual-{hashlib.sha256(options.encode()).hexdigest()[:16]}"


class Finished(Record):
    """How the coordinator's last run ended; `missing`: it never started (the coordinator
    stopped between taking it and starting it), so it is taken again."""

    run: str
    ok: bool
    missing: bool = False


class TakeRequest(Record):
    """The coordinator's input and its ask of the run queue: which queue epoch it serves,
    a step number (unique per take), and how its last run ended."""

    hub: str = Field(description="The task hub, whose run queue this is.")
    epoch: int
    step: int = 0
    finished: Finished | None = None

    @property
    def token(self) -> str:
        return f"{self.epoch}:{self.step}"


class Take(Record):
    """The run queue's answer: the run to start now, or none (the queue is closed, or
    `stale`: the coordinator serves an epoch that is over)."""

    token: str
    run: str | None = None
    request: RunRequest | None = None
    stale: bool = False
