"""Signature and token checks, including GitHub's published test vector."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.webhooks.auth import (
    WebhookAuthError,
    basic_auth,
    github_signature,
    verify_azure_devops,
    verify_github,
    verify_gitlab,
)


def test_github_signature_matches_githubs_documented_example() -> None:
    # docs.github.com, "Validating webhook deliveries": testing the webhook payload validation.
    signature = github_signature("It's a Secret to Everybody", b"Hello, World!")
    assert signature == ("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")


@given(secret=st.text(min_size=1), body=st.binary())
def test_a_genuine_github_signature_is_accepted(secret: str, body: bytes) -> None:
    verify_github(secret, {"x-hub-signature-256": github_signature(secret, body)}, body)
    upper = github_signature(secret, body).upper().replace("SHA256=", "sha256=")
    verify_github(secret, {"x-hub-signature-256": upper}, body)


@given(secret=st.text(min_size=1), body=st.binary(), other=st.binary())
def test_a_signature_of_another_body_is_refused(secret: str, body: bytes, other: bytes) -> None:
    if body == other:
        return
    with pytest.raises(WebhookAuthError) as info:
        verify_github(secret, {"x-hub-signature-256": github_signature(secret, other)}, body)
    assert info.value.code == "signature_invalid"


def test_the_sha1_header_alone_is_not_enough() -> None:
    with pytest.raises(WebhookAuthError) as info:
        verify_github("s", {"x-hub-signature": "sha1=00"}, b"{}")
    assert info.value.code == "signature_missing"


def test_gitlab_token_is_compared_exactly() -> None:
    verify_gitlab("t0ken", {"x-gitlab-token": "t0ken"})
    for wrong in ("t0ken ", "T0KEN", "t0ke", ""):
        with pytest.raises(WebhookAuthError):
            verify_gitlab("t0ken", {"x-gitlab-token": wrong})


@given(user=st.text().filter(lambda s: ":" not in s), password=st.text())
def test_basic_auth_round_trips(user: str, password: str) -> None:
    header = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    assert basic_auth(header) == (user, password)


@pytest.mark.parametrize(
    "header", [None, "", "Bearer abc", "Basic", "Basic !!!", "Basic " + "dXNlcg=="]
)
def test_malformed_basic_auth_is_none(header: str | None) -> None:
    assert basic_auth(header) is None


def test_azure_devops_needs_every_configured_credential() -> None:
    basic = "Basic " + base64.b64encode(b"u:p").decode()
    both = {"authorization": basic, "x-imagefactory-secret": "s"}
    verify_azure_devops(both, secret="s", username="u", password="p")
    verify_azure_devops(both, secret=None, username=None, password="p")  # any user name
    with pytest.raises(WebhookAuthError) as info:
        verify_azure_devops(both, secret="s", username="v", password="p")
    assert info.value.code == "credentials_invalid"
    with pytest.raises(WebhookAuthError) as info:
        verify_azure_devops({"authorization": basic}, secret="s", username="u", password="p")
    assert info.value.code == "secret_missing"
    with pytest.raises(ValueError):
        verify_azure_devops(both, secret=None, username="u", password=None)


def test_messages_never_carry_the_received_credentials() -> None:
    with pytest.raises(WebhookAuthError) as info:
        verify_gitlab("expected-token", {"x-gitlab-token": "received-token"})
    assert "received-token" not in info.value.message
    assert "expected-token" not in info.value.message
