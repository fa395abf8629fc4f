"""The dependency direction of ARCHITECTURE.md section 3 is a rule; this test keeps it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> top-level packages of this project it must never import
FORBIDDEN: dict[str, set[str]] = {
    "shared": {"triggers", "orchestrations", "activities", "devhost", "emulator", "function_app"},
    "activities": {"triggers", "orchestrations", "devhost", "emulator", "function_app"},
    "orchestrations": {"triggers", "devhost", "emulator", "function_app"},
    "triggers": {"devhost", "emulator", "function_app"},
    "devhost": {"shared", "triggers", "orchestrations", "activities", "emulator"},
    "emulator": {"shared", "triggers", "orchestrations", "activities", "devhost"},
}
FUNCTIONS_MODULES = {"azure.functions", "azure.durable_functions"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependency_direction(package: str) -> None:
    offences = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN[package]:
                offences.append(f"{path.relative_to(ROOT)} imports {name}")
            if package == "shared" and any(
                name == m or name.startswith(m + ".") for m in FUNCTIONS_MODULES
            ):
                offences.append(f"{path.relative_to(ROOT)} imports Functions code ({name})")
    assert not offences, "dependency direction broken:\n" + "\n".join(offences)


def test_function_app_composes_only() -> None:
    names = _imports(ROOT / "function_app.py")
    assert names <= {
        "azure.durable_functions",
        "azure.functions",
        "activities",
        "orchestrations",
        "triggers",
        "shared.telemetry",
    }
