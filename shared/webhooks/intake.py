"""One webhook delivery, from headers and raw body to a decision.

`receive` either raises `WebhookRejected` (a 4xx with a JSON error), returns `NoRun` (a
200 saying why nothing starts: a GitHub ping, another branch, no configuration change),
or returns `StartRun` (the run request and its instance id, `push-<commit>`); `locate`
then checks the commit against the repository and names the run of the branch's head.

The checks run in this order, so an unauthenticated caller learns nothing about the
configuration: endpoint enabled (403), body size (413), the provider's secret (401),
content type (415), event type (400), payload shape (400), Git configuration source (409),
then the filters: repository, branch, deleted branch, configuration folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.git.source import GitSourceError, branch_head
from shared.planning.plan import Trigger
from shared.run.request import ConfigSourceRef, RunRequest, run_instance_id
from shared.settings import Settings
from shared.webhooks.auth import WebhookAuthError
from shared.webhooks.provider import Headers, WebhookProvider
from shared.webhooks.providers import provider as provider_of
from shared.webhooks.push_events import (
    PayloadError,
    Push,
    from_repository,
    touches_folder,
)


class WebhookRejected(Exception):
    """A delivery the factory refuses: an HTTP status, a code and one sentence."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True)
class NoRun:
    """A valid delivery that starts nothing, and why (answered with 200)."""

    code: str
    message: str
    delivery_id: str | None = None

    def body(self) -> dict[str, Any]:
        return {
            "started": False,
            "reason": {"code": self.code, "message": self.message},
            "delivery": self.delivery_id,
        }


@dataclass(frozen=True)
class StartRun:
    """A push of the configuration: the run to start over exactly the pushed commit."""

    push: Push
    request: RunRequest
    instance_id: str
    superseded: str | None = None  # why the run is over another commit than the pushed one


def receive(
    provider_key: str, headers: Mapping[str, str], body: bytes, settings: Settings
) -> NoRun | StartRun:
    """Decide what one delivery to `POST /api/webhooks/<provider_key>` does.

    Raises WebhookRejected for anything wrong.
    """
    provider = provider_of(provider_key)
    lowered = {name.lower(): value for name, value in headers.items()}
    _check_enabled(provider, settings)
    _check_size(lowered, body, settings.webhook_max_bytes)
    _authenticate(provider, lowered, body, settings)
    _check_content_type(provider, lowered)
    early = _check_event(provider, lowered)
    if early is not None:
        return early
    try:
        push = provider.parse(lowered, body)
    except PayloadError as exc:
        raise WebhookRejected(400, "malformed_payload", exc.message) from exc
    return _decide(push, settings)


def _check_enabled(provider: WebhookProvider, settings: Settings) -> None:
    if not provider.enabled(settings):
        raise WebhookRejected(
            403,
            "webhook_disabled",
            f"The {provider.title} webhook is disabled; set {provider.enable_hint()} to enable it.",
        )


def _check_size(headers: Headers, body: bytes, limit: int) -> None:
    declared = headers.get("content-length", "").strip()
    size = max(len(body), int(declared) if declared.isdigit() else 0)
    if size > limit:
        raise WebhookRejected(
            413,
            "payload_too_large",
            f"The body has {size} bytes, more than the limit of {limit} "
            "(IMAGEFACTORY_WEBHOOK_MAX_BYTES).",
        )


def _authenticate(
    provider: WebhookProvider, headers: Headers, body: bytes, settings: Settings
) -> None:
    try:
        provider.authenticate(headers, body, settings)
    except WebhookAuthError as exc:
        raise WebhookRejected(401, exc.code, exc.message) from exc


def _check_content_type(provider: WebhookProvider, headers: Headers) -> None:
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise WebhookRejected(
            415,
            "unsupported_media_type",
            f"The body is {content_type}; set the {provider.title} webhook's content "
            "type to application/json.",
        )


def _check_event(provider: WebhookProvider, headers: Headers) -> NoRun | None:
    """An event the provider answers at once (a GitHub ping, a GitLab tag push) returns its
    answer; an event that is not a push is refused. A provider that names its events in
    the payload is checked when the payload is parsed."""
    if provider.event_header is None:
        return None
    event = headers.get(provider.event_header.lower(), "").strip()
    answer = provider.answers.get(event)
    if answer is not None:
        return NoRun(answer.code, answer.message, provider.delivery_id(headers))
    if not event:
        raise WebhookRejected(
            400, "event_missing", f"The request has no {provider.event_header} header."
        )
    if event != provider.push_event:
        raise WebhookRejected(
            400,
            "unsupported_event",
            f"{provider.title} '{event}' events do not start runs; subscribe the "
            f"webhook to {provider.push_event} events only.",
        )
    return None


def _decide(push: Push, settings: Settings) -> NoRun | StartRun:
    if settings.config_source != "git" or not settings.config_location:
        raise WebhookRejected(
            409,
            "not_git_source",
            "The factory does not read its configuration from Git, so pushes cannot start runs; "
            "set IMAGEFACTORY_CONFIG_SOURCE=git and IMAGEFACTORY_CONFIG_LOCATION.",
        )
    repository = settings.webhook_repository or settings.config_location
    if not from_repository(push, repository):
        return NoRun(
            "other_repository",
            "The push is to another repository than the configuration repository.",
            push.delivery_id,
        )
    branch = settings.webhook_branch or settings.config_branch
    update = push.update_for(branch)
    if update is None:
        refs = ", ".join(u.ref for u in push.updates)
        return NoRun(
            "other_branch",
            f"The push updates {refs}; only pushes to branch {branch} start runs.",
            push.delivery_id,
        )
    if update.deleted:
        return NoRun("branch_deleted", f"The push deletes branch {branch}.", push.delivery_id)
    changed: list[str] = []
    if push.changed_paths is not None:
        changed = touches_folder(push.changed_paths, settings.config_path)
        if not changed:
            where = settings.config_path or "the repository"
            return NoRun(
                "no_configuration_change",
                f"The push changes no file under {where}.",
                push.delivery_id,
            )
    trigger = Trigger(kind="push", commit=update.after, changed_paths=changed)
    source = ConfigSourceRef(
        kind="git",
        location=settings.config_location,
        path=settings.config_path,
        branch=branch,
        commit=update.after,
    )
    return StartRun(
        push=push,
        request=RunRequest(trigger=trigger, source=source),
        instance_id=run_instance_id(trigger, commit=update.after),
    )


def locate(start: StartRun, settings: Settings) -> StartRun:
    """The run a push asks for, over the head of the branch now.

    The pushed commit must be on the configured branch (its head, or an ancestor of it:
    the branch has moved on since); anything else, a commit that does not exist there or
    one of another branch, raises WebhookRejected (422), and a repository that cannot be
    read now raises it with 503. A push of a commit that is no longer the head asks for a
    run of the head (`push-<head>`), saying so in `superseded`.
    """
    pushed = start.request.trigger.commit or ""
    token = settings.git_token.get_secret_value() if settings.git_token else None
    try:
        head, on_branch = branch_head(
            start.request.source,
            pushed,
            token=token,
            username=settings.git_username,
            ca_bundle=settings.ca_bundle,
            cache_dir=settings.git_cache_dir,
        )
    except GitSourceError as exc:
        raise WebhookRejected(
            503,
            "configuration_unavailable",
            f"The configuration repository cannot be read now, so the push cannot be checked; "
            f"redeliver it later ({str(exc).rstrip('.')}).",
        ) from exc
    branch = start.request.source.branch
    if not on_branch:
        raise WebhookRejected(
            422,
            "commit_not_on_branch",
            f"Commit {pushed} is not on branch {branch} of the configuration repository.",
        )
    if head == pushed:
        return start
    trigger = Trigger(kind="push", commit=head)
    return StartRun(
        push=start.push,
        request=RunRequest(
            trigger=trigger, source=start.request.source.model_copy(update={"commit": head})
        ),
        instance_id=run_instance_id(trigger, commit=head),
        superseded=(
            f"Commit {pushed} is no longer the head of {branch}; the run builds the head "
            f"{head} instead."
        ),
    )
