"""End to end through devhost: push to the Git server, deliver the webhook, see the run.

devhost runs the real function_app.py in its own process (its settings are process-wide
environment variables) with the SDK's DurableOrchestrationClient against its Durable API.
Only what the triggers guarantee is asserted: which `factory_run` instance exists and its
input. How far the run itself gets is the pipeline's business (there is no Azure here).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from azure.storage.blob import BlobServiceClient
from dulwich.repo import Repo

from scripts.push_demo import (
    commit_files,
    deliver_github,
    github_push_payload,
    init_repository,
    read_tree,
    toggle_vm_size,
)
from shared.azure import run_queue
from shared.azure.run_queue import CONTAINER, RunQueue, Waiting
from shared.git.config_source import load_config
from shared.run.request import COORDINATOR_ID
from shared.settings import load_settings
from shared.webhooks.intake import StartRun, receive
from shared.webhooks.providers.github import github_signature
from tests.webhooks import payloads as p
from tests.webhooks.conftest import (
    CONFIG_FOLDER,
    GIT_TOKEN,
    App,
    ConfigRepo,
    devhost_process,
)
from tests.webhooks.gitserver import GitServer

MAX_BYTES = 256 * 1024
HUB = "ImageFactory"  # host.json's task hub
SCHEDULE = "0 0 2 * * *"


@dataclass
class Host(App):
    repo: ConfigRepo


@pytest.fixture(scope="module")
def host(git_server: GitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    work_dir = tmp_path_factory.mktemp("webhooks-e2e")
    url, _ = git_server.create("e2e")
    repo = ConfigRepo(git_server, url, work_dir / "work.git")
    init_repository(repo.work, folder=CONFIG_FOLDER)
    repo.push()
    values = {
        "IMAGEFACTORY_CONFIG_SOURCE": "git",
        "IMAGEFACTORY_CONFIG_LOCATION": url,
        "IMAGEFACTORY_CONFIG_PATH": CONFIG_FOLDER,
        "IMAGEFACTORY_CONFIG_BRANCH": "main",
        "IMAGEFACTORY_GIT_TOKEN": GIT_TOKEN,
        "IMAGEFACTORY_GIT_CACHE_DIR": str(work_dir / "git-cache"),
        "IMAGEFACTORY_GITHUB_SECRET": p.GITHUB_SECRET,
        "IMAGEFACTORY_GITLAB_TOKEN": p.GITLAB_TOKEN,
        "IMAGEFACTORY_ADO_SECRET": p.ADO_SECRET,
        "IMAGEFACTORY_ADO_USERNAME": p.ADO_USER,
        "IMAGEFACTORY_ADO_PASSWORD": p.ADO_PASSWORD,
        "IMAGEFACTORY_WEBHOOK_MAX_BYTES": str(MAX_BYTES),
        "IMAGEFACTORY_SCHEDULE": SCHEDULE,
        # No Azure here: the run fails fast when it reaches the management API.
        "IMAGEFACTORY_ARM_ENDPOINT": "https://127.0.0.1:9",
        "IMAGEFACTORY_CREDENTIAL": "local",
    }
    with devhost_process(work_dir, values) as url_base:
        yield Host(url_base, values, repo)


def push_change(host: Host) -> tuple[str, str, str]:
    before, after, changed = toggle_vm_size(host.repo.work, folder=CONFIG_FOLDER)
    host.repo.push()
    return before, after, changed


def test_a_signed_github_push_starts_one_run_over_exactly_that_commit(host: Host) -> None:
    before, after, changed = push_change(host)
    payload = github_push_payload(host.repo.url, before, after, modified=[changed])

    first = deliver_github(host.hook("github"), p.GITHUB_SECRET, payload)
    assert first.status_code == 202, first.text
    body = first.json()
    assert body["id"] == f"push-{after}" and body["started"] is True
    # No management URLs: they carry the Durable system key, and providers show responses.
    assert "Location" not in first.headers
    assert not [k for k in body if k.endswith("Uri")], body
    assert "code=" not in first.text

    run = host.run_input(f"push-{after}")
    assert run.trigger.kind == "push" and run.trigger.commit == after
    assert run.trigger.changed_paths == [changed]
    assert (run.source.kind, run.source.location, run.source.commit) == (
        "git",
        host.repo.url,
        after,
    )
    # The input is enough to read the configuration at exactly the pushed commit.
    factory = load_config(
        run.source, GIT_TOKEN, cache_dir=host.settings["IMAGEFACTORY_GIT_CACHE_DIR"]
    )
    assert factory.commit == after
    sizes = {commit: vm_size(host, commit, changed) for commit in (before, after)}
    assert sizes[before] != sizes[after]
    assert factory.images["ubuntu2204-base"].vm_size == sizes[after]

    # A redelivery (same body, new delivery id) finds the run and starts nothing.
    again = deliver_github(host.hook("github"), p.GITHUB_SECRET, payload)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == f"push-{after}" and again.json()["started"] is False
    assert list(host.instances(f"push-{after}")) == [f"push-{after}"]


def vm_size(host: Host, commit: str, path: str) -> str:
    """The vmSize line of an image file at `commit`, read from the pushing clone."""
    with Repo(str(host.repo.work)) as repo:
        text = read_tree(repo, commit)[path].decode()
    match = re.search(r"^vmSize: (\S+)$", text, flags=re.MULTILINE)
    assert match is not None
    return match.group(1)


def test_the_same_commit_from_another_provider_coalesces(host: Host) -> None:
    before, after, changed = push_change(host)
    gitlab = p.sign("gitlab", p.gitlab_payload(after, before, paths=[changed], repo=host.repo.url))
    started = host.post("gitlab", gitlab)
    assert started.status_code == 202, started.text
    assert started.json()["id"] == f"push-{after}" and started.json()["started"] is True

    ado = p.sign("azure-devops", p.ado_payload(after, before, repo=host.repo.url))
    coalesced = host.post("azure-devops", ado)
    assert coalesced.status_code == 200, coalesced.text
    assert coalesced.json()["started"] is False
    run = host.run_input(f"push-{after}")
    assert run.trigger.commit == after and run.source.commit == after


def test_refused_and_ignored_deliveries_start_nothing(host: Host) -> None:
    before, after, changed = push_change(host)
    payload = github_push_payload(host.repo.url, before, after, modified=[changed])
    genuine = p.sign("github", payload)
    existing = set(host.instances())

    forged = p.sign("github", payload, **{"X-Hub-Signature-256": "sha256=" + "0" * 64})
    wrong_secret = p.sign("github", payload)
    wrong_secret.headers["X-Hub-Signature-256"] = github_signature("not-the-secret", genuine.body)
    replayed = p.sign("github", {**payload, "after": "f" * 40})
    replayed.headers["X-Hub-Signature-256"] = genuine.headers["X-Hub-Signature-256"]
    oversized = p.sign("github", {**payload, "padding": "x" * MAX_BYTES})
    malformed = p.sign("github", b'{"ref": "refs/heads/main", "after": ')
    wrong_token = p.sign("gitlab", p.gitlab_payload(after, before, repo=host.repo.url))
    wrong_token.headers["X-Gitlab-Token"] = "guess"
    cases = [
        ("github", forged, 401, "signature_invalid"),
        ("github", wrong_secret, 401, "signature_invalid"),
        ("github", replayed, 401, "signature_invalid"),
        ("github", oversized, 413, "payload_too_large"),
        ("github", malformed, 400, "malformed_payload"),
        ("gitlab", wrong_token, 401, "token_invalid"),
    ]
    for provider, delivery, status, code in cases:
        response = host.post(provider, delivery)
        assert response.status_code == status, (code, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["message"].endswith(".")

    outside = github_push_payload(host.repo.url, before, after, modified=["README.md"])
    ignored = host.post("github", p.sign("github", outside))
    assert (
        ignored.status_code == 200 and ignored.json()["reason"]["code"] == "no_configuration_change"
    )
    ping = p.sign(
        "github", {"zen": "Design for failure.", "hook_id": 7}, **{"X-GitHub-Event": "ping"}
    )
    pong = host.post("github", ping)
    assert pong.status_code == 200 and pong.json()["reason"]["code"] == "pong"

    assert set(host.instances()) == existing


def test_a_push_of_a_commit_not_on_the_branch_starts_nothing(host: Host) -> None:
    _, after, changed = push_change(host)
    with Repo(str(host.repo.work)) as work:
        work.refs[b"refs/heads/side"] = work.refs[b"refs/heads/main"]  # type: ignore[index]
    _, side = commit_files(host.repo.work, {"notes.txt": b"side"}, "side", branch="side")
    host.repo.push("side")
    existing = set(host.instances())
    for commit in ("1" * 40, side):
        payload = github_push_payload(host.repo.url, after, commit, modified=[changed])
        answer = deliver_github(host.hook("github"), p.GITHUB_SECRET, payload)
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "commit_not_on_branch"
        assert error["message"] == (
            f"Commit {commit} is not on branch main of the configuration repository."
        )
    assert set(host.instances()) == existing


def test_a_late_push_of_an_older_commit_asks_for_the_head(host: Host) -> None:
    before, first, changed = push_change(host)
    _, second, _ = push_change(host)
    late = github_push_payload(host.repo.url, before, first, modified=[changed])
    answer = deliver_github(host.hook("github"), p.GITHUB_SECRET, late)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["id"] == f"push-{second}" and body["started"] is True, body
    assert body["superseded"] == (
        f"Commit {first} is no longer the head of main; the run builds the head {second} instead."
    )
    run = host.run_input(f"push-{second}", timeout=120)
    assert run.trigger.commit == run.source.commit == second
    assert f"push-{first}" not in host.instances("push-")
    # The head's own delivery finds that run.
    own = github_push_payload(host.repo.url, first, second, modified=[changed])
    again = deliver_github(host.hook("github"), p.GITHUB_SECRET, own)
    assert again.status_code == 200 and again.json()["id"] == f"push-{second}", again.text
    assert again.json()["started"] is False


def test_a_request_left_by_a_trigger_that_died_is_run_by_the_next_delivery(host: Host) -> None:
    """A trigger that recorded its request and died before starting the coordinator leaves
    the queue open with no coordinator: the next delivery finds it so, starts one, and
    the request left behind is run (covered by the run over the newest head)."""
    wait_until_idle(host)
    queue = RunQueue(
        BlobServiceClient.from_connection_string(
            host.settings["AzureWebJobsStorage"],
            connection_verify=host.settings["IMAGEFACTORY_CA_BUNDLE"],
        ).get_container_client(CONTAINER),
        HUB,
    )
    before, left, changed = push_change(host)
    payload = github_push_payload(host.repo.url, before, left, modified=[changed])
    signed = p.sign("github", payload)
    outcome = receive("github", signed.headers, signed.body, load_settings(host.settings))
    assert isinstance(outcome, StartRun)
    item = Waiting(id=outcome.instance_id, request=outcome.request, at=datetime.now(UTC))
    recorded = queue.update(lambda state: run_queue.enqueue(state, item))
    assert recorded.outcome == "queued" and recorded.start  # ... and then the trigger died
    time.sleep(1)
    assert f"push-{left}" not in host.instances("push-")

    _, newest, _ = push_change(host)
    delivered = deliver_github(
        host.hook("github"),
        p.GITHUB_SECRET,
        github_push_payload(host.repo.url, left, newest, modified=[changed]),
    )
    assert delivered.status_code == 202 and delivered.json()["id"] == f"push-{newest}"
    run = host.run_input(f"push-{newest}", timeout=120)
    assert run.source.commit == newest
    wait_until_idle(host)
    state = queue.read()
    assert state.requests[f"push-{left}"].run == f"push-{newest}"
    assert not state.open and not state.waiting
    assert f"push-{left}" not in host.instances("push-")


def wait_until_idle(host: Host, timeout: float = 120.0) -> None:
    """Until the run coordinator has completed (nothing runs or waits)."""
    deadline = time.monotonic() + timeout
    while True:
        found = host.instances(COORDINATOR_ID).get(COORDINATOR_ID)
        if found is None or found["runtimeStatus"] not in ("Pending", "Running", "ContinuedAsNew"):
            return
        assert time.monotonic() < deadline, f"the coordinator is still {found['runtimeStatus']}"
        time.sleep(0.2)
