"""Parsing of the providers' push payloads and the repository and folder filters."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.webhooks.push_events import (
    GITHUB_MAX_COMMITS,
    PayloadError,
    normalize_repository_url,
    parse_azure_devops,
    parse_github,
    parse_gitlab,
    touches_folder,
)
from tests.webhooks import payloads as p


def body(payload: object) -> bytes:
    return json.dumps(payload).encode()


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


def test_gitlab_paths_are_unknown_when_gitlab_truncated_the_commit_list() -> None:
    payload = {**p.gitlab_payload("a" * 40), "total_commits_count": 25}
    assert parse_gitlab({}, body(payload)).changed_paths is None
    complete = parse_gitlab({"idempotency-key": "k"}, body(p.gitlab_payload("a" * 40)))
    assert complete.changed_paths == ("config/factory.yaml",)
    assert complete.delivery_id == "k"


def test_azure_devops_paths_are_always_unknown() -> None:
    payload = p.ado_payload("a" * 40)
    push = parse_azure_devops({}, body(payload))
    assert push.changed_paths is None
    assert push.delivery_id == payload["id"]
    assert push.repository_urls == (p.REPO_URL,)


def test_upper_case_commit_ids_are_normalised() -> None:
    push = parse_github({}, body(p.github_payload("A" * 40)))
    assert push.updates[0].after == "a" * 40


def test_messages_name_the_field() -> None:
    payload = p.github_payload("a" * 40)
    del payload["repository"]
    with pytest.raises(PayloadError, match=r"repository: Field required\.$"):
        parse_github({}, body(payload))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://github.com/Contoso/Config.git", "https://github.com/contoso/config"),
        ("git@github.com:contoso/config.git", "https://github.com/contoso/config"),
        ("ssh://git@github.com/contoso/config.git", "https://github.com/contoso/config/"),
        (
            "https://contoso@dev.azure.com/contoso/images/_git/config",
            "https://dev.azure.com/contoso/images/_git/config",
        ),
        ("https://gitlab.example.com:8443/g/config.git", "https://gitlab.example.com/g/config"),
        ("file:///srv/git/config.git", "/srv/git/config"),
    ],
)
def test_repository_urls_compare_by_what_identifies_the_repository(a: str, b: str) -> None:
    assert normalize_repository_url(a) == normalize_repository_url(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://github.com/contoso/config", "https://github.com/contoso/config2"),
        ("https://github.com/contoso/config", "https://gitlab.com/contoso/config"),
        ("https://github.com/contoso/config", "https://github.com/other/config"),
    ],
)
def test_different_repositories_stay_different(a: str, b: str) -> None:
    assert normalize_repository_url(a) != normalize_repository_url(b)


def test_touches_folder_is_a_folder_match_not_a_prefix_match() -> None:
    changed = ["config/factory.yaml", "configuration/x.yaml", "config", "docs/config/a"]
    assert touches_folder(changed, "config") == ["config", "config/factory.yaml"]
    assert touches_folder(changed, "/config/") == ["config", "config/factory.yaml"]
    assert touches_folder(changed, "") == sorted(changed)
