"""What every lab task shares: its context, its result and Azure calls that may find nothing."""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from rich.console import Console

from shared.lab_tasks.clients import LabRef, poll_seconds
from shared.lab_tasks.errors import LabTaskFailed, azure_error
from shared.lab_tasks.waiting import Deadline, wait

T = TypeVar("T")


@dataclass
class Context:
    out: Console
    err: Console
    deadline: Deadline

    def say(self, message: str) -> None:
        """Progress for people, on stderr, so stdout carries only the outputs."""
        self.err.print(message, highlight=False, markup=False)


@dataclass
class Result:
    """The outputs a task sets (extension names first) and which of them are secret."""

    outputs: dict[str, Any] = field(default_factory=dict)
    secret: set[str] = field(default_factory=set)


def name_of(value: str, collection: str) -> str:
    """A name, or the last segment of a resource id of that collection."""
    if f"/{collection}/" in value.lower():
        return value.rstrip("/").rsplit("/", 1)[-1]
    return value


def call(what: str, fn: Callable[[], T]) -> T:
    """An SDK call; Azure's refusal becomes `LabTaskFailed` with its code and message."""
    try:
        return fn()
    except HttpResponseError as error:
        raise azure_error(error, what) from None


def find(what: str, fn: Callable[[], T]) -> T | None:
    """An SDK read that answers None when the resource is not there."""
    try:
        return fn()
    except ResourceNotFoundError:
        return None
    except HttpResponseError as error:
        raise azure_error(error, what) from None


def delete_found(what: str, operations: Any, key: tuple[str, ...], ctx: Context) -> Any:
    """Read `what` from an SDK operations group (`operations.get(*key)`), delete it and
    wait for the deletion; the resource as it was read, or None when it was not there."""
    found = find(f"Reading {what}", lambda: operations.get(*key))
    if found is None:
        return None
    poller = call(
        f"Deleting {what}",
        lambda: operations.begin_delete(*key, polling_interval=poll_seconds()),
    )
    wait(poller, f"Deleting {what}", ctx.deadline, ctx.err)
    return found


def check_lab(lab: LabRef) -> None:
    """The lab exists (a clear sentence instead of a failure deep inside a deployment)."""
    found = find(f"Reading lab {lab.name}", lambda: lab.dtl.labs.get(lab.group, lab.name))
    if found is None:
        raise LabTaskFailed(
            f"The lab {lab.name} does not exist in resource group {lab.group} of subscription "
            f"{lab.id.subscription}.",
            "ResourceNotFound",
        )


def deployment_name(prefix: str = "Dtl") -> str:
    """A fresh deployment name, as the extension makes them (`Dtl` + 9 characters)."""
    alphabet = string.ascii_lowercase + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(9))


def start_deployment(
    lab: LabRef, group: str, deployment: str, template: Any, values: dict[str, Any]
) -> Any:
    """Start an incremental resource-group deployment of `template` (its body) with these
    parameter values; returns the SDK's poller."""
    body = {
        "properties": {
            "mode": "Incremental",
            "template": template,
            "parameters": {k: {"value": v} for k, v in values.items()},
        }
    }
    return call(
        f"Starting deployment {deployment}",
        lambda: lab.arm.deployments.begin_create_or_update(
            group, deployment, body, polling_interval=poll_seconds()
        ),
    )
