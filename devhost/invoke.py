"""Call the app's functions as the Python worker does.

Async functions run on one long-lived event loop (the SDK's HTTP client keeps a session
bound to it, as in the worker); sync functions run on the calling thread.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import threading
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import azure.functions as func

from devhost.loader import FunctionInfo

# How the host calls one of the app's functions: its arguments by parameter name (the
# trigger's and any the host fills in), and what it returns.
CallFunction = Callable[[FunctionInfo, dict[str, Any]], Any]


def _read_only(attribute: str) -> Any:
    """A property that reads one attribute (func.Context declares its members as properties)."""
    return property(lambda self: getattr(self, attribute))


class InvocationContext(func.Context):
    """The `context` argument a function may declare (no tracing or retry context)."""

    def __init__(self, function_name: str, function_directory: str) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory
        self._tls = threading.local()
        self._tls.invocation_id = self._invocation_id

    invocation_id = _read_only("_invocation_id")
    thread_local_storage = _read_only("_tls")
    function_name = _read_only("_function_name")
    function_directory = _read_only("_function_directory")
    # devhost traces nothing and retries no trigger: both contexts are None.
    trace_context = retry_context = property(lambda self: None)


class OutValue(func.Out[Any]):
    """An output binding parameter (`func.Out[...]`): the function sets, the host reads."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


class Invoker:
    """Runs function code: coroutines on the shared loop, plain functions inline."""

    def __init__(self, function_directory: str) -> None:
        self.function_directory = function_directory
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="devhost-worker-loop", daemon=True
        )
        self._thread.start()

    def context(self, info: FunctionInfo) -> InvocationContext:
        return InvocationContext(info.name, self.function_directory)

    def call(self, info: FunctionInfo, kwargs: dict[str, Any]) -> Any:
        if "context" in info.parameters and "context" not in kwargs:
            kwargs["context"] = self.context(info)
        if info.is_async:
            coroutine: Coroutine[Any, Any, Any] = info.func(**kwargs)
            return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()
        result = info.func(**kwargs)
        if asyncio.iscoroutine(result):
            return asyncio.run_coroutine_threadsafe(result, self._loop).result()
        return result

    def run(self, fn: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        future: concurrent.futures.Future[Any] = asyncio.run_coroutine_threadsafe(fn(), self._loop)
        return future.result()

    def close(self) -> None:
        """Close the SDK's HTTP session (bound to this loop), then stop the loop."""
        if not self._loop.is_running():
            return
        try:
            from azure.durable_functions.models.utils import http_utils

            close_session = getattr(http_utils, "_close_session", None)
            if close_session is not None:
                asyncio.run_coroutine_threadsafe(close_session(), self._loop).result(timeout=5)
        except Exception:  # the session is a courtesy to close; never fail shutdown on it
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


_shared: Invoker | None = None
_shared_lock = threading.Lock()


def shared_invoker(function_directory: str) -> Invoker:
    """The process's invoker: one event loop per process, as in the Python worker.

    The SDK's DurableOrchestrationClient keeps one aiohttp session per process, bound to
    the loop it was created on, so every devhost in a process must share the loop.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Invoker(function_directory)
            atexit.register(_shared.close)
        _shared.function_directory = function_directory
        return _shared
