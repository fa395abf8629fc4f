"""GitLab: the `Push Hook` of a project webhook, carrying the webhook's secret token.

GitLab sends the configured secret token as it is: `X-Gitlab-Token`. A push lists the
files of up to 20 commits and says how many there were (`total_commits_count`); a
truncated list, or a new branch, leaves the changed paths unknown.
"""

from __future__ import annotations

from shared.function_names import WEBHOOK_GITLAB
from shared.settings import Settings
from shared.webhooks.auth import WebhookAuthError, equal
from shared.webhooks.provider import EventAnswer, Headers, WebhookProvider, secret
from shared.webhooks.push_events import (
    BranchPush,
    Loose,
    PayloadError,
    Push,
    load_payload,
    repository_urls,
)

TOKEN = "x-gitlab-token"
EVENT = "X-Gitlab-Event"
IDEMPOTENCY_KEY = "idempotency-key"
EVENT_UUID = "x-gitlab-event-uuid"


class _Project(Loose):
    git_http_url: str | None = None
    git_ssh_url: str | None = None
    web_url: str | None = None
    http_url: str | None = None


class _Push(BranchPush):
    object_kind: str | None = None
    project: _Project
    total_commits_count: int | None = None


def verify_gitlab(token: str, headers: Headers) -> None:
    """The request carries the configured GitLab secret token."""
    received = headers.get(TOKEN)
    if not received:
        raise WebhookAuthError(
            "token_missing",
            "The request has no X-Gitlab-Token header; set a secret token on the GitLab webhook.",
        )
    if not equal(received, token):
        raise WebhookAuthError(
            "token_invalid", "The X-Gitlab-Token header does not match the configured token."
        )


def _authenticate(headers: Headers, body: bytes, settings: Settings) -> None:
    verify_gitlab(secret(settings.gitlab_token) or "", headers)


def parse_gitlab(headers: Headers, body: bytes) -> Push:
    """A GitLab `Push Hook`."""
    event = load_payload(_Push, body, "GitLab push")
    if event.object_kind not in (None, "push"):
        raise PayloadError(f"The payload is a GitLab '{event.object_kind}' event, not a push.")
    listed = len(event.commits)
    total = event.total_commits_count if event.total_commits_count is not None else listed
    project = event.project
    return event.push(
        PROVIDER.key,
        PROVIDER.delivery_id(headers),
        repository_urls(
            project.git_http_url, project.http_url, project.web_url, project.git_ssh_url
        ),
        listed_all=listed >= total,
    )


PROVIDER = WebhookProvider(
    key="gitlab",
    title="GitLab",
    function_name=WEBHOOK_GITLAB,
    setup='Settings → Webhooks: a secret token, trigger "Push events"',
    settings=("gitlab_token",),
    enabled_by=("gitlab_token",),
    authenticate=_authenticate,
    parse=parse_gitlab,
    event_header=EVENT,
    push_event="Push Hook",
    answers={"Tag Push Hook": EventAnswer("not_a_branch", "Tag pushes do not start runs.")},
    delivery_headers=(IDEMPOTENCY_KEY, EVENT_UUID),
)
