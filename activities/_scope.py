"""Every activity runs inside its run's telemetry scope.

The orchestrators add `runId` to each dict payload (`orchestrations.steps.call`); this
decorator reads it and logs everything the activity does under that run id. The payload
models ignore keys they do not declare, so `runId` needs no field of its own.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from shared.telemetry import RUN_ID_PAYLOAD_KEY, run_scope

Result = TypeVar("Result")
log = logging.getLogger(__name__)


def run_scoped(fn: Callable[..., Result]) -> Callable[..., Result]:
    """Wrap an activity (innermost, under the trigger decorators) in `run_scope(runId)`."""

    @functools.wraps(fn)
    def scoped(*args: Any, **kwargs: Any) -> Result:
        payload = kwargs.get("payload", args[0] if args else None)
        run_id = payload.get(RUN_ID_PAYLOAD_KEY) if isinstance(payload, dict) else None
        with run_scope(run_id if isinstance(run_id, str) else None):
            log.debug("activity %s starts", fn.__name__)
            return fn(*args, **kwargs)

    return scoped
