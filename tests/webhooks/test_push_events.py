"""What every provider's push shares: commit ids, changed paths, the repository and
folder filters."""

from __future__ import annotations

import pytest

from shared.webhooks.push_events import (
    MAX_CHANGED_PATHS,
    FileChanges,
    PayloadError,
    changed_paths,
    commit_id,
    normalize_repository_url,
    repository_urls,
    touches_folder,
)


def test_commit_ids_are_forty_or_sixty_four_hex_digits() -> None:
    assert commit_id(" ABC" + "0" * 37 + " ", "after") == "abc" + "0" * 37
    assert commit_id("f" * 64, "after") == "f" * 64
    assert commit_id("0" * 40, "before") == "0" * 40  # no commit: a new or deleted branch
    for wrong in ("a" * 39, "g" * 40, "0" * 39, ""):
        with pytest.raises(PayloadError, match="after is not a Git commit id"):
            commit_id(wrong, "after")


def test_too_many_changed_paths_travel_as_unknown() -> None:
    few = [FileChanges(added=["/a"], modified=["b"]), FileChanges(removed=["a"])]
    assert changed_paths(few) == ("a", "b")
    many = [FileChanges(added=[f"f{i}" for i in range(MAX_CHANGED_PATHS + 1)])]
    assert changed_paths(many) is None


def test_repository_urls_are_named_once_in_order() -> None:
    assert repository_urls("b", None, "a", "b", "") == ("b", "a")


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
