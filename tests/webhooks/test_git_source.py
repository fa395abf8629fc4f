"""The Git configuration source against a real smart-HTTP server that wants a token."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from dulwich.repo import Repo

from scripts.push_demo import commit_files, head, init_repository, toggle_vm_size
from shared.config.loading import ConfigInvalid
from shared.git.config_source import load_config
from shared.git.source import GitSourceError, read_git
from shared.run.request import ConfigSourceRef
from tests.webhooks.conftest import CONFIG_FOLDER, GIT_TOKEN, ConfigRepo


def ref(repo: ConfigRepo, commit: str | None = None, **kwargs: str) -> ConfigSourceRef:
    values = {"path": CONFIG_FOLDER, "branch": "main", **kwargs}
    return ConfigSourceRef(kind="git", location=repo.url, commit=commit, **values)


def test_reads_the_configuration_at_exactly_the_pushed_commit(
    config_repo: ConfigRepo, tmp_path: Path
) -> None:
    first = head(config_repo.work)
    _, second, changed = toggle_vm_size(config_repo.work, folder=CONFIG_FOLDER)
    config_repo.push()
    cache = tmp_path / "cache"

    old = read_git(ref(config_repo, first), token=GIT_TOKEN, cache_dir=cache)
    new = read_git(ref(config_repo, second), token=GIT_TOKEN, cache_dir=cache)
    assert (old.commit, new.commit) == (first, second)
    relative = changed.removeprefix(CONFIG_FOLDER + "/")
    assert old.files[relative] != new.files[relative]
    assert "vmSize: Standard_D4s_v5" in new.files[relative]
    assert sorted(new.files) == sorted(
        ["factory.yaml"]
        + [f"images/{p.name}" for p in (Path("examples/factory/images")).glob("*.yaml")]
        + [f"labs/{p.name}" for p in (Path("examples/factory/labs")).glob("*.yaml")]
    )


def test_without_a_commit_the_branch_head_is_read(config_repo: ConfigRepo, tmp_path: Path) -> None:
    _, after, _ = toggle_vm_size(config_repo.work, folder=CONFIG_FOLDER)
    config_repo.push()
    snapshot = read_git(ref(config_repo), token=GIT_TOKEN, cache_dir=tmp_path)
    assert snapshot.commit == after


def test_load_config_puts_the_commit_into_the_factory(
    config_repo: ConfigRepo, tmp_path: Path
) -> None:
    commit = head(config_repo.work)
    factory = load_config(ref(config_repo, commit), GIT_TOKEN, cache_dir=str(tmp_path))
    assert factory.commit == commit
    assert "ubuntu2204-base" in factory.images


def test_a_cached_commit_is_read_without_asking_the_server(
    config_repo: ConfigRepo, tmp_path: Path
) -> None:
    commit = head(config_repo.work)
    read_git(ref(config_repo, commit), token=GIT_TOKEN, cache_dir=tmp_path)
    before = config_repo.server.requests
    again = read_git(ref(config_repo, commit), token=GIT_TOKEN, cache_dir=tmp_path)
    assert again.commit == commit
    assert config_repo.server.requests == before


def test_a_later_commit_fetches_only_what_is_new(config_repo: ConfigRepo, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    read_git(ref(config_repo), token=GIT_TOKEN, cache_dir=cache)
    [cached] = cache.glob("*.git")
    _, after, _ = toggle_vm_size(config_repo.work, folder=CONFIG_FOLDER)
    config_repo.push()
    packs = set((cached / "objects" / "pack").glob("*.pack"))
    snapshot = read_git(ref(config_repo, after), token=GIT_TOKEN, cache_dir=cache)
    assert snapshot.commit == after
    new_packs = set((cached / "objects" / "pack").glob("*.pack")) - packs
    assert new_packs, "the new commit was fetched into the cache"
    # The new pack holds the new commit, its trees and the one changed file: not the world.
    assert sum(p.stat().st_size for p in new_packs) < sum(p.stat().st_size for p in packs) / 2


def test_a_commit_on_another_branch_is_refused(config_repo: ConfigRepo, tmp_path: Path) -> None:
    """Only the configured branch is built: an unreviewed branch's commit is not."""
    with Repo(str(config_repo.work)) as work:
        work.refs[b"refs/heads/side"] = work.refs[b"refs/heads/main"]  # type: ignore[index]
    _, side = commit_files(config_repo.work, {"notes.txt": b"side"}, "side branch", branch="side")
    config_repo.push("side")
    with pytest.raises(GitSourceError, match=f"^Commit {side} is not on branch main of http"):
        read_git(ref(config_repo, side), token=GIT_TOKEN, cache_dir=tmp_path)
    # The same commit once merged into main is read.
    _, merged = commit_files(config_repo.work, {"notes.txt": b"side"}, "merge side")
    config_repo.push()
    assert read_git(ref(config_repo, merged), token=GIT_TOKEN, cache_dir=tmp_path).commit == merged


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_the_server_refuses_a_missing_or_wrong_token(
    config_repo: ConfigRepo, tmp_path: Path, token: str | None
) -> None:
    refused = config_repo.server.refused
    with pytest.raises(GitSourceError, match="refused the credentials; check IMAGEFACTORY"):
        read_git(ref(config_repo), token=token, cache_dir=tmp_path)
    assert config_repo.server.refused > refused


def test_errors_name_what_is_missing(config_repo: ConfigRepo, tmp_path: Path) -> None:
    with pytest.raises(GitSourceError, match=r"^Commit 1{40} is not on branch main of http"):
        read_git(ref(config_repo, "1" * 40), token=GIT_TOKEN, cache_dir=tmp_path)
    with pytest.raises(GitSourceError, match=r"^The branch nope does not exist in http"):
        read_git(ref(config_repo, branch="nope"), token=GIT_TOKEN, cache_dir=tmp_path)
    with pytest.raises(GitSourceError, match=r"^The folder elsewhere does not exist at commit"):
        read_git(ref(config_repo, path="elsewhere"), token=GIT_TOKEN, cache_dir=tmp_path)
    with pytest.raises(GitSourceError, match=r"is not a full Git commit id"):
        read_git(ref(config_repo, "main"), token=GIT_TOKEN, cache_dir=tmp_path)
    with pytest.raises(GitSourceError, match=r"^Cannot fetch http://127\.0\.0\.1:\d+/none\.git"):
        missing = ConfigSourceRef(kind="git", location=config_repo.server.base_url + "/none.git")
        read_git(missing, token=GIT_TOKEN, cache_dir=tmp_path)


def test_the_token_never_appears_in_errors(config_repo: ConfigRepo, tmp_path: Path) -> None:
    with pytest.raises(GitSourceError) as info:
        read_git(ref(config_repo, "1" * 40), token=GIT_TOKEN, cache_dir=tmp_path)
    assert GIT_TOKEN not in str(info.value)


def test_a_local_repository_path_is_read_in_place(tmp_path: Path) -> None:
    repo = tmp_path / "config.git"
    first = init_repository(repo)
    _, second, _ = toggle_vm_size(repo)
    at_head = read_git(ConfigSourceRef(kind="git", location=str(repo)))
    at_first = read_git(ConfigSourceRef(kind="git", location=f"file://{repo}", commit=first))
    assert (at_head.commit, at_first.commit) == (second, first)
    assert at_head.files["factory.yaml"] == at_first.files["factory.yaml"]
    with pytest.raises(GitSourceError, match="is not a Git repository"):
        read_git(ConfigSourceRef(kind="git", location=str(tmp_path / "nothing")))


def test_files_that_are_not_utf8_are_configuration_problems(tmp_path: Path) -> None:
    repo = tmp_path / "config.git"
    init_repository(repo)
    commit_files(repo, {"labs/bad.yaml": b"lab: \xff\xfe\n"}, "bad bytes")
    with pytest.raises(ConfigInvalid, match=r"labs/bad.yaml:1: is not UTF-8 text"):
        load_config(ConfigSourceRef(kind="git", location=str(repo)))


def test_only_configuration_files_are_read(tmp_path: Path) -> None:
    repo = tmp_path / "config.git"
    init_repository(repo)
    commit_files(
        repo,
        {"README.md": b"# x", "images/notes.txt": b"x", "images/deep/x.yaml": b"name: x"},
        "other files",
    )
    files = read_git(ConfigSourceRef(kind="git", location=str(repo))).files
    assert "README.md" not in files
    assert not [f for f in files if f.endswith(".txt") or f.count("/") > 1]


def test_concurrent_reads_share_one_cache(config_repo: ConfigRepo, tmp_path: Path) -> None:
    """Activities of parallel runs read through the same cache at once."""
    _, after, _ = toggle_vm_size(config_repo.work, folder=CONFIG_FOLDER)
    config_repo.push()
    with ThreadPoolExecutor(max_workers=6) as pool:
        snapshots = list(
            pool.map(
                lambda commit: read_git(
                    ref(config_repo, commit), token=GIT_TOKEN, cache_dir=tmp_path / "cache"
                ),
                [after, None] * 3,
            )
        )
    assert {s.commit for s in snapshots} == {after}
    assert len({tuple(sorted(s.files.items())) for s in snapshots}) == 1


def test_a_local_repository_refuses_a_commit_of_another_branch(tmp_path: Path) -> None:
    """The branch rule holds for a repository path as it does over HTTPS."""
    repo = tmp_path / "config.git"
    first = init_repository(repo)
    with Repo(str(repo)) as bare:
        bare.refs[b"refs/heads/side"] = bare.refs[b"refs/heads/main"]  # type: ignore[index]
    _, side = commit_files(repo, {"images/extra.yaml": b"name: extra\n"}, "side", branch="side")
    location = str(repo)
    with pytest.raises(GitSourceError, match=f"^Commit {side} is not on branch main of "):
        read_git(ConfigSourceRef(kind="git", location=location, commit=side))
    assert read_git(ConfigSourceRef(kind="git", location=location, commit=first)).commit == first
    side_ref = ConfigSourceRef(kind="git", location=location, branch="side", commit=side)
    assert read_git(side_ref).commit == side


def test_a_cached_commit_rewritten_away_from_the_branch_is_refused(
    config_repo: ConfigRepo, tmp_path: Path
) -> None:
    """A commit fetched while it was on the branch is not built once the factory has seen
    the branch no longer hold it (a force push rewrote it away), though its objects are
    still in the cache. (Until a fetch shows the rewrite, a cached commit on the branch as
    last fetched is read without asking the server.)"""
    before, after, _ = toggle_vm_size(config_repo.work, folder=CONFIG_FOLDER)
    config_repo.push()
    assert read_git(ref(config_repo, after), token=GIT_TOKEN, cache_dir=tmp_path).commit == after
    with Repo(str(config_repo.work)) as work:
        work.refs[b"refs/heads/main"] = before.encode()  # type: ignore[index,assignment]
    _, rewritten = commit_files(config_repo.work, {"notes.txt": b"rewritten"}, "rewrite")
    config_repo.push(force=True)
    assert read_git(ref(config_repo), token=GIT_TOKEN, cache_dir=tmp_path).commit == rewritten
    with pytest.raises(GitSourceError, match=f"^Commit {after} is not on branch main of http"):
        read_git(ref(config_repo, after), token=GIT_TOKEN, cache_dir=tmp_path)
    assert (
        read_git(ref(config_repo, rewritten), token=GIT_TOKEN, cache_dir=tmp_path).commit
        == rewritten
    )
