"""The subcommand registry: each module of shared/cli/commands is one command, found by name."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from shared.cli.commands import commands, discover
from shared.cli.parsing import build_parser
from shared.cli.processes import LOCAL_WORLD_TOOLS, is_local_world_tool

COMMANDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "cli" / "commands"


def test_every_module_of_the_package_is_a_command() -> None:
    modules = {p.stem for p in COMMANDS_DIR.glob("*.py") if not p.stem.startswith("_")}
    names = [command.name for command in commands()]
    assert names == sorted(names)
    assert {name.replace("-", "_") for name in names} == modules
    assert {"validate", "plan", "schema", "import-legacy", "lab"} <= set(names)


def test_the_parser_offers_every_command_and_the_local_world_tools() -> None:
    (action,) = [a for a in build_parser()._actions if a.dest == "command"]
    assert isinstance(action.choices, dict)
    assert set(action.choices) == {c.name for c in commands()} | set(LOCAL_WORLD_TOOLS)


def _package(root: Path, name: str, modules: dict[str, str]) -> None:
    folder = root / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for module, source in modules.items():
        (folder / f"{module}.py").write_text(source)


COMMAND_SOURCE = (
    "from shared.cli.command import Command\n"
    "COMMAND = Command('hello', 'say hello', lambda parser: None, lambda a, o, e: 0)\n"
)


def test_a_new_module_is_a_new_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _package(tmp_path, "more_commands", {"hello": COMMAND_SOURCE, "_helpers": "X = 1\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    found = discover(importlib.import_module("more_commands"))
    assert [command.name for command in found] == ["hello"]
    sys.modules.pop("more_commands.hello", None)
    sys.modules.pop("more_commands", None)


def test_a_module_without_its_command_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _package(tmp_path, "broken_commands", {"forgot": "def run() -> int:\n    return 0\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TypeError, match=r"broken_commands\.forgot defines no COMMAND"):
        discover(importlib.import_module("broken_commands"))
    sys.modules.pop("broken_commands.forgot", None)
    sys.modules.pop("broken_commands", None)


@pytest.mark.parametrize(("tool", "usage"), [("devhost", "usage: devhost"), ("emulator", "usage:")])
def test_the_local_world_tools_run_as_their_own_process(tool: str, usage: str) -> None:
    script = Path(sys.executable).parent / "imagefactory"
    result = subprocess.run(
        [str(script), tool, "--help"], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(usage) and "--state-dir" in result.stdout
    assert is_local_world_tool([tool, "--anything"]) and not is_local_world_tool(["plan"])
