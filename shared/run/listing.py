"""The list of runs (`GET /api/runs`): the factory's runs among Durable's instances, newest
first, a page at a time.

A run is a `factory_run` instance under the run's own id (`push-...`, `schedule-...`,
`manual-...`); its builds and distributions are sub-orchestrations whose ids extend it
after a colon, and the coordinator is an instance of another orchestrator, so neither is
listed. Durable lists instances in instance id order, so the page is cut here: sorted by
creation time (newest first, then id), and a page token names the last run given.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field, ValidationError

from shared.function_names import FACTORY_RUN
from shared.model.base import Record

DEFAULT_PAGE = 20
MAX_PAGE = 100


class Counts(Record):
    """What a finished run did, from its report."""

    built: int = 0
    distributed: int = 0
    failed: int = 0
    skipped: int = 0


class RunSummary(Record):
    id: str
    trigger: str = Field(description="push, schedule or manual (the id's first part)")
    status: str = Field(description="Durable's runtime status")
    created_time: str | None = None
    last_updated_time: str | None = None
    commit: str | None = None
    dry_run: bool = False
    counts: Counts | None = Field(default=None, description="once the run has its report")


class WaitingRequest(Record):
    """A request the run queue holds that no run has taken yet."""

    id: str
    trigger: str = Field(description="push, schedule or manual")
    since: str = Field(description="when it was recorded")
    commit: str | None = None
    images: list[str] = Field(default_factory=list, description="none: every image")
    force: bool = False
    dry_run: bool = False
    note: str = ""


class RunPage(Record):
    runs: list[RunSummary]
    next_page: str | None = Field(default=None, description="the token of the next page")
    waiting: list[WaitingRequest] = Field(
        default_factory=list,
        description="the first page only: the requests waiting for a run, oldest first",
    )
    waiting_unread: str | None = Field(
        default=None, description="why the waiting requests could not be read, if so"
    )


class BadPageToken(ValueError):
    """A page token this API did not give."""


def is_run(instance: Mapping[str, Any]) -> bool:
    name, instance_id = instance.get("name"), instance.get("instanceId")
    return name == FACTORY_RUN and isinstance(instance_id, str) and ":" not in instance_id


def summary(instance: Mapping[str, Any]) -> RunSummary:
    """One run as the list shows it, from Durable's status of its instance."""
    instance_id = str(instance["instanceId"])
    report = instance.get("output")
    counts, commit, dry_run = None, None, False
    if isinstance(report, dict):
        counts = Counts(
            **{
                key: len(report.get(key) or [])
                for key in ("built", "distributed", "failed", "skipped")
            }
        )
        commit = report.get("commit") if isinstance(report.get("commit"), str) else None
        dry_run = report.get("dryRun") is True
    return RunSummary(
        id=instance_id,
        trigger=instance_id.split("-", 1)[0],
        status=str(instance.get("runtimeStatus") or "Unknown"),
        created_time=_text(instance.get("createdTime")),
        last_updated_time=_text(instance.get("lastUpdatedTime")),
        commit=commit,
        dry_run=dry_run,
        counts=counts,
    )


def _text(value: object) -> str | None:
    return str(value) if value else None


def _order(run: RunSummary) -> tuple[str, str]:
    return (run.created_time or "", run.id)


def newest(instances: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The runs among `instances`, newest first (then by id)."""
    return sorted(
        (i for i in instances if is_run(i)), key=lambda i: _order(summary(i)), reverse=True
    )


def page(instances: Iterable[Mapping[str, Any]], top: int, after: str | None) -> RunPage:
    """The `top` newest runs among `instances` that come after the page token `after`."""
    runs = [summary(i) for i in newest(instances)]
    if after is not None:
        cursor = read_token(after)
        runs = [run for run in runs if _order(run) < cursor]
    shown = runs[:top]
    more = len(runs) > top
    return RunPage(runs=shown, next_page=make_token(_order(shown[-1])) if more else None)


def make_token(cursor: tuple[str, str]) -> str:
    text = json.dumps({"created": cursor[0], "id": cursor[1]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode("ascii").rstrip("=")


def read_token(token: str) -> tuple[str, str]:
    """The (created, id) a page token continues after; BadPageToken if it is not one."""
    try:
        padded = token + "=" * (-len(token) % 4)
        cursor = _Cursor.model_validate_json(base64.urlsafe_b64decode(padded.encode("ascii")))
        return (cursor.created, cursor.id)
    except (ValueError, UnicodeError, binascii.Error, ValidationError) as exc:
        raise BadPageToken("pageToken is not a token this API gave") from exc


class _Cursor(Record):
    created: str
    id: str


def created_until(token: str | None) -> datetime | None:
    """A creation time no run of the page after `token` is newer than (a second of slack:
    Durable's filter and the listed times need not share their precision), to narrow
    Durable's query; None: the first page, or a token without a time."""
    if token is None:
        return None
    created = read_token(token)[0]
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) + timedelta(seconds=1)
