"""Push webhooks of GitHub, Azure DevOps and GitLab as one provider-neutral `Push`.

What each provider says about the changed files:
- GitHub (`push` event) and GitLab (`Push Hook`) list added, modified and removed files
  per commit; the union over the pushed commits is the push's changed paths. When the list
  cannot be complete (a new branch, a forced push, a truncated commit list) the paths are
  unknown (`None`).
- Azure DevOps (`git.push`) gives ref updates and commits without file lists: the paths
  are always unknown. A push with unknown paths starts a run, and the planner's
  definition-hash change detection decides what (if anything) to rebuild.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.json_body import BodyError, parse_json

Provider = Literal["github", "azure-devops", "gitlab"]

GITHUB_EVENT = "x-github-event"
GITHUB_DELIVERY = "x-github-delivery"
GITLAB_EVENT = "x-gitlab-event"
GITLAB_IDEMPOTENCY_KEY = "idempotency-key"
GITLAB_EVENT_UUID = "x-gitlab-event-uuid"

BRANCH_PREFIX = "refs/heads/"
ZERO_COMMIT = re.compile(r"^0+$")
COMMIT_ID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
GITHUB_MAX_COMMITS = 2048  # GitHub lists at most this many commits in a push payload
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

    provider: Provider
    delivery_id: str | None = None
    repository_urls: tuple[str, ...] = Field(description="Every URL the payload names the repo by.")
    updates: tuple[RefUpdate, ...]
    changed_paths: tuple[str, ...] | None = Field(
        description="Files changed by the push; None when the payload cannot say."
    )

    def update_for(self, branch: str) -> RefUpdate | None:
        return next((u for u in self.updates if u.branch == branch), None)


# Payload shapes (only the fields the factory reads; anything else is ignored) -------------


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _FileChanges(_Loose):
    added: list[str] = Field(default_factory=list)
    modified: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)


class _GitHubRepository(_Loose):
    clone_url: str | None = None
    html_url: str | None = None
    ssh_url: str | None = None
    git_url: str | None = None
    url: str | None = None


class _GitHubPush(_Loose):
    ref: str
    before: str
    after: str
    created: bool = False
    deleted: bool = False
    forced: bool = False
    repository: _GitHubRepository
    commits: list[_FileChanges] = Field(default_factory=list)


class _GitLabProject(_Loose):
    git_http_url: str | None = None
    git_ssh_url: str | None = None
    web_url: str | None = None
    http_url: str | None = None


class _GitLabPush(_Loose):
    object_kind: str | None = None
    ref: str
    before: str
    after: str
    project: _GitLabProject
    commits: list[_FileChanges] = Field(default_factory=list)
    total_commits_count: int | None = None


class _AdoRefUpdate(_Loose):
    name: str
    old_object_id: str = Field(alias="oldObjectId")
    new_object_id: str = Field(alias="newObjectId")


class _AdoRepository(_Loose):
    remote_url: str | None = Field(default=None, alias="remoteUrl")
    web_url: str | None = Field(default=None, alias="webUrl")
    ssh_url: str | None = Field(default=None, alias="sshUrl")


class _AdoResource(_Loose):
    ref_updates: list[_AdoRefUpdate] = Field(alias="refUpdates", min_length=1)
    repository: _AdoRepository


class _AdoEvent(_Loose):
    id: str | None = None
    event_type: str = Field(alias="eventType")
    resource: _AdoResource


# Parsing -----------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def _load(model: type[M], body: bytes, what: str) -> M:
    try:
        data = parse_json(body)
    except BodyError as exc:
        raise PayloadError(exc.message) from exc
    if not isinstance(data, dict):
        raise PayloadError(f"The body is not a {what} payload: expected a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise PayloadError(f"The body is not a {what} payload: {field}: {first['msg']}.") from exc


def _commit(value: str, field: str) -> str:
    text = value.strip().lower()
    if ZERO_COMMIT.match(text) and len(text) in (40, 64):
        return text
    if not COMMIT_ID.match(text):
        raise PayloadError(f"The payload's {field} is not a Git commit id.")
    return text


def _paths(commits: Iterable[_FileChanges]) -> tuple[str, ...] | None:
    paths: set[str] = set()
    for commit in commits:
        for path in (*commit.added, *commit.modified, *commit.removed):
            paths.add(path.lstrip("/"))
    if len(paths) > MAX_CHANGED_PATHS:
        return None
    return tuple(sorted(paths))


def _urls(*urls: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(u for u in urls if u))


def parse_github(headers: Mapping[str, str], body: bytes) -> Push:
    """A GitHub `push` event."""
    event = _load(_GitHubPush, body, "GitHub push")
    before = _commit(event.before, "before")
    after = _commit(event.after, "after")
    complete = (
        not event.created
        and not event.forced
        and 0 < len(event.commits) < GITHUB_MAX_COMMITS
        and not ZERO_COMMIT.match(before)
    )
    repo = event.repository
    return Push(
        provider="github",
        delivery_id=headers.get(GITHUB_DELIVERY) or None,
        repository_urls=_urls(repo.clone_url, repo.html_url, repo.ssh_url, repo.git_url, repo.url),
        updates=(RefUpdate(ref=event.ref, before=before, after=after),),
        changed_paths=_paths(event.commits) if complete and not event.deleted else None,
    )


def parse_gitlab(headers: Mapping[str, str], body: bytes) -> Push:
    """A GitLab `Push Hook`."""
    event = _load(_GitLabPush, body, "GitLab push")
    if event.object_kind not in (None, "push"):
        raise PayloadError(f"The payload is a GitLab '{event.object_kind}' event, not a push.")
    before = _commit(event.before, "before")
    after = _commit(event.after, "after")
    listed = len(event.commits)
    total = event.total_commits_count if event.total_commits_count is not None else listed
    complete = listed > 0 and listed >= total and not ZERO_COMMIT.match(before)
    project = event.project
    return Push(
        provider="gitlab",
        delivery_id=headers.get(GITLAB_IDEMPOTENCY_KEY) or headers.get(GITLAB_EVENT_UUID) or None,
        repository_urls=_urls(
            project.git_http_url, project.http_url, project.web_url, project.git_ssh_url
        ),
        updates=(RefUpdate(ref=event.ref, before=before, after=after),),
        changed_paths=_paths(event.commits) if complete else None,
    )


def parse_azure_devops(headers: Mapping[str, str], body: bytes) -> Push:
    """An Azure DevOps service hook `git.push` event (changed paths are always unknown)."""
    event = _load(_AdoEvent, body, "Azure DevOps git.push")
    if event.event_type != "git.push":
        raise PayloadError(
            f"The payload is an Azure DevOps '{event.event_type}' event, not git.push."
        )
    repo = event.resource.repository
    return Push(
        provider="azure-devops",
        delivery_id=event.id,
        repository_urls=_urls(repo.remote_url, repo.web_url, repo.ssh_url),
        updates=tuple(
            RefUpdate(
                ref=update.name,
                before=_commit(update.old_object_id, "oldObjectId"),
                after=_commit(update.new_object_id, "newObjectId"),
            )
            for update in event.resource.ref_updates
        ),
        changed_paths=None,
    )


PARSERS: dict[Provider, Callable[[Mapping[str, str], bytes], Push]] = {
    "github": parse_github,
    "gitlab": parse_gitlab,
    "azure-devops": parse_azure_devops,
}


def parse_push(provider: Provider, headers: Mapping[str, str], body: bytes) -> Push:
    """The push in `body` (headers with lower-case names); raises PayloadError."""
    return PARSERS[provider](headers, body)


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
