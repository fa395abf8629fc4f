"""Notifications: the payloads each service documents (pure), and their posting against a
local receiver that checks them: retried on 5xx, 429 and unreachable receivers, never on
another 4xx, and a receiver not reached is a warning that never names its URL."""

from __future__ import annotations

import shutil
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.azure.notify import ATTEMPTS, Poster, notify
from shared.config.loading import ConfigInvalid, load_directory
from shared.config.models import Notification, NotificationKind, NotifyOn
from shared.planning.plan import Plan, Trigger
from shared.run.notifications import (
    CLOUDEVENTS_JSON,
    LISTED,
    RunSummary,
    cloud_event,
    message,
    slack_message,
    summarize,
    teams_message,
    wanted,
)
from shared.run.payloads import RunReport, StepResult
from tests.run.receiver import Post, check_cloud_event, check_slack, check_teams, receiver

ROOT = Path(__file__).resolve().parents[2]
LAB = (
    "/subscriptions/6f1c2a3b-0d4e-4f5a-9b8c-1d2e3f4a5b6c/resourceGroups/rg"
    "/providers/Microsoft.DevTestLab/labs/dev-weu"
)
INSTANCE = "push-0123abcd:1"
ENDED = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)


def _report(failed: bool = True, copies: int = 1) -> RunReport:
    return RunReport(
        instance_id=INSTANCE,
        commit="0123456789abcdef",
        trigger="push",
        plan=Plan(factory_id="contoso-images", now=ENDED, trigger=Trigger(kind="push")),
        built=[StepResult(family="win2022-base", version="20260301", ok=True)],
        distributed=[
            StepResult(family="win2022-base", version="20260301", lab=LAB, ok=True)
            for _ in range(copies)
        ],
        failed=[
            StepResult(
                family="ubuntu2204-base",
                version="20260301",
                ok=False,
                step="create build VM",
                reason="AllocationFailed: not enough capacity",
            )
        ]
        if failed
        else [],
        skipped=[
            StepResult(
                family="ubuntu2404-docker",
                version="20260301",
                ok=False,
                step="blocked",
                reason="its base ubuntu2204-base failed",
            )
        ]
        if failed
        else [],
        warnings=["retirement was not queued: throttled"],
    )


def _summary(failed: bool = True, copies: int = 1) -> RunSummary:
    return summarize(_report(failed, copies), "contoso-images", ENDED)


def _post(body: dict[str, object], content_type: str = "application/json") -> Post:
    return Post("/", content_type, body)


def test_the_summary_says_what_was_built_distributed_failed_and_skipped() -> None:
    summary = _summary()
    assert not summary.ok
    assert summary.run_id == "push-0123abcd"
    assert [o.text() for o in summary.built] == ["win2022-base-20260301"]
    assert [o.text() for o in summary.distributed] == ["win2022-base-20260301 in dev-weu"]
    assert [o.text() for o in summary.failed] == [
        "ubuntu2204-base-20260301: create build VM, AllocationFailed: not enough capacity"
    ]
    assert summary.skipped[0].reason == "its base ubuntu2204-base failed"
    assert _summary(failed=False).ok
    # an invalid configuration, an unreadable lab, or nothing planned is a failed run
    assert not summarize(RunReport(instance_id="x", problems=["bad"]), "f", ENDED).ok
    assert not summarize(RunReport(instance_id="x", warnings=["no inventory"]), "f", ENDED).ok
    assert summarize(RunReport(instance_id="x", dry_run=True), "f", ENDED).ok


def test_teams_gets_an_adaptive_card_message_with_the_run_and_its_failure() -> None:
    card = check_teams(_post(teams_message(_summary())))
    text = str(card["body"])
    for said in (INSTANCE, "0123456789abcdef", "create build VM", "AllocationFailed"):
        assert said in text, said
    assert card["body"][0]["color"] == "Attention"
    assert check_teams(_post(teams_message(_summary(False))))["body"][0]["color"] == "Good"


def test_slack_gets_text_and_blocks_within_its_limits() -> None:
    body = check_slack(_post(slack_message(_summary(copies=500))))
    assert "failed" in body["text"] and "1 failed" in body["text"]
    shown = " ".join(b["text"]["text"] for b in body["blocks"])
    assert "AllocationFailed" in shown and INSTANCE in shown
    # a long list is cut to its first items and a count
    assert f"and {500 - LISTED} more" in shown


def test_a_long_reason_is_cut_in_the_messages_but_kept_in_the_event() -> None:
    long = "x" * 5000
    report = _report().model_copy(
        update={
            "failed": [StepResult(family="a", version="1", ok=False, step="capture", reason=long)]
        }
    )
    summary = summarize(report, "contoso-images", ENDED)
    card = check_teams(_post(teams_message(summary)))
    assert long not in str(card) and "x" * 200 in str(card)
    assert long not in str(check_slack(_post(slack_message(summary))))
    assert cloud_event(summary)["data"]["failed"][0]["reason"] == long


def test_a_cloud_event_carries_the_instance_id_and_the_summary() -> None:
    summary = _summary()
    event = check_cloud_event(_post(cloud_event(summary), CLOUDEVENTS_JSON))
    assert event["id"] == INSTANCE  # a retried post is the same event
    assert event["source"] == "/imagefactory/contoso-images"
    assert event["time"] == "2026-03-01T02:30:00Z"
    assert RunSummary.model_validate(event["data"]) == summary
    # the orchestration's naive UTC clock is stated as UTC
    naive = summarize(_report(), "contoso-images", ENDED.replace(tzinfo=None))
    assert cloud_event(naive)["time"] == event["time"]


def test_failure_only_receivers_hear_of_failed_runs_only() -> None:
    on_failure = Notification(kind=NotificationKind.SLACK, url_setting="S", on=NotifyOn.FAILURE)
    always = Notification(kind=NotificationKind.SLACK, url_setting="S")
    assert wanted(on_failure, _summary()) and not wanted(on_failure, _summary(False))
    assert wanted(always, _summary(False))


def _notification(kind: str, setting: str) -> Notification:
    return Notification(kind=NotificationKind(kind), url_setting=setting)


def test_each_receiver_gets_its_documented_payload() -> None:
    with receiver() as hooks:
        environ = {
            "TEAMS_URL": hooks.answer("/teams", 200),
            "SLACK_URL": hooks.answer("/slack", 200),
            "EVENTS_URL": hooks.answer("/events", 202),
        }
        result = notify(
            [
                _notification("teams", "TEAMS_URL"),
                _notification("slack", "SLACK_URL"),
                _notification("cloudevents", "EVENTS_URL"),
            ],
            _summary(),
            Poster(environ=environ),
        )
    assert (result.sent, result.warnings) == (3, [])
    check_teams(hooks.at("/teams")[0])
    check_slack(hooks.at("/slack")[0])
    assert check_cloud_event(hooks.at("/events")[0])["id"] == INSTANCE


def test_5xx_and_429_are_retried_with_the_same_event_and_retry_after_honoured() -> None:
    waits: list[float] = []
    with receiver() as hooks:
        environ = {"URL": hooks.answer("/e", 503, (429, {"Retry-After": "7"}), 200)}
        result = notify(
            [_notification("cloudevents", "URL")],
            _summary(),
            Poster(environ=environ, sleep=waits.append),
        )
    assert (result.sent, result.warnings) == (1, [])
    posts = hooks.at("/e")
    assert len(posts) == 3
    assert len({p.body["id"] for p in posts}) == 1
    assert waits == [1.0, 7.0]


def test_a_4xx_is_not_retried_and_a_dead_receiver_is_a_warning_without_its_url() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/secret-token"
    waits: list[float] = []
    with receiver() as hooks:
        environ = {
            "GONE": hooks.answer("/gone-secret", 404),
            "DOWN": hooks.answer("/down-secret", 500),
            "DEAD": dead,
            "VAULT": "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/t/)",
        }
        result = notify(
            [
                _notification("teams", "GONE"),
                _notification("slack", "DOWN"),
                _notification("cloudevents", "DEAD"),
                _notification("teams", "UNSET"),
                _notification("slack", "VAULT"),
            ],
            _summary(),
            Poster(environ=environ, sleep=waits.append),
        )
    assert result.sent == 0
    assert len(hooks.at("/gone-secret")) == 1
    assert len(hooks.at("/down-secret")) == ATTEMPTS
    gone, down, unreachable, unset, vault = result.warnings
    assert "HTTP 404" in gone and "GONE" in gone
    assert f"after {ATTEMPTS} attempts" in down and "HTTP 500" in down
    assert "could not be reached" in unreachable
    assert "UNSET is not set" in unset
    assert "VAULT holds no http(s) URL" in vault and "kv.vault" not in vault
    assert not any("secret" in w or "127.0.0.1" in w for w in result.warnings)


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_has_a_message(kind: NotificationKind) -> None:
    body, content_type = message(kind, _summary())
    checks = {"teams": check_teams, "slack": check_slack, "cloudevents": check_cloud_event}
    checks[kind.value](Post("/", content_type, body))


@pytest.mark.parametrize(
    ("entry", "line", "expected"),
    [
        ("  - kind: discord\n    urlSetting: X\n", 1, "notifications[0].kind: expected one of"),
        (
            "  - kind: slack\n    urlSetting: https://hooks.slack.com/services/T/B/x\n",
            2,
            "notifications[0].urlSetting: expected the name of the app setting",
        ),
        ("  - kind: slack\n    urlSetting: 1URL\n", 2, "expected an app setting's name"),
        ("  - kind: teams\n    urlSetting: T\n    on: sometimes\n", 3, "notifications[0].on"),
        ("  - kind: teams\n    url: T\n", 2, "notifications[0].url: unknown key 'url'"),
    ],
)
def test_a_bad_notification_is_one_sentence_with_file_and_line(
    tmp_path: Path, entry: str, line: int, expected: str
) -> None:
    root = tmp_path / "factory"
    shutil.copytree(ROOT / "examples" / "factory", root)
    factory_yaml = root / "factory.yaml"
    lines = len(factory_yaml.read_text().splitlines())
    with factory_yaml.open("a") as f:
        f.write("notifications:\n" + entry)
    with pytest.raises(ConfigInvalid) as caught:
        load_directory(root)
    problems = str(caught.value).splitlines()
    where = f"factory.yaml:{lines + 1 + line}: "
    assert any(p.startswith(where) and expected in p for p in problems), problems


def test_notifications_load_from_factory_yaml(tmp_path: Path) -> None:
    root = tmp_path / "factory"
    shutil.copytree(ROOT / "examples" / "factory", root)
    with (root / "factory.yaml").open("a") as f:
        f.write("notifications:\n  - kind: teams\n    urlSetting: TEAMS_URL\n    on: failure\n")
    (loaded,) = load_directory(root).settings.notifications
    assert loaded == Notification(
        kind=NotificationKind.TEAMS, url_setting="TEAMS_URL", on=NotifyOn.FAILURE
    )
