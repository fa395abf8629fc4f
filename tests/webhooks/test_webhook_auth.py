"""What every provider's authentication shares: basic auth and constant-time equality."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.webhooks.auth import basic_auth, equal


@given(user=st.text().filter(lambda s: ":" not in s), password=st.text())
def test_basic_auth_round_trips(user: str, password: str) -> None:
    header = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    assert basic_auth(header) == (user, password)


@pytest.mark.parametrize(
    "header", [None, "", "Bearer abc", "Basic", "Basic !!!", "Basic " + "dXNlcg=="]
)
def test_malformed_basic_auth_is_none(header: str | None) -> None:
    assert basic_auth(header) is None


@given(a=st.text(), b=st.text())
def test_equal_is_equality(a: str, b: str) -> None:
    assert equal(a, b) == (a == b)
    assert equal(a.encode(), b.encode()) == (a == b)
