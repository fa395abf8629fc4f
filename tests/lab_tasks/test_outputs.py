"""CI output formats: what a later step or job of GitHub Actions or Azure Pipelines reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from shared.lab_tasks.errors import LabUsageError
from shared.lab_tasks.outputs import write_outputs

VALUES = {"labVmId": "/subscriptions/x/vm", "notes": "two\nlines", "key": "s3cr3t", "n": 3}
PERCENT = {"ratio": "100%\r\ndone"}


def test_github_appends_masks_secrets_and_uses_heredocs_for_line_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out"
    target.write_text("earlier=1\n")
    monkeypatch.setenv("GITHUB_OUTPUT", str(target))
    write_outputs(VALUES, {"key"}, "github", Console())
    text = target.read_text()
    assert text.startswith("earlier=1\nlabVmId=/subscriptions/x/vm\n")
    assert "notes<<ghadelimiter_" in text and "\ntwo\nlines\nghadelimiter_" in text
    assert "key=s3cr3t\n" in text and "n=3\n" in text
    assert 'outputs={"labVmId":"/subscriptions/x/vm","notes":"two\\nlines","n":3}' in text
    assert capsys.readouterr().out == "::add-mask::s3cr3t\n"


def test_github_without_its_output_file_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    with pytest.raises(LabUsageError, match="needs GITHUB_OUTPUT"):
        write_outputs(VALUES, set(), "github", Console())


def test_azure_pipelines_sets_step_and_job_variables(capsys: pytest.CaptureFixture[str]) -> None:
    write_outputs(VALUES, {"key"}, "azure-pipelines", Console())
    lines = capsys.readouterr().out.splitlines()
    assert "##vso[task.setvariable variable=labVmId]/subscriptions/x/vm" in lines
    assert "##vso[task.setvariable variable=labVmId;isOutput=true]/subscriptions/x/vm" in lines
    assert "##vso[task.setvariable variable=notes]two%0Alines" in lines
    assert "##vso[task.setvariable variable=key;issecret=true]s3cr3t" in lines
    assert all(line.startswith("##vso[") for line in lines)


def test_logging_command_data_is_escaped_as_the_task_library_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_outputs(PERCENT, set(), "azure-pipelines", Console())
    assert "##vso[task.setvariable variable=ratio]100%AZP25%0D%0Adone" in (
        capsys.readouterr().out.splitlines()
    )
