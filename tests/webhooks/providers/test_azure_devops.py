"""Azure DevOps: basic auth and the shared-secret header, and the git.push payload."""

from __future__ import annotations

import base64
import json

import pytest

from shared.webhooks.auth import WebhookAuthError
from shared.webhooks.providers.azure_devops import parse_azure_devops, verify_azure_devops
from shared.webhooks.push_events import PayloadError
from tests.webhooks import payloads as p


def body(payload: object) -> bytes:
    return json.dumps(payload).encode()


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


def test_azure_devops_paths_are_always_unknown() -> None:
    payload = p.ado_payload("a" * 40)
    push = parse_azure_devops({}, body(payload))
    assert push.changed_paths is None
    assert push.delivery_id == payload["id"]
    assert push.provider == "azure-devops"
    assert push.repository_urls == (p.REPO_URL,)


def test_every_ref_update_is_read() -> None:
    payload = p.ado_payload("a" * 40)
    payload["resource"]["refUpdates"].append(
        {"name": "refs/heads/other", "oldObjectId": "0" * 40, "newObjectId": "b" * 40}
    )
    push = parse_azure_devops({}, body(payload))
    assert [(u.branch, u.after) for u in push.updates] == [("main", "a" * 40), ("other", "b" * 40)]


def test_other_event_types_are_not_pushes() -> None:
    payload = p.ado_payload("a" * 40, event_type="git.pullrequest.created")
    with pytest.raises(PayloadError, match=r"'git\.pullrequest\.created' event, not git\.push"):
        parse_azure_devops({}, body(payload))
