"""GitHub: the signature (with GitHub's published test vector) and the push payload."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.webhooks.auth import WebhookAuthError
from shared.webhooks.providers.github import (
    GITHUB_MAX_COMMITS,
    github_signature,
    parse_github,
    verify_github,
)
from shared.webhooks.push_events import PayloadError
from tests.webhooks import payloads as p


def body(payload: object) -> bytes:
    return json.dumps(payload).encode()


def test_github_signature_matches_githubs_documented_example() -> None:
    # docs.github.com, "Validating webhook deliveries": testing the webhook payload validation.
    signature = github_signature("It's a Secret to Everybody", b"Hello, World!")
    assert signature == ("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")


@given(secret=st.text(min_size=1), body=st.binary())
def test_a_genuine_github_signature_is_accepted(secret: str, body: bytes) -> None:
    verify_github(secret, {"x-hub-signature-256": github_signature(secret, body)}, body)
    upper = github_signature(secret, body).upper().replace("SHA256=", "sha256=")
    verify_github(secret, {"x-hub-signature-256": upper}, body)


@given(secret=st.text(min_size=1), body=st.binary(), other=st.binary())
def test_a_signature_of_another_body_is_refused(secret: str, body: bytes, other: bytes) -> None:
    if body == other:
        return
    with pytest.raises(WebhookAuthError) as info:
        verify_github(secret, {"x-hub-signature-256": github_signature(secret, other)}, body)
    assert info.value.code == "signature_invalid"


def test_the_sha1_header_alone_is_not_enough() -> None:
    with pytest.raises(WebhookAuthError) as info:
        verify_github("s", {"x-hub-signature": "sha1=00"}, b"{}")
    assert info.value.code == "signature_missing"


@given(
    commits=st.lists(
        st.fixed_dictionaries(
            {
                "added": st.lists(p.paths, max_size=3),
                "modified": st.lists(p.paths, max_size=3),
                "removed": st.lists(p.paths, max_size=3),
            }
        ),
        min_size=1,
        max_size=5,
    )
)
def test_github_changed_paths_are_the_union_over_the_commits(
    commits: list[dict[str, list[str]]],
) -> None:
    payload = p.github_payload("a" * 40)
    payload["commits"] = commits
    push = parse_github({"x-github-delivery": "d-1"}, body(payload))
    expected = {
        path for c in commits for key in ("added", "modified", "removed") for path in c[key]
    }
    assert push.changed_paths == tuple(sorted(expected))
    assert push.delivery_id == "d-1"
    assert push.provider == "github"
    assert push.updates[0].branch == "main" and push.updates[0].after == "a" * 40


@pytest.mark.parametrize(
    "change",
    [
        {"forced": True},
        {"created": True},
        {"before": "0" * 40},
        {"commits": []},
        {"commits": [{"added": ["x"]}] * GITHUB_MAX_COMMITS},
    ],
)
def test_github_paths_are_unknown_when_the_commit_list_cannot_be_complete(
    change: dict[str, object],
) -> None:
    payload = {**p.github_payload("a" * 40), **change}
    assert parse_github({}, body(payload)).changed_paths is None


def test_upper_case_commit_ids_are_normalised() -> None:
    push = parse_github({}, body(p.github_payload("A" * 40)))
    assert push.updates[0].after == "a" * 40


def test_messages_name_the_field() -> None:
    payload = p.github_payload("a" * 40)
    del payload["repository"]
    with pytest.raises(PayloadError, match=r"repository: Field required\.$"):
        parse_github({}, body(payload))
