"""Retiring a family in a lab: the queue worker's one job, the only place images go.

It acts only on images carrying this factory's id and is idempotent: a message run twice
deletes nothing twice. (The orphan sweep, the other deleter, is `shared.azure.sweep`.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from shared.azure import images, labs
from shared.config.models import Factory
from shared.model.base import first_error
from shared.planning.planner import retention_policy
from shared.planning.retention import retention
from shared.run.payloads import RetirementRequest

MAX_MESSAGE_BYTES = 4096  # a request names a lab id and a family: well under 1 KiB


class InvalidMessage(ValueError):
    """A retirement message that is not a request; the text says why, in one sentence."""


def parse_request(body: bytes) -> RetirementRequest:
    """The request a queue message names, or InvalidMessage with one sentence."""
    if len(body) > MAX_MESSAGE_BYTES:
        raise InvalidMessage(f"the message is {len(body)} bytes; a request is at most 4096")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidMessage("the message is not UTF-8") from None
    except RecursionError:
        raise InvalidMessage("the message is JSON nested too deeply") from None
    except ValueError as exc:
        raise InvalidMessage(f"the message is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidMessage("the message is not a JSON object with lab and family")
    try:
        return RetirementRequest.model_validate(data)
    except ValidationError as exc:
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InvalidMessage(f"{first_error(exc, 'the message')}{more}") from None


@dataclass
class RetireOutcome:
    deleted: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: str | None = None  # why nothing was re-checked at all


def retire(request: RetirementRequest, factory: Factory, now: datetime) -> RetireOutcome:
    """Delete what `request.lab` no longer needs of `request.family` under `factory` (the
    current configuration), from a fresh read of the lab.

    The request names only what to re-check: this factory's id, keep, pins and selection
    come from `factory`, so only images carrying this factory's id go, never below keep,
    never a pinned version, never the newest valid version of a family the lab selects.
    """
    policy = retention_policy(factory, request.lab, now)
    if policy is None:
        return RetireOutcome(skipped="the configuration does not distribute to this lab")
    inventory = labs.inventory(request.lab)
    if inventory.error:
        raise RuntimeError(f"cannot read lab {request.lab}: {inventory.error}")
    family = [i for i in inventory.images if i.family() == request.family]
    outcome = retention(family, policy)
    for retired in outcome.retire:
        images.begin_delete_image(request.lab, retired.image.name, policy.factory_id)
    return RetireOutcome(
        deleted=[r.image.name for r in outcome.retire],
        warnings=[i.warning for i in outcome.ignored],
    )
