"""Bad input answers one clear sentence: exit 2 for what the command was given, exit 1 for
what Azure refused; nothing is created."""

from __future__ import annotations

import pytest

from tests.lab_tasks.conftest import ALPHA, GOLDEN_WIN2016, SUB1, LabCli, vm_args


def _one_sentence(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.startswith("imagefactory lab:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (
            ["vm", "create", "--lab", ALPHA, "--name", "x1", "--template", "missing.json"],
            2,
            "the template file missing.json does not exist",
        ),
        (
            vm_args("x2", "--override", "colour=blue"),
            2,
            "an override sets 'colour', which",
        ),
        (
            ["vm", "create", "--lab", ALPHA, "--name", "x3", "--template", str(GOLDEN_WIN2016)],
            2,
            "needs a value for 'size', 'userName', 'password'",
        ),
        (
            vm_args("x4", "--override", "size"),
            2,
            "--override 'size' is not NAME=VALUE",
        ),
        (
            ["vm", "delete", "--lab", f"/subscriptions/{SUB1}/resourceGroups/rg", "--name", "v"],
            2,
            "--lab: '/subscriptions/",
        ),
        (
            ["vm", "delete", "--lab", ALPHA + "/virtualmachines/v", "--name", "v"],
            2,
            "is not a DevTest Labs lab id",
        ),
        (
            ["vm", "delete", "--lab", ALPHA.replace("team-alpha", "no-such-lab"), "--name", "v"],
            1,
            "The lab no-such-lab does not exist",
        ),
        (
            vm_args("this-name-is-too-long"),
            2,
            "must be 1-15 letters",
        ),
        (
            ["env", "create", "--lab", ALPHA, "--name", "e", "--repository", "nope",
             "--template", "WebApp"],
            1,
            "has no repository 'nope' (it has: public repo)",
        ),
        (
            ["env", "create", "--lab", ALPHA, "--name", "e", "--repository", "public repo",
             "--template", "Nope"],
            1,
            "has no template 'Nope' (it has: WebApp, WebAppOutputs)",
        ),
        (
            ["env", "create", "--lab", ALPHA, "--name", "e", "--repository", "public repo",
             "--template", "WebAppOutputs", "--override", "siteSufix=x"],
            2,
            "an override sets 'siteSufix', which template WebAppOutputs of repository public "
            "repo does not declare (it declares siteSuffix, workerCount)",
        ),
        (
            ["env", "create", "--lab", ALPHA, "--name", "e", "--repository", "public repo",
             "--template", "WebAppOutputs", "--override", "workerCount=many"],
            2,
            "parameter 'workerCount' of template WebAppOutputs of repository public repo is "
            "int, and 'many' is not one",
        ),
        (
            ["env", "update", "--lab", ALPHA, "--name", "nothing-here",
             "--template", str(GOLDEN_WIN2016).replace("Datacenter", "Nope")],
            2,
            "does not exist",
        ),
        (
            ["env", "update", "--lab", ALPHA, "--name", "nothing-here", "--template",
             str(GOLDEN_WIN2016), "--override", "size=a", "--override", "userName=b",
             "--override", "password=c", "--override", "newVMName=d", "--override", "labName=e"],
            1,
            "The lab team-alpha has no environment nothing-here.",
        ),
    ],
)  # fmt: skip
def test_bad_input_answers_one_sentence(
    lab_cli: LabCli, args: list[str], code: int, expected: str
) -> None:
    run = lab_cli(*args)
    assert run.code == code, run.err
    assert expected in _one_sentence(run.err)
    assert run.out == ""
    state = lab_cli.world.admin("GET", "state")["world"]
    assert state["environments"] == {}
    for sub in state["subscriptions"].values():
        for group in sub["resource_groups"].values():
            assert group["deployments"] == {}
            for lab in group["labs"].values():
                assert lab["vms"] == {}


def test_a_usage_error_of_the_parser_exits_2(lab_cli: LabCli) -> None:
    run = lab_cli("image", "create", "--lab", ALPHA, "--name", "i", "--vm", "v",
                  "--os-state", "Generalized")  # fmt: skip
    assert run.code == 2
    assert "invalid choice: 'Generalized'" in run.err


def test_the_parser_offers_what_the_tasks_take() -> None:
    from shared.lab_tasks import cli, images, outputs

    assert cli.OS_STATES == images.OS_STATES
    assert cli.FORMATS == outputs.FORMATS
