"""What a run's end posts to its receivers: one summary of the report, and the message each
service documents for it.

- Microsoft Teams incoming webhook: a `message` whose one attachment is an Adaptive Card
  (`application/vnd.microsoft.card.adaptive`).
- Slack incoming webhook: `text` (the notification's fallback) and Block Kit `blocks`.
- Any webhook: a CloudEvents 1.0 event in structured mode (`application/cloudevents+json`),
  whose `id` is the run's instance id, so a receiver sees a retried post as the same event.

Pure: the activity that posts them lives in `activities.notify`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from shared.config.models import Notification, NotificationKind, NotifyOn
from shared.model.arm_ids import ArmIdError, parse_resource_id
from shared.model.base import Record
from shared.run.payloads import RunReport, StepResult
from shared.telemetry import run_id_of

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ADAPTIVE_CARD_VERSION = "1.2"
CLOUDEVENTS_JSON = "application/cloudevents+json"
EVENT_TYPE = "imagefactory.run.finished"
SLACK_SECTION_LIMIT = 3000  # characters of a section block's text
SLACK_HEADER_LIMIT = 150  # characters of a header block's plain text
LISTED = 20  # items named per list; the rest are counted
ITEM_LIMIT = 300  # characters of one item (a failure's reason can be long)


class Outcome(Record):
    """One build, distribution or skip, as a person reads it."""

    image: str  # <family>-<version>
    lab: str | None = None  # the lab's name; None: the factory lab
    step: str = ""
    reason: str = ""

    def text(self) -> str:
        where = f" in {self.lab}" if self.lab else ""
        said = [p for p in (self.step, self.reason) if p]
        why = ": " + ", ".join(said) if said else ""
        return f"{self.image}{where}{why}"


class RunSummary(Record):
    """What a notification says about a run."""

    run_id: str
    instance_id: str
    factory_id: str
    commit: str | None = None
    trigger: str = ""
    ended: datetime
    ok: bool
    built: list[Outcome] = Field(default_factory=list)
    distributed: list[Outcome] = Field(default_factory=list)
    failed: list[Outcome] = Field(default_factory=list)
    skipped: list[Outcome] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list, description="invalid configuration")
    warnings: list[str] = Field(default_factory=list)

    @property
    def title(self) -> str:
        state = "delivered" if self.ok else "failed"
        return f"Image factory {self.factory_id}: run {self.run_id} {state}"

    @property
    def counts(self) -> str:
        return (
            f"{len(self.built)} built, {len(self.distributed)} distributed, "
            f"{len(self.failed)} failed, {len(self.skipped)} skipped"
        )


class NotifyRequest(Record):
    """The activity's input: the receivers this run posts to, and what they are told."""

    notifications: list[Notification]
    summary: RunSummary


class NotifyResult(Record):
    sent: int = 0
    warnings: list[str] = Field(default_factory=list, description="receivers not reached")


def _lab_name(lab: str | None) -> str | None:
    if lab is None:
        return None
    try:
        return parse_resource_id(lab).name
    except ArmIdError:
        return lab


def _outcome(result: StepResult) -> Outcome:
    return Outcome(
        image=f"{result.family}-{result.version}",
        lab=_lab_name(result.lab),
        step=result.step if not result.ok else "",
        reason=result.reason if not result.ok else "",
    )


def summarize(report: RunReport, factory_id: str, ended: datetime) -> RunSummary:
    """The summary of a finished run's report. A run failed when an image or a copy failed,
    the configuration was invalid, a lab could not be read, or nothing could be planned."""
    nothing_done = report.plan is None and not report.dry_run
    ok = not (report.failed or report.problems or report.inventory_errors or nothing_done)
    return RunSummary(
        run_id=run_id_of(report.instance_id),
        instance_id=report.instance_id,
        factory_id=factory_id,
        commit=report.commit,
        trigger=report.trigger,
        ended=ended if ended.tzinfo else ended.replace(tzinfo=UTC),
        ok=ok,
        built=[_outcome(r) for r in report.built],
        distributed=[_outcome(r) for r in report.distributed],
        failed=[_outcome(r) for r in report.failed],
        skipped=[_outcome(r) for r in report.skipped],
        problems=report.problems,
        warnings=report.warnings,
    )


def wanted(notification: Notification, summary: RunSummary) -> bool:
    return notification.on is NotifyOn.ALWAYS or not summary.ok


def _listed(items: list[str]) -> list[str]:
    """The first items, each cut to a line's worth (Teams refuses a card over 28 KB)."""
    shown = [_clip(item, ITEM_LIMIT) for item in items[:LISTED]]
    if len(items) > LISTED:
        shown.append(f"and {len(items) - LISTED} more")
    return shown


def _sections(summary: RunSummary) -> list[tuple[str, list[str]]]:
    """The message's lists, in the order a person wants them: what went wrong first."""
    sections = [
        ("Invalid configuration", summary.problems),
        ("Failed", [o.text() for o in summary.failed]),
        ("Skipped", [o.text() for o in summary.skipped]),
        ("Built", [o.text() for o in summary.built]),
        ("Distributed", [o.text() for o in summary.distributed]),
        ("Warnings", summary.warnings),
    ]
    return [(name, _listed(items)) for name, items in sections if items]


def _facts(summary: RunSummary) -> list[tuple[str, str]]:
    return [
        ("Run", summary.instance_id),
        ("Commit", summary.commit or "unknown"),
        ("Trigger", summary.trigger or "unknown"),
        ("Outcome", summary.counts),
    ]


def teams_message(summary: RunSummary) -> dict[str, Any]:
    """An incoming webhook's message carrying one Adaptive Card."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": summary.title,
            "size": "Large",
            "weight": "Bolder",
            "color": "Good" if summary.ok else "Attention",
            "wrap": True,
        },
        {
            "type": "FactSet",
            "facts": [{"title": title, "value": value} for title, value in _facts(summary)],
        },
    ]
    for name, items in _sections(summary):
        body.append({"type": "TextBlock", "text": name, "weight": "Bolder", "wrap": True})
        body.append({"type": "TextBlock", "text": "\n".join(f"- {i}" for i in items), "wrap": True})
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": ADAPTIVE_CARD,
                "contentUrl": None,
                "content": {
                    "$schema": ADAPTIVE_CARD_SCHEMA,
                    "type": "AdaptiveCard",
                    "version": ADAPTIVE_CARD_VERSION,
                    "body": body,
                },
            }
        ],
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def slack_message(summary: RunSummary) -> dict[str, Any]:
    """An incoming webhook's message: `text` for notifications, `blocks` for the channel."""
    facts = "\n".join(f"*{title}:* {value}" for title, value in _facts(summary))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(summary.title, SLACK_HEADER_LIMIT)},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(facts, SLACK_SECTION_LIMIT)}},
    ]
    for name, items in _sections(summary):
        text = f"*{name}*\n" + "\n".join(f"• {i}" for i in items)
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip(text, SLACK_SECTION_LIMIT)},
            }
        )
    return {"text": f"{summary.title}: {summary.counts}", "blocks": blocks}


def cloud_event(summary: RunSummary) -> dict[str, Any]:
    """A CloudEvents 1.0 event, structured JSON mode; `data` is the summary itself."""
    return {
        "specversion": "1.0",
        "id": summary.instance_id,
        "source": f"/imagefactory/{summary.factory_id}",
        "type": EVENT_TYPE,
        "subject": summary.run_id,
        "time": summary.ended.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": summary.model_dump(mode="json", by_alias=True),
    }


def message(kind: NotificationKind, summary: RunSummary) -> tuple[dict[str, Any], str]:
    """The body for `kind` and its content type."""
    if kind is NotificationKind.TEAMS:
        return teams_message(summary), "application/json"
    if kind is NotificationKind.SLACK:
        return slack_message(summary), "application/json"
    return cloud_event(summary), CLOUDEVENTS_JSON
