"""`imagefactory runs` against a deployed factory: devhost runs the real function_app.py on
the local world, the client talks to it over HTTP with the function key from the
environment. `start --wait` exits 0 when everything was delivered and 1 when a build
failed (the emulator's artifact failure); `list` shows the runs newest first, a page at
a time; `show` prints a run's report; `GET /api/report` serves the fleet report page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.cli.main import main
from shared.cli.runs_client import KEY_VARIABLE
from shared.run import listing
from tests.pipeline.conftest import World, world_at
from tests.pipeline.world import FUNCTION_KEY, FactoryHost, running_host


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world_at(tmp_path_factory.mktemp("runs-world")) as world:
        yield world


@pytest.fixture(scope="module")
def host(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FactoryHost]:
    yield from running_host(world.info, world.queue_connection, tmp_path_factory.mktemp("host"))


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, FUNCTION_KEY)


def _runs(host: FactoryHost, *args: str) -> int:
    return main(["runs", *args, "--app", host.url])


def test_without_the_key_nothing_is_asked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    assert main(["runs", "list", "--app", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"imagefactory: set {KEY_VARIABLE} to the Function App's function key (it is read "
        "from the environment only, never from the command line)"
    ]


def test_the_key_is_not_an_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "list", "--app", "http://127.0.0.1:9", "--key", "secret"]) == 2
    assert "unrecognized arguments: --key" in capsys.readouterr().err


def test_an_app_that_cannot_be_reached_is_one_sentence(
    keyed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "show", "manual-x", "--app", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("imagefactory: cannot reach http://127.0.0.1:9")


def test_a_wrong_key_is_refused(
    host: FactoryHost, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "not-the-key")
    assert _runs(host, "list") == 2
    assert capsys.readouterr().err.startswith("imagefactory: the factory refused: 401")


def test_start_wait_exits_0_when_delivered_and_1_when_a_build_failed(
    world: World, host: FactoryHost, keyed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _runs(host, "start", "--watch", "--interval", "0.2") == 0, host.log_tail()
    out = capsys.readouterr().out
    assert "4 built" in out and "0 failed" in out, out
    first = out.split("Run ", 1)[1].split(":", 1)[0]

    world.admin(
        "POST",
        "faults",
        {
            "kind": "artifact_failure",
            "artifact": "linux-apt-package",
            "message": "apt-get exited with code 100.",
        },
    )
    code = _runs(
        host, "start", "--image", "ubuntu2204-base", "--force", "--wait", "--interval", "0.2"
    )
    out = capsys.readouterr().out
    assert code == 1, out
    assert "FAILED" in out and "apply artifacts" in out and "code 100" in out, out
    second = out.split("Run ", 1)[1].split(":", 1)[0]

    # The list: newest first, with what each run did.
    assert _runs(host, "list") == 0
    listed = capsys.readouterr().out
    assert listed.index(second) < listed.index(first), listed
    assert _runs(host, "list", "--json") == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["id"] for r in runs] == [second, first]
    assert runs[0]["counts"]["failed"] >= 1 and runs[1]["counts"]["built"] == 4, runs
    assert runs[1]["counts"]["failed"] == 0, runs

    # A page at a time.
    assert _runs(host, "list", "--json", "--top", "1") == 0
    page = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in page["runs"]] == [second] and page["nextPage"]
    assert _runs(host, "list", "--json", "--top", "1", "--page-token", page["nextPage"]) == 0
    page = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in page["runs"]] == [first] and page["nextPage"] is None

    # One run's report, and its exit code.
    assert _runs(host, "show", first) == 0
    assert "4 built" in capsys.readouterr().out
    assert _runs(host, "show", second) == 1

    _the_app_serves_the_fleet_report_page(host)


def test_what_the_app_refuses_is_a_usage_error(
    host: FactoryHost, keyed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _runs(host, "start", "--image", "ubuntu2204-bsae", "--dry-run") == 2
    err = capsys.readouterr().err
    assert err.startswith("imagefactory: the factory refused: 400 UnknownImages:"), err
    assert "ubuntu2204-base" in err  # the did-you-mean
    assert _runs(host, "show", "manual-nothing") == 2
    assert "404 RunNotFound" in capsys.readouterr().err
    assert _runs(host, "list", "--page-token", "bm90LWEtdG9rZW4") == 2
    assert "400 InvalidQuery: pageToken is not a token this API gave" in capsys.readouterr().err


def test_a_dry_run_waits_for_its_plan(
    host: FactoryHost, keyed: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _runs(host, "start", "--dry-run", "--wait", "--interval", "0.2") == 0
    out = capsys.readouterr().out
    assert "Dry run: planned only, nothing changed." in out, out


def _the_app_serves_the_fleet_report_page(host: FactoryHost) -> None:
    """GET /api/report: the page of the configuration, the labs as they are now and the
    last runs (every family built, then a forced build that failed)."""
    assert requests.get(f"{host.url}/api/report", timeout=60).status_code == 401
    response = requests.get(
        f"{host.url}/api/report", headers={"x-functions-key": FUNCTION_KEY}, timeout=60
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert page.startswith("<!DOCTYPE html>") or page.lower().startswith("<!doctype html>")
    for family in ("win2022-base", "win2022-devtools", "ubuntu2204-base", "ubuntu2404-docker"):
        assert f'data-family="{family}"' in page, family
    states = set(re.findall(r'data-state="([a-z]+)"', page))
    assert states and states <= {"current", "none"}, states  # every lab holds what it selects
    assert "apply artifacts" in page and "code 100" in page  # the failed run's failure


def test_the_list_holds_runs_only_newest_first_with_ties_broken_by_id() -> None:
    def instance(instance_id: str, created: str, name: str = "factory_run") -> dict[str, Any]:
        return {"instanceId": instance_id, "name": name, "createdTime": created,
                "runtimeStatus": "Completed", "output": {"built": [{}], "failed": []}}  # fmt: skip

    instances = [
        instance("push-abc", "2026-12-01T10:00:00Z"),
        instance("push-abc:build:win2022-base-1", "2026-12-01T10:00:01Z"),  # inside a run
        instance("imagefactory-run-coordinator", "2026-12-01T11:00:00Z", "run_coordinator"),
        instance("schedule-20261201T020000Z", "2026-12-01T02:00:00Z"),
        instance("manual-b", "2026-12-01T12:00:00Z"),
        instance("manual-a", "2026-12-01T12:00:00Z"),
    ]
    first = listing.page(instances, 2, None)
    assert [r.id for r in first.runs] == ["manual-b", "manual-a"]
    assert first.runs[0].counts is not None and first.runs[0].counts.built == 1
    assert first.next_page is not None
    second = listing.page(instances, 2, first.next_page)
    assert [r.id for r in second.runs] == ["push-abc", "schedule-20261201T020000Z"]
    assert second.next_page is None
    assert [r.trigger for r in second.runs] == ["push", "schedule"]
    until = listing.created_until(first.next_page)
    assert until is not None and until.isoformat() == "2026-12-01T12:00:01+00:00"
    with pytest.raises(listing.BadPageToken):
        listing.page(instances, 2, "bm90LWEtdG9rZW4")


def test_the_list_endpoint_refuses_a_page_size_it_does_not_give(host: FactoryHost) -> None:
    for top in ("0", "101", "ten"):
        response = requests.get(
            f"{host.url}/api/runs",
            params={"top": top},
            headers={"x-functions-key": FUNCTION_KEY},
            timeout=30,
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "InvalidQuery"
    assert requests.get(f"{host.url}/api/runs", timeout=30).status_code == 401
