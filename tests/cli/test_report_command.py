"""`imagefactory report`: the page from a configuration, an inventory and run files; bad
input is one sentence and exit 2 (an invalid configuration: its problems and exit 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "factory"
INVENTORY = ROOT / "examples" / "inventory.json"
NOW = "2026-11-24T12:00:00Z"
REPORT = {
    "instanceId": "push-4f2a9c1e7b3d",
    "trigger": "push",
    "commit": "4f2a9c1e7b3d",
    "failed": [
        {
            "family": "ubuntu2204-base",
            "version": "20261124020000-5af1c683",
            "ok": False,
            "step": "apply artifacts",
            "reason": "linux-apt-package: exit code 100",
        }
    ],
}


def _report(tmp_path: Path, *extra: str) -> list[str]:
    out = tmp_path / "report.html"
    return ["report", "--config", str(EXAMPLE), "--now", NOW, "--out", str(out), *extra]


def test_report_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs.json"
    status = {"id": "manual-1", "status": "Completed", "report": {"instanceId": "manual-1"}}
    going = {"id": "manual-2", "status": "Running", "report": None}
    runs.write_text(json.dumps([REPORT, status, going]), encoding="utf-8")

    code = main(_report(tmp_path, "--inventory", str(INVENTORY), "--runs", str(runs)))

    assert code == 0
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert 'data-state="current"' in page and 'data-state="missing"' in page
    assert 'data-run="push-4f2a9c1e7b3d"' in page and 'data-run="manual-1"' in page
    assert "manual-2" not in page
    assert "linux-apt-package: exit code 100" in page
    assert "wrote " in capsys.readouterr().out


def test_report_without_an_inventory_shows_every_lab_unread(tmp_path: Path) -> None:
    assert main(_report(tmp_path)) == 0
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'data-state="unknown"' in page and 'data-state="current"' not in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ("[" * 100_000, "is nested too deeply"),
        ("[1]", "item 0 is not a JSON object"),
        ('[{"instanceId": "x", "frobnicate": 1}]', "is not valid: 0.frobnicate"),
        ('{"report": {"failed": [{"family": "x"}]}}', "is not valid: 0.failed.0.version"),
    ],
)
def test_a_bad_runs_file_is_one_sentence_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    runs = tmp_path / "runs.json"
    runs.write_text(content, encoding="utf-8")

    assert main(_report(tmp_path, "--runs", str(runs))) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "report.html").exists()


def test_report_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--config", str(EXAMPLE)]) == 2  # no --out
    assert main(_report(tmp_path, "--runs", str(tmp_path / "missing.json"))) == 2
    assert "cannot read the runs file" in capsys.readouterr().err
    assert main(_report(tmp_path, "--inventory", str(tmp_path / "missing.json"))) == 2
    assert "cannot read the inventory file" in capsys.readouterr().err
    out = ["report", "--config", str(EXAMPLE), "--out", str(tmp_path / "no" / "dir" / "r.html")]
    assert main(out) == 2
    assert "cannot write the report to" in capsys.readouterr().err
    assert main(["report", "--config", str(tmp_path / "nowhere"), "--out", "x.html"]) == 2


def test_report_of_an_invalid_configuration_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "factory.yaml").write_text("factoryId: x\n", encoding="utf-8")

    code = main(["report", "--config", str(config), "--out", str(tmp_path / "r.html")])

    assert code == 1
    assert "factory.yaml:1: factoryId:" in capsys.readouterr().err


def test_times_without_a_zone_are_taken_as_utc(tmp_path: Path) -> None:
    inventory = json.loads(INVENTORY.read_text(encoding="utf-8"))
    for entry in inventory["catalog"]:
        entry["created"] = entry["created"].removesuffix("+00:00")
    (tmp_path / "inventory.json").write_text(json.dumps(inventory), encoding="utf-8")
    span = {"name": "create build VM", "start": "2026-11-24T02:00:00", "end": "2026-11-24T02:10:00"}
    built = {"family": "win2022-base", "version": "20261124020000-d4b3380c", "ok": True}
    report = {
        "instanceId": "manual-1",
        "started": "2026-11-24T01:59:00+01:00",
        "built": [{**built, "spans": [span]}],
    }
    (tmp_path / "runs.json").write_text(json.dumps([report]), encoding="utf-8")
    files = ["--inventory", str(tmp_path / "inventory.json"), "--runs", str(tmp_path / "runs.json")]

    assert main(_report(tmp_path, *files)) == 0
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'data-start="2026-11-24T02:00:00+00:00"' in page
    assert "2026-11-24 00:59 to 2026-11-24 02:10 UTC" in page  # the run's start, in UTC
