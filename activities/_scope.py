"""Every activity is registered one way: typed input and output, in its run's telemetry
scope.

The orchestrators add `runId` to each dict payload (`orchestrations.steps.call`); this
decorator reads it and logs everything the activity does under that run id. The payload
models ignore keys they do not declare, so `runId` needs no field of its own.
"""

from __future__ import annotations

import functools
import inspect
import logging
import typing
from collections.abc import Callable
from typing import Any, TypeVar, cast

import azure.durable_functions as df
from pydantic import BaseModel

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


def activity(bp: df.Blueprint, name: str) -> Callable[[Callable[[Any], Any]], Any]:
    """Register the decorated function as the activity `name` of `bp`, run in its run's
    scope (`run_scoped`).

    The function takes its typed input (the model its one parameter is annotated with) and
    may return a model: the host's JSON `payload` is validated into the input here, and a
    returned model is dumped to JSON here, once for every activity.
    """

    def register(fn: Callable[[Any], Any]) -> Any:
        (hint,) = (v for k, v in typing.get_type_hints(fn).items() if k != "return")
        model: type[BaseModel] = hint

        def invoke(payload: dict[str, Any]) -> Any:
            result = fn(model.model_validate(payload))
            return result.model_dump(mode="json") if isinstance(result, BaseModel) else result

        invoke.__name__, invoke.__qualname__ = fn.__name__, fn.__qualname__
        invoke.__module__, invoke.__doc__ = fn.__module__, fn.__doc__
        return bp.function_name(name)(bp.activity_trigger(input_name="payload")(run_scoped(invoke)))

    return register
