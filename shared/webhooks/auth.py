"""Who sent a webhook: each provider's own secret, checked in constant time.

- GitHub signs the raw body: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
- GitLab sends the configured secret token as it is: `X-Gitlab-Token`.
- Azure DevOps service hooks send basic auth (user name and password set on the
  subscription) and/or a custom header; the factory accepts `X-ImageFactory-Secret`.

Every check raises `WebhookAuthError` with a code and one sentence; nothing here ever
puts a secret or a received credential into a message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

GITHUB_SIGNATURE = "x-hub-signature-256"
GITLAB_TOKEN = "x-gitlab-token"
ADO_SECRET_HEADER = "x-imagefactory-secret"
AUTHORIZATION = "authorization"


class WebhookAuthError(Exception):
    """The request does not prove it comes from the configured provider."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _equal(received: str | bytes, expected: str | bytes) -> bool:
    a = received.encode() if isinstance(received, str) else received
    b = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(a, b)


def github_signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_github(secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """The body carries a valid GitHub HMAC-SHA256 signature made with `secret`."""
    received = headers.get(GITHUB_SIGNATURE)
    if not received:
        raise WebhookAuthError(
            "signature_missing",
            "The request has no X-Hub-Signature-256 header; set a secret on the GitHub webhook.",
        )
    if not _equal(received.strip().lower(), github_signature(secret, body)):
        raise WebhookAuthError(
            "signature_invalid",
            "The X-Hub-Signature-256 signature does not match the body and the configured secret.",
        )


def verify_gitlab(token: str, headers: Mapping[str, str]) -> None:
    """The request carries the configured GitLab secret token."""
    received = headers.get(GITLAB_TOKEN)
    if not received:
        raise WebhookAuthError(
            "token_missing",
            "The request has no X-Gitlab-Token header; set a secret token on the GitLab webhook.",
        )
    if not _equal(received, token):
        raise WebhookAuthError(
            "token_invalid", "The X-Gitlab-Token header does not match the configured token."
        )


def basic_auth(header: str | None) -> tuple[str, str] | None:
    """User name and password of an `Authorization: Basic ...` header, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def verify_azure_devops(
    headers: Mapping[str, str],
    *,
    secret: str | None,
    username: str | None,
    password: str | None,
) -> None:
    """The request carries every Azure DevOps credential that is configured (at least one is)."""
    if secret is None and password is None:
        raise ValueError("configure a shared secret or a basic auth password for Azure DevOps")
    if secret is not None:
        received = headers.get(ADO_SECRET_HEADER)
        if not received:
            raise WebhookAuthError(
                "secret_missing",
                "The request has no X-ImageFactory-Secret header; add it to the service hook's "
                "HTTP headers.",
            )
        if not _equal(received.strip(), secret):
            raise WebhookAuthError(
                "secret_invalid",
                "The X-ImageFactory-Secret header does not match the configured secret.",
            )
    if password is not None:
        credentials = basic_auth(headers.get(AUTHORIZATION))
        if credentials is None:
            raise WebhookAuthError(
                "credentials_missing",
                "The request has no basic authentication; set a user name and password on the "
                "service hook.",
            )
        user, received_password = credentials
        # The password is compared even when the user name is wrong: no early exit to time.
        user_ok = username is None or _equal(user, username)
        password_ok = _equal(received_password, password)
        if not (user_ok and password_ok):
            raise WebhookAuthError(
                "credentials_invalid",
                "The basic authentication user name or password does not match the configured "
                "ones.",
            )
