"""The GitHub workflows parse, and what they call exists: CLI commands, Make targets, paths,
the plan's JSON fields; and Azure sign-in needs no stored secret."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def runs(workflow: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in steps(workflow))


def uses(workflow: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(workflow) if s.get("uses", "").split("@")[0].lower() == action]


def cli_commands() -> set[str]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    assert isinstance(sub.choices, dict)
    return set(sub.choices)


@pytest.mark.parametrize("name", ["validate.yml", "deploy.yml"])
def test_workflow_parses_with_pinned_actions(name: str) -> None:
    workflow = load(name)
    assert workflow["on"] and workflow["jobs"]
    for step in steps(workflow):
        assert ("run" in step) != ("uses" in step), step
        if "uses" in step:
            assert re.search(r"@v\d+$", step["uses"]), f"unpinned action {step['uses']}"
    for command in re.findall(r"\bimagefactory (\w[\w-]*)", runs(workflow)):
        assert command in cli_commands(), command


def test_validate_runs_on_configuration_pull_requests_and_posts_the_plan() -> None:
    workflow = load("validate.yml")
    config = Path(workflow["env"]["CONFIG_PATH"])
    assert (ROOT / config / "factory.yaml").is_file()
    assert (ROOT / workflow["env"]["INVENTORY"]).is_file()
    paths = workflow["on"]["pull_request"]["paths"]
    assert f"{config}/**" in paths
    assert workflow["permissions"]["pull-requests"] == "write"
    (python,) = uses(workflow, "actions/setup-python")
    assert python["with"]["python-version"] == "3.11"
    commands = runs(workflow)
    assert "pip install ." in commands
    assert 'imagefactory validate "$CONFIG_PATH"' in commands
    assert re.search(r"imagefactory plan .*--json", commands)
    (script,) = uses(workflow, "actions/github-script")
    assert "createComment" in script["with"]["script"]


def test_the_comment_reads_fields_the_plan_has() -> None:
    workflow = load("validate.yml")
    (script,) = uses(workflow, "actions/github-script")
    fields = set(re.findall(r"\bplan\.(\w+)\.length", script["with"]["script"]))
    assert fields
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                "plan",
                str(ROOT / workflow["env"]["CONFIG_PATH"]),
                "--inventory",
                str(ROOT / workflow["env"]["INVENTORY"]),
                "--json",
            ]
        )
    assert code == 0
    plan = json.loads(out.getvalue())
    assert fields <= {k for k, v in plan.items() if isinstance(v, list)}


def test_deploy_tests_then_deploys_with_openid_connect() -> None:
    text = (WORKFLOWS / "deploy.yml").read_text(encoding="utf-8")
    assert "secrets." not in text, "Azure sign-in uses OpenID Connect, not a stored secret"
    workflow = load("deploy.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in workflow["on"]
    assert "make test" in runs(workflow)
    assert re.search(r"^test:", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "test"
    assert deploy["permissions"]["id-token"] == "write"
    (login,) = uses(workflow, "azure/login")
    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}
    commands = runs(workflow)
    assert "az deployment group create" in commands
    assert "--template-file infra/main.json" in commands
    assert (ROOT / "infra" / "main.json").is_file()
    (functions,) = uses(workflow, "azure/functions-action")
    assert functions["with"]["sku"] == "flexconsumption"
    assert functions["with"]["package"] == "dist/app"


def test_the_package_holds_what_the_host_runs() -> None:
    commands = runs(load("deploy.yml"))
    copied = set()
    for line in commands.splitlines():
        if line.strip().startswith("cp "):
            copied |= {w for w in line.split()[1:-1] if not w.startswith("-")}
    assert copied >= {"function_app.py", "host.json", "requirements.txt"}
    for name in copied:
        assert (ROOT / name).exists(), name
    # Every package function_app.py imports (and everything they import) is in the package.
    imported = set(re.findall(r"^import (\w+)$", (ROOT / "function_app.py").read_text(), re.M))
    assert imported <= copied
    assert "shared" in copied
    assert not {"devhost", "emulator", "tests"} & copied


def _step(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in steps(workflow) if s.get("name") == name]
    return found


def test_validate_plans_against_the_live_labs_with_a_read_only_openid_connect_login() -> None:
    text = (WORKFLOWS / "validate.yml").read_text(encoding="utf-8")
    assert "secrets." not in text, "Azure sign-in uses OpenID Connect, not a stored secret"
    workflow = load("validate.yml")
    assert workflow["permissions"]["id-token"] == "write"
    (login,) = uses(workflow, "azure/login")
    assert login["with"]["client-id"] == "${{ vars.AZURE_READER_CLIENT_ID }}"
    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}
    assert "vars.AZURE_READER_CLIENT_ID != ''" in login["if"]
    assert "head.repo.full_name == github.repository" in login["if"]  # forks get no token
    assert login["continue-on-error"] is True  # a failed sign-in falls back, and says so
    reading = _step(workflow, "Read the labs")
    assert 'imagefactory inventory --config "$CONFIG_PATH" --out' in reading["run"]
    assert _step(workflow, "Plan")["env"]["INVENTORY_FILE"] == "${{ steps.inventory.outputs.file }}"
    (script,) = uses(workflow, "actions/github-script")
    assert script["env"]["INVENTORY_SOURCE"] == "${{ steps.inventory.outputs.source }}"
    assert "process.env.INVENTORY_SOURCE" in script["with"]["script"]


@pytest.mark.parametrize(
    ("login", "exit_code", "file", "says"),
    [
        ("", None, "examples/inventory.json", "no Azure login is configured"),
        ("failure", None, "examples/inventory.json", "the Azure sign-in failed"),
        ("success", 0, "live-inventory.json", "the labs as they are now (`imagefactory"),
        ("success", 1, "live-inventory.json", "except labs that could not be read"),
        ("success", 2, "examples/inventory.json", "the labs could not be read"),
    ],
)
def test_the_inventory_step_falls_back_to_the_static_example_and_says_so(
    tmp_path: Path, login: str, exit_code: int | None, file: str, says: str
) -> None:
    """The step's own shell, run as the runner runs it (bash -e), with an `imagefactory`
    that exits as the real one does: 0 all read, 1 some labs not read, 2 nothing usable."""
    workflow = load("validate.yml")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    fake = bin_dir / "imagefactory"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit {exit_code or 0}\n')
    fake.chmod(0o755)
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "inventory.json").write_text("{}")
    outputs = tmp_path / "outputs"
    outputs.touch()
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "GITHUB_OUTPUT": str(outputs),
        "CONFIG_PATH": workflow["env"]["CONFIG_PATH"],
        "INVENTORY": workflow["env"]["INVENTORY"],
        "LOGIN": login,
    }
    script = _step(workflow, "Read the labs")["run"]
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    found = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert found["file"] == file
    assert says in found["source"], found
    assert calls.exists() == (login == "success")  # Azure is read only once signed in


def test_the_sample_azure_pipeline_reads_the_labs_only_through_a_read_only_connection(
    tmp_path: Path,
) -> None:
    pipeline = yaml.safe_load((ROOT / "pipelines" / "azure-pipelines.yml").read_text())
    assert pipeline["variables"]["READER_CONNECTION"] == ""  # off until a connection is named
    (condition,) = [s for s in pipeline["steps"] if "displayName" not in s and len(s) == 1 and
                    next(iter(s)).startswith("${{ if ne(variables.READER_CONNECTION")]  # fmt: skip
    (task,) = next(iter(condition.values()))
    assert task["task"] == "AzureCLI@2"
    assert task["inputs"]["azureSubscription"] == "${{ variables.READER_CONNECTION }}"
    script = task["inputs"]["inlineScript"]
    assert 'imagefactory inventory --config "$CONFIG_PATH" --out live-inventory.json' in script
    (post,) = [s for s in pipeline["steps"] if s.get("displayName", "").startswith("Post")]
    assert "INVENTORY_SOURCE" in post["script"] and "Planned against {source}" in post["script"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for exit_code, says in ((0, "variable=INVENTORY_FILE]live-inventory.json"),
                            (2, "INVENTORY_SOURCE]the static inventory")):  # fmt: skip
        fake = bin_dir / "imagefactory"
        fake.write_text(f"#!/bin/sh\nexit {exit_code}\n")
        fake.chmod(0o755)
        done = subprocess.run(
            ["bash", "-c", script],
            env={"PATH": f"{bin_dir}:/usr/bin:/bin", "CONFIG_PATH": "c", "INVENTORY": "i.json"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        assert says in done.stdout, done.stdout
