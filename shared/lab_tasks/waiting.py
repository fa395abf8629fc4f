"""Waiting for a long-running operation: a spinner on a terminal, a timeout everywhere."""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any, TypeVar

from azure.core.exceptions import HttpResponseError
from azure.core.polling import LROPoller
from rich.console import Console

from shared.lab_tasks.clients import time_scale
from shared.lab_tasks.errors import LabTaskFailed, azure_error

T = TypeVar("T")


class Deadline:
    """A wall-clock budget for one command (`--timeout` minutes x IMAGEFACTORY_TIME_SCALE)."""

    def __init__(self, minutes: float) -> None:
        self.minutes = minutes
        self.seconds = minutes * 60 * time_scale()
        self.end = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def expired(self, what: str) -> LabTaskFailed:
        return LabTaskFailed(
            f"{what} did not finish within the {self.minutes:g}-minute timeout; it may still "
            "be running in Azure (raise --timeout, or check the lab).",
            "Timeout",
        )


def wait(poller: LROPoller[T], what: str, deadline: Deadline, err: Console) -> T:
    """The operation's result; `LabTaskFailed` when it failed or ran out of time."""
    started = time.monotonic()
    status: Any = err.status(f"{what}...") if err.is_terminal else nullcontext()
    try:
        with status as spinner:
            while not poller.done():
                left = deadline.remaining()
                if left <= 0:
                    raise deadline.expired(what)
                poller.wait(min(1.0, left))
                if spinner is not None:
                    spinner.update(f"{what}... {time.monotonic() - started:.0f} s")
        return poller.result()
    except HttpResponseError as error:
        raise azure_error(error, what) from None


def sleep_until(deadline: Deadline, seconds: float, what: str) -> None:
    left = deadline.remaining()
    if left <= 0:
        raise deadline.expired(what)
    time.sleep(min(seconds, left))
