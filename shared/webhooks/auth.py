"""What proving a sender takes, for every provider: constant-time comparison, basic auth.

Each provider's module checks its own secret with these (GitHub's HMAC signature,
GitLab's token, Azure DevOps' basic auth and header). Every check raises
`WebhookAuthError` with a code and one sentence; nothing ever puts a secret or a
received credential into a message.
"""

from __future__ import annotations

import base64
import binascii
import hmac

AUTHORIZATION = "authorization"


class WebhookAuthError(Exception):
    """The request does not prove it comes from the configured provider."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def equal(received: str | bytes, expected: str | bytes) -> bool:
    """Whether two credentials are equal, in a time that does not depend on where they differ."""
    a = received.encode() if isinstance(received, str) else received
    b = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(a, b)


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
