"""GitLab: the secret token and the push payload (a truncated commit list)."""

from __future__ import annotations

import json

import pytest

from shared.webhooks.auth import WebhookAuthError
from shared.webhooks.providers.gitlab import parse_gitlab, verify_gitlab
from shared.webhooks.push_events import PayloadError
from tests.webhooks import payloads as p


def body(payload: object) -> bytes:
    return json.dumps(payload).encode()


def test_gitlab_token_is_compared_exactly() -> None:
    verify_gitlab("t0ken", {"x-gitlab-token": "t0ken"})
    for wrong in ("t0ken ", "T0KEN", "t0ke", ""):
        with pytest.raises(WebhookAuthError):
            verify_gitlab("t0ken", {"x-gitlab-token": wrong})


def test_messages_never_carry_the_received_credentials() -> None:
    with pytest.raises(WebhookAuthError) as info:
        verify_gitlab("expected-token", {"x-gitlab-token": "received-token"})
    assert "received-token" not in info.value.message
    assert "expected-token" not in info.value.message


def test_gitlab_paths_are_unknown_when_gitlab_truncated_the_commit_list() -> None:
    payload = {**p.gitlab_payload("a" * 40), "total_commits_count": 25}
    assert parse_gitlab({}, body(payload)).changed_paths is None
    complete = parse_gitlab({"idempotency-key": "k"}, body(p.gitlab_payload("a" * 40)))
    assert complete.changed_paths == ("config/factory.yaml",)
    assert complete.delivery_id == "k"
    assert complete.provider == "gitlab"


def test_the_event_uuid_is_the_delivery_when_there_is_no_idempotency_key() -> None:
    push = parse_gitlab({"x-gitlab-event-uuid": "u"}, body(p.gitlab_payload("a" * 40)))
    assert push.delivery_id == "u"


def test_other_object_kinds_are_not_pushes() -> None:
    payload = {**p.gitlab_payload("a" * 40), "object_kind": "merge_request"}
    with pytest.raises(PayloadError, match="GitLab 'merge_request' event, not a push"):
        parse_gitlab({}, body(payload))
