"""Determinism guard: while an orchestrator function runs, I/O, sleeping and randomness raise.

Orchestrator code must be deterministic: every replay has to take the same path. Azure
does not check this; devhost does, so the mistake shows up on the first local run instead
of as a stuck or non-deterministic instance in production. While the engine's thread is
inside an orchestrator function, these raise `NonDeterministicCall`:

- `time.sleep` (use `context.create_timer`),
- opening files (`open`), connecting sockets (`socket.socket.connect`),
- `random.*` module functions, `uuid.uuid1`/`uuid.uuid4` (use `context.new_uuid`),
- `os.urandom`.

Other threads (activities, HTTP functions) are not affected. The wall clock is not
guarded (logging reads it); use `context.current_utc_datetime` in orchestrators.
Code that imported a guarded function by name before devhost started
(`from random import random`) keeps the original. Set the app setting
`DEVHOST_ORCHESTRATOR_GUARD=off` to disable the guard.
"""

from __future__ import annotations

import builtins
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_state = threading.local()
_installed = False
_install_lock = threading.Lock()

ADVICE = {
    "time.sleep": "use context.create_timer",
    "open": "do I/O in an activity",
    "socket.connect": "do I/O in an activity",
    "random": "pass random values in as input or create them in an activity",
    "uuid": "use context.new_uuid()",
    "os.urandom": "create random values in an activity",
}


class NonDeterministicCall(RuntimeError):
    """An orchestrator called something that is not replay-safe."""


def _check(what: str, advice_key: str) -> None:
    if getattr(_state, "function", None) is not None:
        message = (
            f"orchestrator '{_state.function}' called {what}, which is not replay-safe; "
            f"{ADVICE[advice_key]}."
        )
        if getattr(_state, "violation", None) is None:
            _state.violation = message
        raise NonDeterministicCall(message)


def _wrap(original: Callable[..., Any], what: str, advice_key: str) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check(what, advice_key)
        return original(*args, **kwargs)

    guarded.__name__ = getattr(original, "__name__", what)
    guarded.__doc__ = getattr(original, "__doc__", None)
    guarded.__wrapped__ = original  # type: ignore[attr-defined]
    return guarded


def install() -> None:
    """Patch the guarded functions once per process (they only act on guarded threads)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        time.sleep = _wrap(time.sleep, "time.sleep()", "time.sleep")
        builtins.open = _wrap(builtins.open, "open()", "open")
        socket.socket.connect = _wrap(  # type: ignore[method-assign]
            socket.socket.connect, "socket.connect()", "socket.connect"
        )
        for name in (
            "random",
            "randint",
            "randrange",
            "choice",
            "choices",
            "shuffle",
            "sample",
            "uniform",
            "getrandbits",
            "gauss",
        ):
            original = getattr(random, name)
            setattr(random, name, _wrap(original, f"random.{name}()", "random"))
        uuid.uuid1 = _wrap(uuid.uuid1, "uuid.uuid1()", "uuid")
        uuid.uuid4 = _wrap(uuid.uuid4, "uuid.uuid4()", "uuid")
        os.urandom = _wrap(os.urandom, "os.urandom()", "os.urandom")
        _installed = True


@contextmanager
def guarding(function: str) -> Iterator[list[str]]:
    """Guard the current thread while `function` runs; yields a list that receives a violation.

    The violation is recorded even if the orchestrator catches the exception.
    """
    violations: list[str] = []
    _state.function = function
    _state.violation = None
    try:
        yield violations
    finally:
        if _state.violation is not None:
            violations.append(_state.violation)
        _state.function = None
        _state.violation = None
