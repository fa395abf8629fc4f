"""One run at a time, in commit order, end to end: pushes delivered to devhost against the
local world, over a Git configuration repository.

- two pushes one second apart build each image once (the second waits, then finds the
  first run's images up to date), and pushes that wait together become one run over the
  newest head; while they wait, the list of runs (the API and `imagefactory runs list`)
  shows them, oldest first;
- many distinct deliveries at once (commits of the branch, and commits that do not exist)
  run one `factory_run` at a time and end with the newest head built once; a commit that
  does not exist starts nothing;
- a late delivery of an older commit does not ship the older definition as the newest.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from dulwich.repo import Repo

from scripts.push_demo import (
    commit_files,
    deliver_github,
    github_push_payload,
    head,
    init_repository,
    read_tree,
    toggle_vm_size,
)
from shared.cli.main import main
from shared.cli.runs_client import KEY_VARIABLE
from shared.function_names import FACTORY_RUN
from shared.model import tags
from tests.pipeline.conftest import World, git_host
from tests.pipeline.test_end_to_end import _labs
from tests.pipeline.world import FUNCTION_KEY, FactoryHost

SECRET = "run-queue-secret"
IMAGE = "ubuntu2204-base"
IMAGE_FILE = f"images/{IMAGE}.yaml"


@dataclass
class Pushes:
    host: FactoryHost
    repo: Path

    def deliver(self, before: str, after: str, changed: list[str]) -> requests.Response:
        payload = github_push_payload(str(self.repo), before, after, modified=changed)
        return deliver_github(f"{self.host.url}/api/webhooks/github", SECRET, payload)

    def describe(self, text: str) -> tuple[str, str]:
        """A commit that changes only the image's description (not its definition hash)."""
        with Repo(str(self.repo)) as repo:
            current = read_tree(repo, str(head(self.repo)))[IMAGE_FILE].decode()
        changed = re.sub(r"^description: .*$", f"description: {text}", current, flags=re.M)
        return commit_files(self.repo, {IMAGE_FILE: changed.encode()}, f"describe: {text}")

    def runs(self) -> list[dict[str, Any]]:
        """Every factory_run instance, with its created and last updated times."""
        assert self.host.process is not None
        response = requests.get(
            f"{self.host.url}/runtime/webhooks/durabletask/instances",
            params={"code": self.host.process.master_key, "top": "1000"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return [i for i in response.json() if i["name"] == FACTORY_RUN]

    def settle(self, ids: list[str], timeout: float = 600.0) -> list[dict[str, Any]]:
        """Wait until each request has been run (directly or by the run covering it)."""
        return [self.host.wait_run(i, timeout=timeout) for i in ids]


@pytest.fixture
def pushes(fresh_world: World, tmp_path: Path) -> Iterator[Pushes]:
    repository = tmp_path / "config.git"
    init_repository(repository)
    host = git_host(
        fresh_world,
        tmp_path / "host",
        repository,
        {
            "IMAGEFACTORY_GITHUB_SECRET": SECRET,
            "IMAGEFACTORY_GIT_CACHE_DIR": str(tmp_path / "git-cache"),
        },
    ).start()
    try:
        yield Pushes(host, repository)
    finally:
        host.stop()


def built(statuses: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(family, commit) of every image built by the runs of these statuses, once a run."""
    seen: dict[str, dict[str, Any]] = {}
    for status in statuses:
        report = status["report"] or {}
        seen.setdefault(report.get("instanceId") or status["id"], report)
    return sorted(
        (b["family"], str(report.get("commit")))
        for report in seen.values()
        for b in report.get("built", [])
    )


def assert_one_at_a_time(runs: list[dict[str, Any]]) -> None:
    spans = sorted(
        (datetime.fromisoformat(r["createdTime"]), datetime.fromisoformat(r["lastUpdatedTime"]))
        for r in runs
    )
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start, f"two runs overlap: {spans}"


def newest_tagged_commit(world: World, family: str) -> set[str]:
    """The commit tag of the newest version of `family` in every lab that has it."""
    commits = set()
    for lab in _labs(world).values():
        versions = sorted(
            (image["tags"].get(tags.VERSION, ""), image["tags"].get(tags.COMMIT, ""))
            for image in lab["images"].values()
            if image["tags"].get(tags.FAMILY) == family
        )
        if versions:
            commits.add(versions[-1][1])
    return commits


def test_two_pushes_a_second_apart_build_each_image_once(
    pushes: Pushes,
    fresh_world: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before, first, changed = toggle_vm_size(pushes.repo)
    answer = pushes.deliver(before, first, [changed])
    assert answer.status_code == 202 and answer.json()["id"] == f"push-{first}", answer.text
    time.sleep(1)
    _, second = pushes.describe("described a second later")
    later = pushes.deliver(first, second, [IMAGE_FILE])
    assert later.status_code == 202 and later.json()["queued"] is True, later.text
    _, third = pushes.describe("and once more")
    last = pushes.deliver(second, third, [IMAGE_FILE])
    assert last.status_code == 202 and last.json()["queued"] is True, last.text
    # While the first run goes, the list of runs shows the two that wait, oldest first.
    listed = requests.get(
        f"{pushes.host.url}/api/runs", headers={"x-functions-key": FUNCTION_KEY}, timeout=30
    )
    assert listed.status_code == 200, listed.text
    waiting = listed.json()["waiting"]
    assert [(w["id"], w["trigger"], w["commit"]) for w in waiting] == [
        (f"push-{second}", "push", second),
        (f"push-{third}", "push", third),
    ], waiting
    monkeypatch.setenv(KEY_VARIABLE, FUNCTION_KEY)
    assert main(["runs", "list", "--app", pushes.host.url]) == 0
    printed = capsys.readouterr().out
    assert "Waiting for a run (2):" in printed, printed
    assert printed.index(f"push-{second}") < printed.index(f"push-{third}"), printed
    statuses = pushes.settle([f"push-{first}", f"push-{second}", f"push-{third}"])
    assert all(s["status"] == "Completed" for s in statuses), statuses
    builds = built(statuses)
    families = [family for family, _ in builds]
    assert len(families) == len(set(families)) and IMAGE in families, builds
    runs = pushes.runs()
    assert_one_at_a_time(runs)
    # The pushes that waited became one run over the newest head, which needed no build.
    assert sorted(r["instanceId"] for r in runs) == sorted([f"push-{first}", f"push-{third}"])
    covered = statuses[1]
    assert covered["run"] == f"push-{third}" and covered["report"]["commit"] == third
    assert covered["note"].startswith(f"superseded: {second} is no longer the head of main")
    assert statuses[2]["coalesced"] == [{"id": f"push-{second}", "note": covered["note"]}]


def test_concurrent_deliveries_run_one_at_a_time_and_build_the_newest_head_once(
    pushes: Pushes, fresh_world: World
) -> None:
    # The first run builds everything; then a chain of commits, the newest one a change.
    start = head(pushes.repo)
    assert start is not None
    first = pushes.deliver("0" * 40, start, [IMAGE_FILE])
    assert first.status_code == 202, first.text
    pushes.settle([first.json()["id"]])
    chain: list[tuple[str, str]] = []
    for n in range(5):
        chain.append(pushes.describe(f"revision {n}"))
    before, newest, changed = toggle_vm_size(pushes.repo)
    chain.append((before, newest))
    missing = [(f"{n:x}" * 40)[:40] for n in range(10, 16)]
    deliveries = [(b, a) for b, a in chain] + [(newest, m) for m in missing]
    with ThreadPoolExecutor(max_workers=len(deliveries)) as pool:
        answers = list(pool.map(lambda d: pushes.deliver(d[0], d[1], [changed]), deliveries))

    for (_, commit), answer in zip(deliveries, answers, strict=True):
        if commit in missing:
            assert answer.status_code == 422, answer.text
            assert answer.json()["error"]["code"] == "commit_not_on_branch"
        else:
            assert answer.status_code in (200, 202), answer.text
    ids = sorted({a.json()["id"] for a in answers if a.status_code in (200, 202)})
    statuses = pushes.settle(ids)
    assert all(s["status"] == "Completed" for s in statuses), statuses
    runs = pushes.runs()
    assert_one_at_a_time(runs)
    assert not {r["instanceId"] for r in runs} & {f"push-{m}" for m in missing}
    # The newest head is built, once, and is what the labs have as the newest version.
    later = [s for s in statuses if s["report"]["commit"] != start]
    assert built(later) == [(IMAGE, newest)], built(later)
    assert newest_tagged_commit(fresh_world, IMAGE) == {newest}

    # A late delivery of an older commit asks for the head, whose run exists: nothing runs.
    count = len(runs)
    late = pushes.deliver(start, chain[0][1], [IMAGE_FILE])
    assert late.status_code == 200, late.text
    body = late.json()
    assert body["id"] == f"push-{newest}" and body["started"] is False, body
    assert "no longer the head" in body["superseded"]
    assert len(pushes.runs()) == count
    assert newest_tagged_commit(fresh_world, IMAGE) == {newest}
