"""Every activity is registered one way, and runs inside its run's telemetry scope.

The orchestrators add `runId` to each dict payload (`orchestrations.steps.call`); this
decorator reads it and logs everything the activity does under that run id. The payload
models ignore keys they do not declare, so `runId` needs no field of its own.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

import azure.durable_functions as df

from shared.telemetry import RUN_ID_PAYLOAD_KEY, run_scope

Result = TypeVar("Result")
log = logging.getLogger(__name__)


def run_scoped(fn: Callable[..., Result]) -> Callable[..., Result]:
    """Wrap an activity (innermost, under the trigger decorators) in `run_scope(runId)`;
    a coroutine activity stays one, scoped while it runs."""

    def run_id(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        payload = kwargs.get("payload", args[0] if args else None)
        found = payload.get(RUN_ID_PAYLOAD_KEY) if isinstance(payload, dict) else None
        return found if isinstance(found, str) else None

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def scoped_async(*args: Any, **kwargs: Any) -> Any:
            with run_scope(run_id(args, kwargs)):
                log.debug("activity %s starts", fn.__name__)
                return await fn(*args, **kwargs)

        return cast(Callable[..., Result], scoped_async)

    @functools.wraps(fn)
    def scoped(*args: Any, **kwargs: Any) -> Result:
        with run_scope(run_id(args, kwargs)):
            log.debug("activity %s starts", fn.__name__)
            return fn(*args, **kwargs)

    return scoped


def activity(bp: df.Blueprint, name: str) -> Callable[[Callable[..., Any]], Any]:
    """Register the decorated function as the activity `name` of `bp`: its input is the
    parameter `payload`, and it runs in its run's scope (`run_scoped`)."""

    def register(fn: Callable[..., Any]) -> Any:
        return bp.function_name(name)(bp.activity_trigger(input_name="payload")(run_scoped(fn)))

    return register
