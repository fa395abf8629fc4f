"""A token credential for the local world (the emulator and Azurite).

The local DevTest Labs emulator and Azurite (`--oauth basic`) check that a bearer token is
a well-formed JWT with a known issuer, a fitting audience and a valid lifetime, but not its
signature. This credential mints such tokens without any identity provider, so the factory
runs locally with the same token-based code path it uses in Azure; only configuration
chooses it. It must never be used against Azure: real services reject its tokens.

Usage::

    credential = LocalTokenCredential()
    client = DevTestLabsClient(credential, subscription_id, base_url=endpoint,
                               connection_verify=ca_file)
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from azure.core.credentials import AccessToken

DEFAULT_TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
DEFAULT_OBJECT_ID = "00000000-0000-0000-0000-00000000f00d"
_LIFETIME_SECONDS = 3600


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _audience(scope: str) -> str:
    """The token audience for a scope: `https://storage.azure.com/.default` -> the resource."""
    resource = scope.removesuffix("/.default")
    return resource.rstrip("/") if resource.startswith("https://") else resource


class LocalTokenCredential:
    """An azure-core `TokenCredential` returning unsigned JWT-shaped tokens for the local world.

    Tokens carry the issuer `https://sts.windows.net/<tenant>/`, the audience derived from
    the first requested scope, `iat`/`nbf`/`exp` around the current time, and `oid`/`tid`
    claims naming a fixed local principal.
    """

    def __init__(
        self,
        tenant_id: str = DEFAULT_TENANT_ID,
        object_id: str = DEFAULT_OBJECT_ID,
        lifetime_seconds: int = _LIFETIME_SECONDS,
    ) -> None:
        self.tenant_id = tenant_id
        self.object_id = object_id
        self.lifetime_seconds = lifetime_seconds

    def token_for(self, scope: str) -> str:
        """An encoded token for one scope (also handy for plain HTTP clients)."""
        now = int(time.time())
        header = {"alg": "none", "typ": "JWT"}
        claims = {
            "aud": _audience(scope),
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now - 60,
            "nbf": now - 60,
            "exp": now + self.lifetime_seconds,
            "oid": self.object_id,
            "sub": self.object_id,
            "tid": self.tenant_id,
            "appid": self.object_id,
            "uti": uuid.uuid4().hex,
            "ver": "1.0",
        }
        encoded = [
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        ]
        # An empty signature segment would be "unsigned"; some checkers expect three
        # non-empty segments, so a fixed placeholder keeps the shape of a signed token.
        return f"{encoded[0]}.{encoded[1]}.{_b64url(b'local-world-unsigned')}"

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """Return a token for the first scope, valid for `lifetime_seconds`."""
        if not scopes:
            raise ValueError("get_token needs at least one scope.")
        token = self.token_for(scopes[0])
        return AccessToken(token, int(time.time()) + self.lifetime_seconds - 60)

    def close(self) -> None:
        """Nothing to release; present for the credential protocol."""

    def __enter__(self) -> LocalTokenCredential:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()
