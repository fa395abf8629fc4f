"""Azure DevOps: a service hook's `git.push` event ("Code pushed", Web Hooks consumer).

Service hooks send basic auth (the user name and password set on the subscription)
and/or custom HTTP headers; the factory accepts `X-ImageFactory-Secret`. When both are
configured, a delivery must carry both. The event names itself in the payload
(`eventType`), and a push gives ref updates and commits without file lists: its changed
paths are always unknown.
"""

from __future__ import annotations

from pydantic import Field

from shared.function_names import WEBHOOK_AZURE_DEVOPS
from shared.settings import Settings
from shared.webhooks.auth import AUTHORIZATION, WebhookAuthError, basic_auth, equal
from shared.webhooks.provider import Headers, WebhookProvider, secret
from shared.webhooks.push_events import (
    Loose,
    PayloadError,
    Push,
    RefUpdate,
    commit_id,
    load_payload,
    repository_urls,
)

SECRET_HEADER = "x-imagefactory-secret"
PUSH_EVENT = "git.push"


class _RefUpdate(Loose):
    name: str
    old_object_id: str = Field(alias="oldObjectId")
    new_object_id: str = Field(alias="newObjectId")


class _Repository(Loose):
    remote_url: str | None = Field(default=None, alias="remoteUrl")
    web_url: str | None = Field(default=None, alias="webUrl")
    ssh_url: str | None = Field(default=None, alias="sshUrl")


class _Resource(Loose):
    ref_updates: list[_RefUpdate] = Field(alias="refUpdates", min_length=1)
    repository: _Repository


class _Event(Loose):
    id: str | None = None
    event_type: str = Field(alias="eventType")
    resource: _Resource


def _verify_secret(headers: Headers, secret: str) -> None:
    received = headers.get(SECRET_HEADER)
    if not received:
        raise WebhookAuthError(
            "secret_missing",
            "The request has no X-ImageFactory-Secret header; add it to the service hook's "
            "HTTP headers.",
        )
    if not equal(received.strip(), secret):
        raise WebhookAuthError(
            "secret_invalid",
            "The X-ImageFactory-Secret header does not match the configured secret.",
        )


def _verify_basic(headers: Headers, username: str | None, password: str) -> None:
    credentials = basic_auth(headers.get(AUTHORIZATION))
    if credentials is None:
        raise WebhookAuthError(
            "credentials_missing",
            "The request has no basic authentication; set a user name and password on the "
            "service hook.",
        )
    user, received_password = credentials
    # The password is compared even when the user name is wrong: no early exit to time.
    user_ok = username is None or equal(user, username)
    password_ok = equal(received_password, password)
    if not (user_ok and password_ok):
        raise WebhookAuthError(
            "credentials_invalid",
            "The basic authentication user name or password does not match the configured ones.",
        )


def verify_azure_devops(
    headers: Headers,
    *,
    secret: str | None,
    username: str | None,
    password: str | None,
) -> None:
    """The request carries every Azure DevOps credential that is configured (at least one is)."""
    if secret is None and password is None:
        raise ValueError("configure a shared secret or a basic auth password for Azure DevOps")
    if secret is not None:
        _verify_secret(headers, secret)
    if password is not None:
        _verify_basic(headers, username, password)


def _authenticate(headers: Headers, body: bytes, settings: Settings) -> None:
    verify_azure_devops(
        headers,
        secret=secret(settings.ado_secret),
        username=settings.ado_username,
        password=secret(settings.ado_password),
    )


def parse_azure_devops(headers: Headers, body: bytes) -> Push:
    """An Azure DevOps service hook `git.push` event (changed paths are always unknown)."""
    event = load_payload(_Event, body, "Azure DevOps git.push")
    if event.event_type != PUSH_EVENT:
        raise PayloadError(
            f"The payload is an Azure DevOps '{event.event_type}' event, not git.push."
        )
    repo = event.resource.repository
    return Push(
        provider=PROVIDER.key,
        delivery_id=event.id,
        repository_urls=repository_urls(repo.remote_url, repo.web_url, repo.ssh_url),
        updates=tuple(
            RefUpdate(
                ref=update.name,
                before=commit_id(update.old_object_id, "oldObjectId"),
                after=commit_id(update.new_object_id, "newObjectId"),
            )
            for update in event.resource.ref_updates
        ),
        changed_paths=None,
    )


PROVIDER = WebhookProvider(
    key="azure-devops",
    title="Azure DevOps",
    function_name=WEBHOOK_AZURE_DEVOPS,
    setup=(
        'Project settings → Service hooks → Web Hooks, event "Code pushed"; basic '
        "authentication user name and password, and/or the HTTP header "
        "`X-ImageFactory-Secret: <secret>`; resource details to send: All"
    ),
    settings=("ado_secret", "ado_username", "ado_password"),
    enabled_by=("ado_secret", "ado_password"),
    authenticate=_authenticate,
    parse=parse_azure_devops,
    event_header=None,
    push_event=PUSH_EVENT,
)
