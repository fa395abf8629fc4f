"""Webhook deliveries as the providers send them, and hypothesis strategies over them."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from shared.settings import Settings
from shared.webhooks.providers import PROVIDERS
from shared.webhooks.providers.github import github_signature

REPO_URL = "https://github.com/contoso/image-config.git"
GITHUB_SECRET = "github-secret-\u00e9"
GITLAB_TOKEN = "gitlab-token"
ADO_SECRET = "ado-secret"
ADO_USER = "factory"
ADO_PASSWORD = "ado-password"


def settings(**overrides: Any) -> Settings:
    """Settings of a factory reading REPO_URL, branch main, folder `config`, every hook on."""
    values: dict[str, Any] = {
        "config_source": "git",
        "config_location": REPO_URL,
        "config_path": "config",
        "config_branch": "main",
        "github_secret": GITHUB_SECRET,
        "gitlab_token": GITLAB_TOKEN,
        "ado_secret": ADO_SECRET,
        "ado_username": ADO_USER,
        "ado_password": ADO_PASSWORD,
        "webhook_max_bytes": 64 * 1024,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@dataclass
class Delivery:
    provider: str
    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any] = field(default_factory=dict)


PREVIOUS = "1" * 40  # the commit a test branch was at before the push


@dataclass(frozen=True)
class PushOf:
    """What a test push does: moves `ref` from `before` to `after`, changing `paths`."""

    after: str
    before: str = PREVIOUS
    ref: str = "refs/heads/main"
    paths: list[str] | None = None
    repo: str = REPO_URL

    @property
    def changed(self) -> list[str]:
        return list(self.paths or ["config/factory.yaml"])


def github_payload(after: str, before: str = PREVIOUS, **options: Any) -> dict[str, Any]:
    push = PushOf(after, before, **options)
    return {
        "ref": push.ref,
        "before": push.before,
        "after": push.after,
        "created": False,
        "deleted": False,
        "forced": False,
        "repository": {
            "full_name": "contoso/image-config",
            "clone_url": push.repo,
            "html_url": push.repo.removesuffix(".git"),
        },
        "commits": [{"id": push.after, "added": [], "modified": push.changed}],
    }


def gitlab_payload(after: str, before: str = PREVIOUS, **options: Any) -> dict[str, Any]:
    push = PushOf(after, before, **options)
    return {
        "object_kind": "push",
        "event_name": "push",
        "before": push.before,
        "after": push.after,
        "ref": push.ref,
        "checkout_sha": push.after,
        "project": {"git_http_url": push.repo, "web_url": push.repo.removesuffix(".git")},
        "commits": [{"id": push.after, "added": push.changed}],
        "total_commits_count": 1,
    }


def ado_payload(
    after: str,
    before: str = PREVIOUS,
    *,
    ref: str = "refs/heads/main",
    repo: str = REPO_URL,
    event_type: str = "git.push",
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "eventType": event_type,
        "publisherId": "tfs",
        "resource": {
            "commits": [{"commitId": after, "comment": "change"}],
            "refUpdates": [{"name": ref, "oldObjectId": before, "newObjectId": after}],
            "repository": {"name": "image-config", "remoteUrl": repo},
            "pushId": 14,
        },
    }


def sign(provider: str, payload: dict[str, Any] | bytes, **extra: str) -> Delivery:
    """A delivery carrying the right credentials for `provider`."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if provider == "github":
        headers |= {
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": github_signature(GITHUB_SECRET, body),
        }
    elif provider == "gitlab":
        headers |= {
            "X-Gitlab-Event": "Push Hook",
            "X-Gitlab-Token": GITLAB_TOKEN,
            "Idempotency-Key": str(uuid.uuid4()),
        }
    elif provider == "azure-devops":
        basic = base64.b64encode(f"{ADO_USER}:{ADO_PASSWORD}".encode()).decode()
        headers |= {"Authorization": f"Basic {basic}", "X-ImageFactory-Secret": ADO_SECRET}
    else:
        raise ValueError(f"no test delivery for the webhook provider '{provider}'")
    headers |= extra
    return Delivery(provider, headers, body, payload if isinstance(payload, dict) else {})


def payload_for(provider: str, after: str, **kwargs: Any) -> dict[str, Any]:
    if provider == "github":
        return github_payload(after, **kwargs)
    if provider == "gitlab":
        return gitlab_payload(after, **kwargs)
    if provider == "azure-devops":
        kwargs.pop("paths", None)
        return ado_payload(after, **kwargs)
    raise ValueError(f"no test payload for the webhook provider '{provider}'")


# Strategies --------------------------------------------------------------------------------

# Every registered provider: a new one gets every property of tests/webhooks/test_intake.py.
providers: st.SearchStrategy[str] = st.sampled_from(sorted(PROVIDERS))
commits = st.text(alphabet="0123456789abcdef", min_size=40, max_size=40).filter(
    lambda s: s.strip("0") != ""
)
path_segments = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=12
).filter(lambda s: s not in (".", ".."))
paths = st.lists(path_segments, min_size=1, max_size=4).map("/".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
secrets_text = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s)
