"""The GitHub Action and the Azure Pipelines templates, run as CI runs them: the action's
`run` step and each template's script with their expressions filled in, in a shell, with
the local world's settings; then the variables they set are read back."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lab_tasks.conftest import (
    ALPHA,
    GOLDEN_WIN2016,
    PASSWORD,
    LabCli,
    env_path,
    world_settings,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "pipelines" / "templates"
EXPRESSION = re.compile(r"\$\{\{\s*([a-z]+)\.([A-Za-z_-]+)\s*\}\}")


def _fill(text: str, scope: str, values: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        kind, name = match.groups()
        if kind == "github" and name == "action_path":
            return str(ROOT)
        assert kind == scope, match.group(0)
        value = values[name]
        return str(value) if not isinstance(value, bool) else ("True" if value else "False")

    return EXPRESSION.sub(one, text)


def _shell(script: str, env: dict[str, str], lab_cli: LabCli) -> subprocess.CompletedProcess[str]:
    full = {**env_path(), **world_settings(lab_cli.world), **env}
    return subprocess.run(
        ["bash", "-c", script], env=full, cwd=ROOT, capture_output=True, text=True, timeout=300
    )


# ----- the GitHub Action ------------------------------------------------------------------
def _action() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _run_action(lab_cli: LabCli, tmp_path: Path, **inputs: str) -> dict[str, str]:
    action = _action()
    values = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    values.update({k.replace("_", "-"): v for k, v in inputs.items()})
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "run"]
    env = {k: _fill(str(v), "inputs", values) for k, v in step["env"].items()}
    output = tmp_path / "github_output"
    output.write_text("")
    env["GITHUB_OUTPUT"] = str(output)
    done = _shell(_fill(step["run"], "inputs", values), env, lab_cli)
    assert done.returncode == 0, done.stderr
    return _github_outputs(output.read_text())


def _github_outputs(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, delimiter = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            values[name] = "\n".join(body)
        else:
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_action_declares_what_its_step_sets() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    install = action["runs"]["steps"][1]
    assert "${{ github.action_path }}" in install["run"]
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    for spec in action["runs"]["steps"]:
        if "uses" in spec:
            assert re.search(r"@v\d+$", spec["uses"])


def test_action_creates_a_vm_an_image_and_an_environment(lab_cli: LabCli, tmp_path: Path) -> None:
    vm = _run_action(
        lab_cli, tmp_path, command="vm create", lab=ALPHA, name="gh-vm",
        template=str(GOLDEN_WIN2016),
        overrides=f"size=Standard_B2s\nuserName=builder\npassword={PASSWORD}\n",
        retries="1", fail_on_artifact_error="true",
    )  # fmt: skip
    assert vm["labVmId"].lower() == f"{ALPHA}/virtualmachines/gh-vm".lower()
    assert json.loads(vm["outputs"]) == {"labVmId": vm["labVmId"]}

    image = _run_action(
        lab_cli, tmp_path, command="image create", lab=ALPHA, name="gh-image", vm="gh-vm",
        os_state="SysprepRequested", description="from the action",
    )  # fmt: skip
    assert image["customImageId"].lower().endswith("/customimages/gh-image")

    env = _run_action(
        lab_cli, tmp_path, command="env create", lab=ALPHA, name="gh-env",
        repository="public repo", template="WebAppOutputs", parameter_overrides="-siteSuffix gh",
    )  # fmt: skip
    assert env["siteName"].endswith("-gh")
    assert env["environmentResourceGroupId"].rsplit("/", 1)[-1].startswith("team-alpha-gh-env-")
    assert json.loads(env["outputs"])["location"] == "westeurope"

    gone = _run_action(lab_cli, tmp_path, command="env delete", lab=ALPHA, name="gh-env")
    assert json.loads(gone["outputs"])["deleted"] is True


def test_action_with_an_unknown_command_exits_2(lab_cli: LabCli, tmp_path: Path) -> None:
    (step,) = [s for s in _action()["runs"]["steps"] if s.get("id") == "run"]
    done = _shell(_fill(step["run"], "inputs", {}), {"LAB_TASK": "vm start"}, lab_cli)
    assert done.returncode == 2
    assert "LAB_TASK 'vm start' is not one of" in done.stderr


# ----- the Azure Pipelines templates ------------------------------------------------------
def _template(name: str) -> dict[str, Any]:
    data = yaml.safe_load((TEMPLATES / f"{name}.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _run_template(lab_cli: LabCli, name: str, **parameters: Any) -> dict[str, str]:
    """The variables the template's step sets for later steps (`;secret` marks secrets)."""
    template = _template(name)
    values = {p["name"]: p.get("default", "") for p in template["parameters"]}
    values.update(azureSubscription="local-world", imagefactorySource=str(ROOT), **parameters)
    missing = [p["name"] for p in template["parameters"] if values.get(p["name"]) is None]
    assert not missing
    (task,) = [s for s in template["steps"] if s.get("task") == "AzureCLI@2"]
    assert task["inputs"]["scriptType"] == "bash"
    env = {k: _fill(str(v), "parameters", values) for k, v in task["env"].items()}
    done = _shell(_fill(task["inputs"]["inlineScript"], "parameters", values), env, lab_cli)
    assert done.returncode == 0, done.stderr
    variables: dict[str, str] = {}
    for line in done.stdout.splitlines():
        match = re.fullmatch(r"##vso\[task\.setvariable variable=([^;\]]+)([^\]]*)\](.*)", line)
        assert match, line
        if "isOutput=true" not in match.group(2):
            secret = ";secret" if "issecret=true" in match.group(2) else ""
            variables[match.group(1) + secret] = match.group(3)
    return variables


def test_every_template_installs_the_factory_and_runs_one_task() -> None:
    names = sorted(p.stem for p in TEMPLATES.glob("*.yml"))
    assert names == [
        "create-custom-image", "create-environment", "create-vm", "delete-custom-image",
        "delete-environment", "delete-vm", "update-environment",
    ]  # fmt: skip
    for name in names:
        template = _template(name)
        install, task = template["steps"]
        assert "imagefactorySource" in install["script"]
        assert task["inputs"]["inlineScript"].endswith('/pipelines/lab-task.sh"')
        kind, action = name.split("-", 1)[1].split("-")[0], name.split("-", 1)[0]
        assert task["env"]["LAB_TASK"].endswith(action) or action in task["env"]["LAB_TASK"]
        assert kind


def test_pipeline_templates_set_the_extensions_variables(lab_cli: LabCli) -> None:
    vm = _run_template(
        lab_cli, "create-vm", labId=ALPHA, vmName="ado-vm", templateFile=str(GOLDEN_WIN2016),
        parameterOverrides=f"-size 'Standard_B2s' -userName 'builder' -password '{PASSWORD}'",
        failOnArtifactError=True, retryCount=2, deleteFailedLabVMBeforeRetry=True,
    )  # fmt: skip
    assert vm["labVmId"].lower() == f"{ALPHA}/virtualmachines/ado-vm".lower()

    image = _run_template(
        lab_cli, "create-custom-image", labId=ALPHA, customImageName="ado-image",
        labVmId=vm["labVmId"], osState="SysprepRequested",
    )  # fmt: skip
    assert image["customImageId"].lower().endswith("/customimages/ado-image")

    env = _run_template(
        lab_cli, "create-environment", labId=ALPHA, environmentName="ado-env",
        repositoryId="public repo", templateId="WebAppOutputs",
        parameterOverrides="-siteSuffix 'ado' -workerCount 2",
    )  # fmt: skip
    assert env["siteName"].endswith("-ado")
    assert env["workerCount"] == "2"
    assert env["environmentResourceId"].lower().endswith("/environments/ado-env")

    updated = _run_template(
        lab_cli, "update-environment", labId=ALPHA, environmentName=env["environmentResourceId"],
        templateFile=str(ROOT / "tests" / "fixtures" / "lab_tasks" / "storage-account.json"),
        parameterOverrides="-accountPrefix 'ado' -accountKey 's3cr3t'",
    )  # fmt: skip
    assert updated["storageAccountName"].startswith("ado")
    assert "accountKey;secret" in updated  # a secure output is a secret variable
    assert "s3cr3t" not in updated["outputs"]
    assert updated["environmentResourceGroupId"] == env["environmentResourceGroupId"]

    for name, parameter, value in (
        ("delete-environment", "environmentName", "ado-env"),
        ("delete-custom-image", "customImageName", image["customImageId"]),
        ("delete-vm", "vmName", vm["labVmId"]),
    ):
        gone = _run_template(lab_cli, name, labId=ALPHA, **{parameter: value})
        assert json.loads(gone["outputs"])["deleted"] is True


@pytest.mark.parametrize("step_name", ["Validate", "Plan"])
def test_sample_pipeline_validates_and_plans(tmp_path: Path, step_name: str) -> None:
    pipeline = yaml.safe_load((ROOT / "pipelines" / "azure-pipelines.yml").read_text())
    (step,) = [s for s in pipeline["steps"] if s.get("displayName") == step_name]
    env = {
        **env_path(),
        **pipeline["variables"],
        **step.get("env", {}),
        "CONFIG_PATH": str(ROOT / pipeline["variables"]["CONFIG_PATH"]),
        "INVENTORY": str(ROOT / pipeline["variables"]["INVENTORY"]),
    }
    done = subprocess.run(
        ["bash", "-c", step["script"]], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    if step_name == "Plan":
        plan = json.loads((tmp_path / "plan.json").read_text())
        assert plan["builds"] and {"distributions", "retirements"} <= set(plan)
        assert (tmp_path / "plan.txt").read_text().strip()
    else:
        assert "valid" in done.stdout
