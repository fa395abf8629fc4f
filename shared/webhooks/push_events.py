"""A push, whoever sent it: the provider-neutral `Push`, what the parsers share, the filters.

Each provider's module (`shared/webhooks/providers/`) reads its own payload into a
`Push`. When a payload cannot list every changed file (a new branch, a forced push, a
truncated commit list; Azure DevOps never lists them) the paths are unknown (`None`): a
push with unknown paths starts a run, and the planner's definition-hash change detection
decides what (if anything) to rebuild.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.git.source import COMMIT_ID
from shared.json_body import BodyError, parse_json
from shared.model.base import first_error

BRANCH_PREFIX = "refs/heads/"
ZERO_COMMIT = re.compile(r"^0+$")
MAX_CHANGED_PATHS = 1000  # more than this travels as "unknown" (keeps run inputs small)


class PayloadError(Exception):
    """The body is not a push payload the factory understands."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RefUpdate(BaseModel):
    model_config = ConfigDict(frozen=True)

    ref: str
    before: str
    after: str

    @property
    def branch(self) -> str | None:
        """The branch name, or None when the ref is not a branch (a tag, a note)."""
        return self.ref[len(BRANCH_PREFIX) :] if self.ref.startswith(BRANCH_PREFIX) else None

    @property
    def deleted(self) -> bool:
        return bool(ZERO_COMMIT.match(self.after))


class Push(BaseModel):
    """One push: which repository, which refs moved where, and which files changed."""

    model_config = ConfigDict(frozen=True)

    provider: str = Field(description="The key of the provider that sent it.")
    delivery_id: str | None = None
    repository_urls: tuple[str, ...] = Field(description="Every URL the payload names the repo by.")
    updates: tuple[RefUpdate, ...]
    changed_paths: tuple[str, ...] | None = Field(
        description="Files changed by the push; None when the payload cannot say."
    )

    def update_for(self, branch: str) -> RefUpdate | None:
        return next((u for u in self.updates if u.branch == branch), None)


# What the parsers share ----------------------------------------------------------------


class Loose(BaseModel):
    """A payload shape: only the fields the factory reads; anything else is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class FileChanges(Loose):
    """One commit's changed files, as GitHub and GitLab list them."""

    added: list[str] = Field(default_factory=list)
    modified: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)


class BranchPush(Loose):
    """A payload of one ref update that lists its commits' files (GitHub, GitLab)."""

    ref: str
    before: str
    after: str
    commits: list[FileChanges] = Field(default_factory=list)

    def push(
        self, provider: str, delivery_id: str | None, urls: tuple[str, ...], *, listed_all: bool
    ) -> Push:
        """The push; `listed_all` says the payload lists every commit it pushed, without
        which (or for a new branch, or no commit listed) its changed paths are unknown."""
        before = commit_id(self.before, "before")
        after = commit_id(self.after, "after")
        complete = listed_all and bool(self.commits) and not ZERO_COMMIT.match(before)
        return Push(
            provider=provider,
            delivery_id=delivery_id,
            repository_urls=urls,
            updates=(RefUpdate(ref=self.ref, before=before, after=after),),
            changed_paths=changed_paths(self.commits) if complete else None,
        )


M = TypeVar("M", bound=BaseModel)


def load_payload(model: type[M], body: bytes, what: str) -> M:
    """`body` as the payload `model`; a PayloadError naming the first wrong field."""
    try:
        data = parse_json(body)
    except BodyError as exc:
        raise PayloadError(exc.message) from exc
    if not isinstance(data, dict):
        raise PayloadError(f"The body is not a {what} payload: expected a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(
            f"The body is not a {what} payload: {first_error(exc, '(top level)')}."
        ) from exc


def commit_id(value: str, field: str) -> str:
    """A commit id of the payload in lower case (all zeros: no commit); else PayloadError."""
    text = value.strip().lower()
    if ZERO_COMMIT.match(text) and len(text) in (40, 64):
        return text
    if not COMMIT_ID.match(text):
        raise PayloadError(f"The payload's {field} is not a Git commit id.")
    return text


def changed_paths(commits: Iterable[FileChanges]) -> tuple[str, ...] | None:
    """The union of the commits' files; None when there are too many to carry."""
    paths: set[str] = set()
    for commit in commits:
        for path in (*commit.added, *commit.modified, *commit.removed):
            paths.add(path.lstrip("/"))
    if len(paths) > MAX_CHANGED_PATHS:
        return None
    return tuple(sorted(paths))


def repository_urls(*urls: str | None) -> tuple[str, ...]:
    """The URLs a payload names, each once, in order."""
    return tuple(dict.fromkeys(u for u in urls if u))


# Filters -----------------------------------------------------------------------------------


def normalize_repository_url(url: str) -> str:
    """A comparable form of a repository URL or path: no scheme, user, `.git` or case.

    `https://user@dev.azure.com/org/p/_git/r`, `git@github.com:org/r.git` and
    `https://github.com/Org/R` all lose what does not identify the repository.
    """
    text = url.strip().replace("\\", "/")
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text, flags=re.IGNORECASE)
    text = re.sub(r"^[^/@]*@", "", text)  # user info (https) or git@ (scp-like ssh)
    text = re.sub(r"^([^/:]+):(?!\d+/)", r"\1/", text)  # scp-like host:path
    text = re.sub(r"^([^/:]+):\d+/", r"\1/", text)  # an explicit port
    text = text.rstrip("/")
    text = text.removesuffix(".git").rstrip("/")
    return text.lower()


def from_repository(push: Push, repository: str) -> bool:
    """Whether the push names `repository` among its URLs."""
    wanted = normalize_repository_url(repository)
    return any(normalize_repository_url(url) == wanted for url in push.repository_urls)


def normalize_folder(folder: str) -> str:
    return folder.replace("\\", "/").strip().strip("/")


def touches_folder(paths: Iterable[str], folder: str) -> list[str]:
    """The paths inside `folder` (a repository path; empty means the whole repository)."""
    root = normalize_folder(folder)
    if not root:
        return sorted(set(paths))
    return sorted({p for p in paths if p == root or p.startswith(root + "/")})
