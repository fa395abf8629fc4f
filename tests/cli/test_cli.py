"""The command line: exit codes 0 ok, 1 invalid configuration, 2 usage error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "factory"
INVENTORY = ROOT / "examples" / "inventory.json"


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLE)]) == 0
    assert "valid: 4 image definition(s), 3 lab target(s)" in capsys.readouterr().out


def test_validate_invalid_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "factory.yaml").write_text("factoryId: x\n")
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "factory.yaml:1: factoryId: expected text matching" in err
    assert "factory.yaml:1: factoryLab: is required but missing." in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan"]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["plan", str(EXAMPLE), "--now", "yesterday"]) == 2
    assert main(["plan", str(EXAMPLE), "--inventory", "/nonexistent/inventory.json"]) == 2
    assert "cannot read the inventory file" in capsys.readouterr().err


def test_plan_over_the_sample_inventory(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plan", str(EXAMPLE), "--inventory", str(INVENTORY), "--now", "2026-11-24T12:00:00Z"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "base image has a newer version" in out
    assert "parent rebuilt" in out
    assert "definition changed" in out
    assert "Distribute:" in out and "Retire:" in out and "Clean up:" in out
    assert "beyond the newest 2 kept" in out
    assert "its definition was removed" in out
    assert "golden-manual" not in out  # a hand-made image is never touched
    assert "Plan: 3 to build, 7 to distribute, 4 to retire, 1 to clean up." in out


def test_plan_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plan", str(EXAMPLE), "--json", "--now", "2026-11-24T12:00:00Z"]
    assert main(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert {b["family"] for b in document["builds"]} == {
        "ubuntu2204-base",
        "ubuntu2404-docker",
        "win2022-base",
        "win2022-devtools",
    }
    assert document["builds"][0]["reason"] == "new definition"


def test_schema_prints_all_three(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {
        "factory.schema.json",
        "image.schema.json",
        "lab.schema.json",
    }


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "imagefactory"
    result = subprocess.run(
        [str(script), "validate", str(EXAMPLE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_missing_folders_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path / "nope")]) == 2
    assert main(["import-legacy", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "is not a folder; give the folder that holds factory.yaml" in err
    assert "has no Configuration/GoldenImages folder to import" in err
