"""Read the configuration files of a Git repository at one commit, without a working tree.

The location is a smart-HTTP(S) URL (the token from IMAGEFACTORY_GIT_TOKEN goes as basic
auth with IMAGEFACTORY_GIT_USERNAME, never into the URL) or a local repository path.
Fetched objects are kept in a bare repository under the cache directory, one per
location, so later runs fetch only what is new; a commit already there is read without
asking the server at all. The fetched branch heads are kept as the cache's refs, so the
next fetch tells the server what is already there and receives only what is new.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import cast

from dulwich.client import HTTPUnauthorized, get_transport_and_path
from dulwich.config import ConfigDict
from dulwich.errors import NotGitRepository, NotTreeError
from dulwich.file import FileLocked
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.refs import Ref
from dulwich.repo import BaseRepo, Repo

from shared.config.loading import (
    FACTORY_FILE,
    IMAGES_DIR,
    LABS_DIR,
    YAML_SUFFIXES,
    Problem,
    decode,
)
from shared.model.text import first_line
from shared.run.request import ConfigSourceRef

DEFAULT_USERNAME = "x-access-token"
CACHE_FOLDER = "imagefactory-git"
COMMIT_ID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_SCP_LIKE = re.compile(r"^[^/\\]+@[^/\\:]+:")
_FILE_MODE = 0o100000  # regular file (0o100644, 0o100755)
_LINK_MODE = 0o120000  # a symbolic link: its target is never followed, in or out of the commit
_TYPE_BITS = 0o170000
_LINK_REFUSED = "is a symbolic link; expected a regular file (links are not followed)"

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


class GitSourceError(Exception):
    """The repository, branch or commit cannot be read; the message says which and why."""


@dataclass(frozen=True)
class GitSnapshot:
    """The configuration files at one commit, by path relative to the configuration folder."""

    commit: str
    files: Mapping[str, str]
    unreadable: tuple[Problem, ...] = ()


def is_remote(location: str) -> bool:
    """A URL (https://, ssh://, git://) or `user@host:path`; `file://` and paths are local."""
    if location.lower().startswith("file://"):
        return False
    return bool(_URL.match(location) or _SCP_LIKE.match(location))


def display(location: str) -> str:
    """The location without any user info, for messages."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", location, flags=re.IGNORECASE)


def read_git(
    ref: ConfigSourceRef,
    *,
    token: str | None = None,
    username: str = DEFAULT_USERNAME,
    ca_bundle: str | None = None,
    cache_dir: str | Path | None = None,
) -> GitSnapshot:
    """The configuration files at `ref.commit`, or at the head of `ref.branch` if no commit."""
    commit = _commit_id(ref.commit) if ref.commit else None
    remote = is_remote(ref.location)
    with _cache_repo(ref.location, cache_dir) if remote else _open_local(ref.location) as repo:
        if remote:
            with _lock_for(Path(repo.path)):
                sha = _fetch(repo, ref, commit, token, username, ca_bundle)
        else:
            head = _local_head(repo, ref)
            sha = commit or head
            if _missing(repo, sha):
                raise GitSourceError(f"Commit {sha} is not in the repository at {ref.location}.")
            if not _on_branch(repo, sha, head):
                raise GitSourceError(
                    f"Commit {sha} is not on branch {ref.branch} of {ref.location}."
                )
        problems: list[Problem] = []
        files = read_files(repo, sha, ref.path, problems)
        return GitSnapshot(commit=sha, files=files, unreadable=tuple(problems))


def read_files(
    repo: BaseRepo, commit: str, folder: str = "", problems: list[Problem] | None = None
) -> dict[str, str]:
    """factory.yaml, images/*.yaml and labs/*.yaml under `folder` at `commit`.

    Only regular files of the commit are read: a symbolic link is never followed (it could
    name a file outside the commit), it is a problem added to `problems`, as is a file that
    is not UTF-8 text."""
    problems = [] if problems is None else problems
    obj = repo[cast(ObjectID, commit.encode())]
    if not isinstance(obj, Commit):
        raise GitSourceError(f"{commit} is a {obj.type_name.decode()}, not a commit.")
    tree = repo[obj.tree]
    assert isinstance(tree, Tree)
    folder = folder.replace("\\", "/").strip("/")
    if folder:
        try:
            _, sha = tree.lookup_path(repo.__getitem__, folder.encode())
            found = repo[sha]
        except (KeyError, NotTreeError):
            found = None
        if not isinstance(found, Tree):
            raise GitSourceError(f"The folder {folder} does not exist at commit {commit}.")
        tree = found
    files: dict[str, str] = {}

    def add(path: str, mode: int, sha: ObjectID) -> None:
        if mode & _TYPE_BITS == _LINK_MODE:
            problems.append(Problem(path, 0, "", _LINK_REFUSED))
            return
        blob = repo[sha] if mode & _TYPE_BITS == _FILE_MODE else None
        if isinstance(blob, Blob):
            text = decode(path, blob.as_raw_string())
            if isinstance(text, Problem):
                problems.append(text)
            else:
                files[path] = text

    top = _entry(tree, FACTORY_FILE)
    if top is not None:
        add(FACTORY_FILE, *top)
    for sub in (IMAGES_DIR, LABS_DIR):
        entry = _entry(tree, sub)
        if entry is not None and entry[0] & _TYPE_BITS == _LINK_MODE:
            problems.append(Problem(sub, 0, "", _LINK_REFUSED))
            continue
        if entry is None or not isinstance(repo[entry[1]], Tree):
            continue
        subtree = repo[entry[1]]
        assert isinstance(subtree, Tree)
        for item in sorted(subtree.iteritems(), key=lambda e: e.path):
            name = item.path.decode("utf-8", errors="replace")
            if PurePosixPath(name).suffix in YAML_SUFFIXES:
                add(f"{sub}/{name}", item.mode, item.sha)
    return files


# Internals ---------------------------------------------------------------------------------


def _commit_id(value: str) -> str:
    text = value.strip().lower()
    if not COMMIT_ID.match(text):
        raise GitSourceError(f"'{value}' is not a full Git commit id (40 or 64 hex digits).")
    return text


def _entry(tree: Tree, name: str) -> tuple[int, ObjectID] | None:
    try:
        mode, sha = tree[name.encode()]
    except KeyError:
        return None
    return mode, sha


def _missing(repo: BaseRepo, sha: str) -> bool:
    return cast(ObjectID, sha.encode()) not in repo.object_store


def _branch_ref(branch: str) -> Ref:
    return cast(Ref, f"refs/heads/{branch}".encode())


def _open_local(location: str) -> Repo:
    path = location[len("file://") :] if location.lower().startswith("file://") else location
    try:
        return Repo(path)
    except (NotGitRepository, FileNotFoundError, NotADirectoryError) as exc:
        raise GitSourceError(f"{location} is not a Git repository.") from exc


def _local_head(repo: Repo, ref: ConfigSourceRef) -> str:
    try:
        return repo.refs[_branch_ref(ref.branch)].decode()
    except KeyError as exc:
        raise GitSourceError(
            f"The branch {ref.branch} does not exist in the repository at {ref.location}."
        ) from exc


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


def _cache_repo(location: str, cache_dir: str | Path | None) -> Repo:
    root = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / CACHE_FOLDER
    key = hashlib.sha256(display(location).encode()).hexdigest()[:24]
    path = root / f"{key}.git"
    with _lock_for(path):
        if (path / "objects").is_dir():
            return Repo(str(path))
        path.mkdir(parents=True, exist_ok=True)
        try:
            return Repo.init_bare(str(path))
        except FileExistsError:  # another process made it just now
            return Repo(str(path))


def _fetch(
    repo: Repo,
    ref: ConfigSourceRef,
    commit: str | None,
    token: str | None,
    username: str,
    ca_bundle: str | None,
) -> str:
    """Fetch what is needed into the cache; the commit to read."""
    if commit is not None and not _missing(repo, commit):
        cached = repo.refs.as_dict().get(_branch_ref(ref.branch))
        if cached is not None and _on_branch(repo, commit, cached.decode()):
            return commit  # on the branch as last fetched: no need to ask the server
    config = ConfigDict()
    if ca_bundle:
        config.set((b"http",), b"sslCAInfo", ca_bundle.encode())
    where = display(ref.location)
    branch = _branch_ref(ref.branch)
    heads: dict[Ref, ObjectID] = {}

    def branch_head(refs: Mapping[Ref, ObjectID], depth: int | None = None) -> list[ObjectID]:
        heads.update({k: v for k, v in refs.items() if k.startswith(b"refs/heads/")})
        return _new(repo, [refs[branch]] if branch in refs else [])

    try:
        client, path = get_transport_and_path(
            ref.location,
            config=config,
            username=username if token else None,
            password=token,
            quiet=True,
        )
        # Only the configured branch is fetched: a commit that is not on it (another
        # branch, or rewritten away) is never built.
        client.fetch(path, repo, determine_wants=branch_head)
    except HTTPUnauthorized as exc:
        raise GitSourceError(
            f"The Git server at {where} refused the credentials; check IMAGEFACTORY_GIT_TOKEN "
            "and IMAGEFACTORY_GIT_USERNAME."
        ) from exc
    except Exception as exc:  # protocol, network and TLS errors differ by library version
        raise GitSourceError(f"Cannot fetch {where}: {first_line(exc).rstrip('.')}.") from exc
    for name, sha in heads.items():
        if sha in repo.object_store:
            # What the next fetch reports as already here; only a hint, so another process
            # updating the same cache at this moment is no error.
            with contextlib.suppress(FileLocked, OSError):
                repo.refs[name] = sha
    head = heads.get(branch)
    if commit is not None:
        if head is None or _missing(repo, commit) or not _on_branch(repo, commit, head.decode()):
            raise GitSourceError(f"Commit {commit} is not on branch {ref.branch} of {where}.")
        return commit
    if head is None:
        raise GitSourceError(f"The branch {ref.branch} does not exist in {where}.")
    return head.decode()


def _on_branch(repo: BaseRepo, commit: str, head: str) -> bool:
    """Whether `commit` is the branch's head or one of its ancestors: the one rule, for
    every source, that keeps a commit of another branch from being built."""
    if commit == head:
        return True
    target = cast(ObjectID, commit.encode())
    try:
        return any(
            entry.commit.id == target
            for entry in repo.get_walker(include=[cast(ObjectID, head.encode())])
        )
    except KeyError:  # an ancestor is missing (a shallow or partial cache)
        return False


def branch_head(
    ref: ConfigSourceRef,
    commit: str | None = None,
    *,
    token: str | None = None,
    username: str = DEFAULT_USERNAME,
    ca_bundle: str | None = None,
    cache_dir: str | Path | None = None,
) -> tuple[str, bool]:
    """The head of `ref.branch` now (asking the server), and whether `commit` is on that
    branch (the head or an ancestor of it); True when no commit is given."""
    wanted = _commit_id(commit) if commit else None
    remote = is_remote(ref.location)
    with _cache_repo(ref.location, cache_dir) if remote else _open_local(ref.location) as repo:
        if remote:
            with _lock_for(Path(repo.path)):
                head = _fetch(
                    repo, ref.model_copy(update={"commit": None}), None, token, username, ca_bundle
                )
        else:
            head = _local_head(repo, ref)
        if wanted is None:
            return head, True
        return head, not _missing(repo, wanted) and _on_branch(repo, wanted, head)


def _new(repo: Repo, shas: list[ObjectID]) -> list[ObjectID]:
    return [sha for sha in dict.fromkeys(shas) if sha not in repo.object_store]
