"""GitHub: the `push` event of a repository webhook, signed with the webhook's secret.

GitHub signs the raw body: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
A push lists added, modified and removed files per commit; the list cannot be complete
for a new branch, a forced push or more than GITHUB_MAX_COMMITS commits.
"""

from __future__ import annotations

import hashlib
import hmac

from shared.function_names import WEBHOOK_GITHUB
from shared.settings import Settings
from shared.webhooks.auth import WebhookAuthError, equal
from shared.webhooks.provider import EventAnswer, Headers, WebhookProvider, secret
from shared.webhooks.push_events import BranchPush, Loose, Push, load_payload, repository_urls

SIGNATURE = "x-hub-signature-256"
EVENT = "X-GitHub-Event"
DELIVERY = "x-github-delivery"
GITHUB_MAX_COMMITS = 2048  # GitHub lists at most this many commits in a push payload


class _Repository(Loose):
    clone_url: str | None = None
    html_url: str | None = None
    ssh_url: str | None = None
    git_url: str | None = None
    url: str | None = None


class _Push(BranchPush):
    created: bool = False
    deleted: bool = False
    forced: bool = False
    repository: _Repository


def github_signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_github(secret: str, headers: Headers, body: bytes) -> None:
    """The body carries a valid GitHub HMAC-SHA256 signature made with `secret`."""
    received = headers.get(SIGNATURE)
    if not received:
        raise WebhookAuthError(
            "signature_missing",
            "The request has no X-Hub-Signature-256 header; set a secret on the GitHub webhook.",
        )
    if not equal(received.strip().lower(), github_signature(secret, body)):
        raise WebhookAuthError(
            "signature_invalid",
            "The X-Hub-Signature-256 signature does not match the body and the configured secret.",
        )


def _authenticate(headers: Headers, body: bytes, settings: Settings) -> None:
    verify_github(secret(settings.github_secret) or "", headers, body)


def parse_github(headers: Headers, body: bytes) -> Push:
    """A GitHub `push` event."""
    event = load_payload(_Push, body, "GitHub push")
    repo = event.repository
    return event.push(
        PROVIDER.key,
        PROVIDER.delivery_id(headers),
        repository_urls(repo.clone_url, repo.html_url, repo.ssh_url, repo.git_url, repo.url),
        listed_all=not (event.created or event.forced or event.deleted)
        and len(event.commits) < GITHUB_MAX_COMMITS,
    )


PROVIDER = WebhookProvider(
    key="github",
    title="GitHub",
    function_name=WEBHOOK_GITHUB,
    setup='Settings → Webhooks: content type `application/json`, a secret, "Just the push event"',
    settings=("github_secret",),
    enabled_by=("github_secret",),
    authenticate=_authenticate,
    parse=parse_github,
    event_header=EVENT,
    push_event="push",
    answers={"ping": EventAnswer("pong", "The GitHub webhook reached the image factory.")},
    delivery_headers=(DELIVERY,),
)
