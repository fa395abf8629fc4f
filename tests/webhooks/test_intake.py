"""A delivery, from headers and body to a decision: properties over payloads and headers.

Anything forged, replayed with another body, oversized or malformed is refused with a
4xx and a JSON error, and never yields a run; a genuine push of the configuration yields
exactly one run id per commit, whatever the delivery.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from shared.webhooks.intake import NoRun, StartRun, WebhookRejected, receive
from shared.webhooks.providers import PROVIDERS
from shared.webhooks.providers.github import github_signature
from tests.webhooks import payloads as p
from tests.webhooks.payloads import Delivery, payload_for, sign

SETTINGS = p.settings()


def decide(delivery: Delivery, **overrides: object) -> NoRun | StartRun:
    config = p.settings(**overrides) if overrides else SETTINGS
    return receive(delivery.provider, delivery.headers, delivery.body, config)


def rejected(delivery: Delivery, **overrides: object) -> WebhookRejected:
    with pytest.raises(WebhookRejected) as info:
        decide(delivery, **overrides)
    error = info.value
    assert 400 <= error.status < 500
    body = error.body()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == error.code
    message = body["error"]["message"]
    assert message.endswith(".") and "\n" not in message
    json.dumps(body)
    return error


def refusal(provider: str, payload: dict[str, Any], headers: dict[str, str]) -> str:
    """The code with which a delivery from provider carrying these headers is refused."""
    return rejected(sign(provider, payload, **headers)).code


# Genuine pushes -----------------------------------------------------------------------------


@given(provider=p.providers, commit=p.commits)
def test_a_signed_push_of_the_configuration_starts_a_run_over_that_commit(
    provider: str, commit: str
) -> None:
    outcome = decide(sign(provider, payload_for(provider, commit)))
    assert isinstance(outcome, StartRun)
    assert outcome.instance_id == f"push-{commit}"
    assert outcome.request.trigger.kind == "push"
    assert outcome.request.trigger.commit == commit
    source = outcome.request.source
    assert (source.kind, source.location, source.path, source.branch, source.commit) == (
        "git",
        p.REPO_URL,
        "config",
        "main",
        commit,
    )


@given(provider=p.providers, commit=p.commits, data=st.data())
def test_every_delivery_of_one_commit_maps_to_one_instance(
    provider: str, commit: str, data: st.DataObject
) -> None:
    """Redeliveries (new delivery ids) and other pushes of that commit coalesce."""
    befores = data.draw(st.lists(p.commits, min_size=2, max_size=4))
    ids = set()
    for before in befores:
        outcome = decide(sign(provider, payload_for(provider, commit, before=before)))
        assert isinstance(outcome, StartRun)
        ids.add(outcome.instance_id)
    assert ids == {f"push-{commit}"}


def test_secrets_never_enter_the_run_request() -> None:
    for provider in sorted(PROVIDERS):
        outcome = decide(sign(provider, payload_for(provider, "a" * 40)))
        assert isinstance(outcome, StartRun)
        text = outcome.request.model_dump_json()
        for secret in (p.GITHUB_SECRET, p.GITLAB_TOKEN, p.ADO_SECRET, p.ADO_PASSWORD):
            assert secret not in text


def test_changed_paths_are_the_configuration_files_of_the_push() -> None:
    payload = p.github_payload("a" * 40, paths=["config/images/x.yaml", "README.md"])
    outcome = decide(sign("github", payload))
    assert isinstance(outcome, StartRun)
    assert outcome.request.trigger.changed_paths == ["config/images/x.yaml"]


def test_azure_devops_pushes_have_unknown_paths_and_always_start() -> None:
    outcome = decide(sign("azure-devops", p.ado_payload("b" * 40)))
    assert isinstance(outcome, StartRun)
    assert outcome.request.trigger.changed_paths == []  # unknown: the planner decides


def test_azure_devops_picks_the_configured_branch_among_several_ref_updates() -> None:
    payload = p.ado_payload("b" * 40, ref="refs/heads/feature")
    payload["resource"]["refUpdates"].append(
        {"name": "refs/heads/main", "oldObjectId": "1" * 40, "newObjectId": "c" * 40}
    )
    outcome = decide(sign("azure-devops", payload))
    assert isinstance(outcome, StartRun) and outcome.instance_id == "push-" + "c" * 40


def test_either_azure_devops_credential_alone_is_enough_when_only_it_is_configured() -> None:
    delivery = sign("azure-devops", p.ado_payload("b" * 40))
    only_basic = dict(delivery.headers)
    del only_basic["X-ImageFactory-Secret"]
    outcome = receive("azure-devops", only_basic, delivery.body, p.settings(ado_secret=None))
    assert isinstance(outcome, StartRun)
    only_secret = dict(delivery.headers)
    del only_secret["Authorization"]
    outcome = receive("azure-devops", only_secret, delivery.body, p.settings(ado_password=None))
    assert isinstance(outcome, StartRun)


# Valid deliveries that start nothing --------------------------------------------------------


def test_github_ping_is_answered() -> None:
    delivery = sign("github", {"zen": "Keep it logically awesome.", "hook_id": 1})
    delivery.headers["X-GitHub-Event"] = "ping"
    delivery.headers["X-Hub-Signature-256"] = github_signature(p.GITHUB_SECRET, delivery.body)
    outcome = decide(delivery)
    assert isinstance(outcome, NoRun) and outcome.code == "pong"


@given(provider=p.providers, commit=p.commits, branch=p.path_segments)
def test_pushes_to_other_branches_start_nothing(provider: str, commit: str, branch: str) -> None:
    assume(branch != "main")
    outcome = decide(sign(provider, payload_for(provider, commit, ref=f"refs/heads/{branch}")))
    assert isinstance(outcome, NoRun) and outcome.code == "other_branch"
    # ... unless that branch is the one the webhook follows.
    followed = decide(
        sign(provider, payload_for(provider, commit, ref=f"refs/heads/{branch}")),
        webhook_branch=branch,
    )
    assert isinstance(followed, StartRun) and followed.request.source.branch == branch


@given(provider=st.sampled_from(["github", "gitlab"]), changed=st.lists(p.paths, min_size=1))
def test_pushes_outside_the_configuration_folder_start_nothing(
    provider: str, changed: list[str]
) -> None:
    outside = [c for c in changed if c != "config" and not c.startswith("config/")]
    assume(outside)
    outcome = decide(sign(provider, payload_for(provider, "a" * 40, paths=outside)))
    assert isinstance(outcome, NoRun) and outcome.code == "no_configuration_change"
    inside = [*outside, "config/" + changed[0]]
    started = decide(sign(provider, payload_for(provider, "a" * 40, paths=inside)))
    assert isinstance(started, StartRun)
    assert started.request.trigger.changed_paths == ["config/" + changed[0]]


def test_the_whole_repository_is_the_folder_when_no_path_is_set() -> None:
    payload = p.github_payload("a" * 40, paths=["factory.yaml"])
    outcome = decide(sign("github", payload), config_path="")
    assert isinstance(outcome, StartRun)


@given(provider=p.providers)
def test_pushes_to_another_repository_start_nothing(provider: str) -> None:
    payload = payload_for(provider, "a" * 40, repo="https://github.com/contoso/other.git")
    outcome = decide(sign(provider, payload))
    assert isinstance(outcome, NoRun) and outcome.code == "other_repository"


@given(provider=p.providers)
def test_the_repository_matches_whatever_url_form_the_provider_uses(provider: str) -> None:
    payload = payload_for(provider, "a" * 40, repo="https://GitHub.com/Contoso/Image-Config/")
    outcome = decide(sign(provider, payload))
    assert isinstance(outcome, StartRun)


@given(provider=p.providers)
def test_a_deleted_branch_starts_nothing(provider: str) -> None:
    outcome = decide(sign(provider, payload_for(provider, "0" * 40)))
    assert isinstance(outcome, NoRun) and outcome.code == "branch_deleted"


def test_tag_pushes_start_nothing() -> None:
    outcome = decide(sign("github", p.github_payload("a" * 40, ref="refs/tags/v1")))
    assert isinstance(outcome, NoRun) and outcome.code == "other_branch"
    gitlab = sign("gitlab", p.gitlab_payload("a" * 40, ref="refs/tags/v1"))
    gitlab.headers["X-Gitlab-Event"] = "Tag Push Hook"
    outcome = decide(gitlab)
    assert isinstance(outcome, NoRun) and outcome.code == "not_a_branch"


# Refused deliveries -------------------------------------------------------------------------


@given(commit=p.commits, forged=st.text(max_size=80))
def test_forged_github_signatures_are_refused(commit: str, forged: str) -> None:
    delivery = sign("github", p.github_payload(commit))
    assume(forged.strip().lower() != delivery.headers["X-Hub-Signature-256"])
    assume("\n" not in forged and "\r" not in forged)
    delivery.headers["X-Hub-Signature-256"] = forged
    error = rejected(delivery)
    assert error.status == 401
    assert error.code in {"signature_missing", "signature_invalid"}


@given(commit=p.commits, secret=p.secrets_text)
def test_a_signature_made_with_another_secret_is_refused(commit: str, secret: str) -> None:
    assume(secret != p.GITHUB_SECRET)
    delivery = sign("github", p.github_payload(commit))
    delivery.headers["X-Hub-Signature-256"] = github_signature(secret, delivery.body)
    assert rejected(delivery).code == "signature_invalid"


@given(commit=p.commits, other=p.commits)
def test_a_replayed_signature_with_a_changed_body_is_refused(commit: str, other: str) -> None:
    """An attacker replays a captured delivery with the commit (or anything) changed."""
    assume(commit != other)
    captured = sign("github", p.github_payload(commit))
    replay = sign("github", p.github_payload(other))
    replay.headers["X-Hub-Signature-256"] = captured.headers["X-Hub-Signature-256"]
    assert rejected(replay).code == "signature_invalid"


@given(commit=p.commits, flip=st.integers(min_value=0))
def test_any_changed_byte_breaks_the_signature(commit: str, flip: int) -> None:
    delivery = sign("github", p.github_payload(commit))
    body = bytearray(delivery.body)
    body[flip % len(body)] ^= 0x01
    delivery.body = bytes(body)
    assert rejected(delivery).code == "signature_invalid"


@given(token=p.secrets_text)
def test_wrong_gitlab_tokens_are_refused(token: str) -> None:
    assume(token != p.GITLAB_TOKEN)
    assert (
        refusal("gitlab", p.gitlab_payload("a" * 40), {"X-Gitlab-Token": token}) == "token_invalid"
    )


@given(user=st.text(min_size=1, max_size=20).filter(lambda s: ":" not in s), password=st.text())
def test_wrong_azure_devops_credentials_are_refused(user: str, password: str) -> None:
    assume((user, password) != (p.ADO_USER, p.ADO_PASSWORD))
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    credentials = {"Authorization": f"Basic {basic}"}
    assert refusal("azure-devops", p.ado_payload("a" * 40), credentials) == "credentials_invalid"


@given(secret=p.secrets_text)
def test_wrong_azure_devops_secrets_are_refused(secret: str) -> None:
    assume(secret != p.ADO_SECRET)
    secrets = {"X-ImageFactory-Secret": secret}
    assert refusal("azure-devops", p.ado_payload("a" * 40), secrets) == "secret_invalid"


# (provider, a header its deliveries must carry, the refusal's code without it)
REQUIRED_HEADERS = [
    ("github", "X-Hub-Signature-256", "signature_missing"),
    ("gitlab", "X-Gitlab-Token", "token_missing"),
    ("azure-devops", "Authorization", "credentials_missing"),
    ("azure-devops", "X-ImageFactory-Secret", "secret_missing"),
]


@pytest.mark.parametrize(("provider", "header", "code"), REQUIRED_HEADERS)
def test_missing_credentials_are_refused(provider: str, header: str, code: str) -> None:
    delivery = sign(provider, payload_for(provider, "a" * 40))
    del delivery.headers[header]
    error = rejected(delivery)
    assert (error.status, error.code) == (401, code)


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_a_provider_without_a_secret_is_disabled(provider: str) -> None:
    delivery = sign(provider, payload_for(provider, "a" * 40))
    error = rejected(
        delivery, github_secret=None, gitlab_token=None, ado_secret=None, ado_password=None
    )
    assert (error.status, error.code) == (403, "webhook_disabled")


@given(provider=p.providers, extra=st.integers(min_value=1, max_value=4096))
@hsettings(max_examples=25)
def test_oversized_bodies_are_refused_before_anything_else(provider: str, extra: int) -> None:
    limit = 2048
    payload = payload_for(provider, "a" * 40)
    body = json.dumps(payload).encode()
    payload["padding"] = "x" * (limit - len(body) + extra)
    delivery = sign(provider, payload)
    assert len(delivery.body) > limit
    error = rejected(delivery, webhook_max_bytes=limit)
    assert (error.status, error.code) == (413, "payload_too_large")
    # A declared length over the limit is refused too, before the credentials are looked at.
    small = sign(provider, payload_for(provider, "a" * 40), **{"Content-Length": str(limit + 1)})
    assert rejected(small, webhook_max_bytes=limit).status == 413
    unsigned = Delivery(provider, {"Content-Type": "application/json"}, delivery.body)
    assert rejected(unsigned, webhook_max_bytes=limit).status == 413


@given(provider=p.providers, body=st.binary(max_size=300))
def test_malformed_bodies_are_refused(provider: str, body: bytes) -> None:
    error = rejected(sign(provider, body))
    assert (error.status, error.code) == (400, "malformed_payload")


def _with_extra(provider: str, extra: bytes) -> bytes:
    """A genuine push payload with one more field whose value is the raw `extra`."""
    body = json.dumps(payload_for(provider, "a" * 40)).encode()
    return body[:-1] + b', "extra": ' + extra + b"}"


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (b"[" * 1000 + b"]" * 1000, "nests deeper than"),
        (b"[" * 20_000 + b"]" * 20_000, "nests deeper than"),
        (b'{"a":' * 1000 + b"1" + b"}" * 1000, "nests deeper than"),
        (b'"\xff\xfe not UTF-8"', "not UTF-8"),
        (b"1" * 5000, "integer of 5000 digits"),
        (b"1e999", "too large for a number"),
        (b"-1e999", "too large for a number"),
        (b"NaN", "not a JSON number"),
        (b"Infinity", "not a JSON number"),
    ],
    ids=[
        "depth-1000",
        "depth-20000",
        "objects-1000",
        "utf8",
        "int",
        "float",
        "-float",
        "nan",
        "inf",
    ],
)
@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_hostile_json_is_refused_with_a_reason(provider: str, extra: bytes, fragment: str) -> None:
    error = rejected(sign(provider, _with_extra(provider, extra)))
    assert (error.status, error.code) == (400, "malformed_payload")
    assert fragment in error.message


@given(provider=p.providers, value=p.json_values)
def test_json_that_is_not_a_push_is_refused(provider: str, value: object) -> None:
    error = rejected(sign(provider, json.dumps(value).encode()))
    assert (error.status, error.code) == (400, "malformed_payload")


@given(provider=p.providers, commit=p.commits, data=st.data())
def test_a_push_with_a_field_removed_or_retyped_is_refused(
    provider: str, commit: str, data: st.DataObject
) -> None:
    payload = payload_for(provider, commit)
    target = payload["resource"] if provider == "azure-devops" else payload
    required = {
        "github": ["ref", "before", "after", "repository"],
        "gitlab": ["ref", "before", "after", "project"],
        "azure-devops": ["refUpdates", "repository"],
    }[provider]
    key = data.draw(st.sampled_from(required))
    if data.draw(st.booleans()):
        del target[key]
    else:
        target[key] = data.draw(st.integers() | st.lists(st.integers(), max_size=2))
    error = rejected(sign(provider, payload))
    assert error.code == "malformed_payload"


@given(provider=p.providers, commit=st.text(max_size=50))
def test_commit_ids_that_are_not_hex_are_refused(provider: str, commit: str) -> None:
    assume(not (len(commit) in (40, 64) and all(c in "0123456789abcdefABCDEF" for c in commit)))
    error = rejected(sign(provider, payload_for(provider, commit)))
    assert error.code == "malformed_payload"


@pytest.mark.parametrize(
    ("provider", "header", "event", "code"),
    [
        ("github", "X-GitHub-Event", "issues", "unsupported_event"),
        ("github", "X-GitHub-Event", "", "event_missing"),
        ("gitlab", "X-Gitlab-Event", "Merge Request Hook", "unsupported_event"),
    ],
)
def test_other_events_are_refused(provider: str, header: str, event: str, code: str) -> None:
    delivery = sign(provider, payload_for(provider, "a" * 40), **{header: event})
    error = rejected(delivery)
    assert (error.status, error.code) == (400, code)


def test_other_azure_devops_events_are_refused() -> None:
    delivery = sign("azure-devops", p.ado_payload("a" * 40, event_type="git.pullrequest.created"))
    assert rejected(delivery).code == "malformed_payload"


def test_form_encoded_github_deliveries_are_refused() -> None:
    delivery = sign(
        "github",
        b"payload=%7B%7D",
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )
    error = rejected(delivery)
    assert (error.status, error.code) == (415, "unsupported_media_type")


def test_pushes_need_a_git_configuration_source() -> None:
    delivery = sign("github", p.github_payload("a" * 40))
    error = rejected(delivery, config_source="directory")
    assert (error.status, error.code) == (409, "not_git_source")


@given(provider=p.providers, names=st.lists(st.sampled_from(["upper", "lower", "title"])))
def test_header_names_are_case_insensitive(provider: str, names: list[str]) -> None:
    delivery = sign(provider, payload_for(provider, "a" * 40))
    style = names[0] if names else "lower"
    headers = {getattr(k, style)(): v for k, v in delivery.headers.items()}
    outcome = receive(provider, headers, delivery.body, SETTINGS)
    assert isinstance(outcome, StartRun)
