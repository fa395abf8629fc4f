"""The layers of the tree are rules (README, "Layout"); this test keeps them.

- The pure packages (`shared/model`, `shared/config`, `shared/planning`, `shared/run`)
  never import the adapters (`shared.azure`, `shared.git`, `shared.webhooks`,
  `shared.cli`, `shared.lab_tasks`) nor an SDK that reaches out (`azure.*`, `dulwich`,
  `requests`, `urllib3`) nor the standard library's network, processes or threads.
- `orchestrations/` (deterministic, replayed) imports only the pure packages,
  `shared.function_names`, `shared.telemetry`, `azure.durable_functions`, pydantic and
  the deterministic part of the standard library (no clock, randomness, I/O).
- The dependency direction: product code never imports `devhost/` or `emulator/`, and
  those two never import product code; `shared/` never imports the Functions SDK.
- No import circle at module level anywhere in the code.
- `shared/` holds packages, and at most a handful of top-level modules.

Each rule is a function over a tree, so the tests at the end prove on a tiny synthetic
tree that each one catches what it is for.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PURE = ("shared.model", "shared.config", "shared.planning", "shared.run")
ADAPTERS = ("shared.azure", "shared.git", "shared.webhooks", "shared.cli", "shared.lab_tasks")
REACHING_OUT = ("azure", "dulwich", "requests", "urllib3")
# The standard library's network, processes and threads: what a pure package never needs.
STDLIB_IO = ("socket", "ssl", "http", "urllib", "subprocess", "multiprocessing", "threading")
# What an orchestrator must not read, as a replay would read it differently.
NONDETERMINISTIC = (*STDLIB_IO, "asyncio", "os", "random", "secrets", "time", "uuid")
ORCHESTRATIONS_MAY_IMPORT = (
    *PURE,
    "shared.function_names",
    "shared.telemetry",
    "orchestrations",
    "azure.durable_functions",
    "pydantic",
)
PRODUCT = ("shared", "triggers", "orchestrations", "activities", "function_app")
LOCAL_WORLD = ("devhost", "emulator")
FUNCTIONS_SDK = ("azure.functions", "azure.durable_functions")
CODE = ("shared", "orchestrations", "activities", "triggers", "devhost", "emulator")
MAX_SHARED_MODULES = 5


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. shared.planning.planner
    name: str  # what it imports, absolute, e.g. shared.azure.labs
    line: int
    top_level: bool  # at module level, not in a function (a TYPE_CHECKING import counts:
    # the modules still depend on each other, only the interpreter does not see it)

    def __str__(self) -> str:
        return f"{self.module} imports {self.name} (line {self.line})"


def within(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(root: Path, packages: Iterable[str]) -> Iterator[Path]:
    for package in packages:
        single = root / f"{package}.py"
        if single.is_file():
            yield single
        folder = root / package
        if folder.is_dir():
            yield from sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def imports_of(root: Path, path: Path) -> list[Import]:
    """Every import in a file, relative ones made absolute; `from a import b` names a.b
    when a/b is a module of the tree, and a otherwise."""
    module = module_name(root, path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, top_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(module, alias.name, child.lineno, top_level))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in child.names:
                    candidate = f"{base}.{alias.name}"
                    exists = (root / Path(*candidate.split("."))).with_suffix(".py").is_file() or (
                        root / Path(*candidate.split(".")) / "__init__.py"
                    ).is_file()
                    found.append(Import(module, base, child.lineno, top_level))
                    if exists:
                        found.append(Import(module, candidate, child.lineno, top_level))
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, False)
            else:
                visit(child, top_level)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), True)
    return found


def all_imports(root: Path, packages: Iterable[str]) -> list[Import]:
    return [i for path in python_files(root, packages) for i in imports_of(root, path)]


# The rules -----------------------------------------------------------------------------------


def pure_offences(root: Path) -> list[str]:
    """Imports of an adapter or of an SDK that reaches out, from a pure package."""
    return [
        str(i)
        for i in all_imports(root, [p.replace(".", "/") for p in PURE])
        if within(i.name, ADAPTERS)
        or within(i.name, REACHING_OUT)
        or within(i.name, STDLIB_IO)
        or within(i.name, LOCAL_WORLD)
        or within(i.name, PRODUCT[1:])
    ]


def orchestration_offences(root: Path) -> list[str]:
    """Imports by orchestrations of anything but what a deterministic orchestrator may use."""
    return [
        str(i)
        for i in all_imports(root, ["orchestrations"])
        if not within(i.name, ORCHESTRATIONS_MAY_IMPORT)
        and (
            i.name.split(".")[0] not in sys.stdlib_module_names or within(i.name, NONDETERMINISTIC)
        )
        and i.name != "__future__"
    ]


def direction_offences(root: Path) -> list[str]:
    """Product code importing the local world, the local world importing product code,
    or shared code importing the Functions SDK."""
    offences = [str(i) for i in all_imports(root, PRODUCT) if within(i.name, LOCAL_WORLD)]
    offences += [str(i) for i in all_imports(root, LOCAL_WORLD) if within(i.name, PRODUCT)]
    offences += [
        f"{i} (Functions code)"
        for i in all_imports(root, ["shared"])
        if within(i.name, FUNCTIONS_SDK)
    ]
    return offences


def import_circles(root: Path, packages: Iterable[str]) -> list[list[str]]:
    """The module-level import circles among the tree's modules (each sorted, as a list)."""
    files = list(python_files(root, packages))
    modules = {module_name(root, path) for path in files}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for path in files:
        for i in imports_of(root, path):
            if i.top_level and i.name in modules and i.name != i.module:
                graph[i.module].add(i.name)
    return [sorted(c) for c in _strongly_connected(graph) if len(c) > 1]


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (module graphs can be deep)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def shared_modules(root: Path) -> list[str]:
    """The top-level modules of shared/ (its packages not counted)."""
    return sorted(p.name for p in (root / "shared").glob("*.py") if p.name != "__init__.py")


# The tree keeps them -------------------------------------------------------------------------


def test_the_pure_packages_import_no_adapter_and_no_sdk_that_reaches_out() -> None:
    offences = pure_offences(ROOT)
    assert not offences, "a pure package imports an adapter or an SDK:\n" + "\n".join(offences)


def test_orchestrations_import_only_what_a_deterministic_orchestrator_may() -> None:
    offences = orchestration_offences(ROOT)
    assert not offences, "orchestrations import beyond the pure layer:\n" + "\n".join(offences)


def test_product_code_and_the_local_world_stay_apart() -> None:
    offences = direction_offences(ROOT)
    assert not offences, "dependency direction broken:\n" + "\n".join(offences)


def test_no_import_circles() -> None:
    circles = import_circles(ROOT, CODE)
    assert not circles, "import circles:\n" + "\n".join(" <-> ".join(c) for c in circles)


def test_shared_holds_packages_and_a_handful_of_modules() -> None:
    modules = shared_modules(ROOT)
    assert len(modules) <= MAX_SHARED_MODULES, modules
    assert all((ROOT / p.replace(".", "/") / "__init__.py").is_file() for p in (*PURE, *ADAPTERS))


def test_function_app_composes_only() -> None:
    names = {i.name for i in imports_of(ROOT, ROOT / "function_app.py")}
    assert names <= {
        "azure.durable_functions",
        "azure.functions",
        "activities",
        "orchestrations",
        "triggers",
        "shared.telemetry",
        "shared",
    }, names


def readme_layout(readme: str) -> list[str]:
    """The paths named in the first cell of each row of the README's layout table."""
    section = readme.split("\n## Layout\n", 1)[-1].split("\n## ", 1)[0]
    paths = []
    for line in section.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            paths += [part.strip().strip("`") for part in first.split(",")]
    return paths


def layout_problems(root: Path, readme: str) -> list[str]:
    """Packages of the tree the README's layout table lacks, and rows naming nothing."""
    named = set(readme_layout(readme))
    problems = [
        f"the layout table names {p}, which is not in the tree"
        for p in sorted(named)
        if "*" not in p and not (root / p).exists()
    ]
    packages = [
        f"shared/{d.name}/"
        for d in sorted((root / "shared").iterdir())
        if (d / "__init__.py").is_file()
    ]
    problems += [f"the layout table has no row for {p}" for p in packages if p not in named]
    return problems


def test_the_readme_layout_table_matches_the_tree() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme_layout(readme)) >= 10
    problems = layout_problems(ROOT, readme)
    assert not problems, "\n".join(problems)


# Each rule catches what it is for, on a tiny synthetic tree ---------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        for parent in path.relative_to(root).parents:
            init = root / parent / "__init__.py"
            if parent != Path(".") and not init.exists():
                init.write_text("")
    return root


CLEAN = {
    "shared/model/names.py": "import re\n",
    "shared/planning/plan.py": "from shared.model import names\nfrom pydantic import BaseModel\n",
    "shared/azure/labs.py": "import azure.mgmt.devtestlabs\nfrom shared.planning import plan\n",
    "orchestrations/run.py": (
        "import azure.durable_functions as df\nfrom shared.planning.plan import Plan\n"
        "from shared.function_names import RUN\nfrom . import steps\n"
    ),
    "orchestrations/steps.py": "import json\n",
    "devhost/host.py": "import http.server\n",
    "emulator/server.py": "import ssl\n",
}


def test_a_clean_synthetic_tree_passes(tmp_path: Path) -> None:
    root = _tree(tmp_path, CLEAN)
    assert pure_offences(root) == []
    assert orchestration_offences(root) == []
    assert direction_offences(root) == []
    assert import_circles(root, CODE) == []


@pytest.mark.parametrize(
    ("name", "source", "offence"),
    [
        ("shared/planning/bad.py", "from shared.azure import labs\n", "shared.azure"),
        ("shared/run/bad.py", "from shared.azure.labs import x\n", "shared.azure.labs"),
        ("shared/config/bad.py", "def f():\n    import dulwich.repo\n", "dulwich.repo"),
        ("shared/model/bad.py", "import requests\n", "requests"),
        (
            "shared/model/bad.py",
            "from azure.identity import DefaultAzureCredential\n",
            "azure.identity",
        ),
        ("shared/config/bad.py", "from shared.cli.main import main\n", "shared.cli.main"),
        ("shared/run/bad.py", "from ..git import source\n", "shared.git"),
        ("shared/planning/bad.py", "import urllib.request\n", "urllib.request"),
        ("shared/model/bad.py", "from subprocess import run\n", "subprocess"),
    ],
)
def test_the_pure_rule_catches_each_kind(
    tmp_path: Path, name: str, source: str, offence: str
) -> None:
    root = _tree(tmp_path, {**CLEAN, "shared/git/source.py": "", name: source})
    assert any(f"imports {offence} " in o for o in pure_offences(root)), pure_offences(root)


@pytest.mark.parametrize(
    ("source", "offence"),
    [
        ("from shared.azure.labs import x\n", "shared.azure.labs"),
        ("from shared.settings import get_settings\n", "shared.settings"),
        ("import azure.functions as func\n", "azure.functions"),
        ("from activities import vms\n", "activities"),
        ("import requests\n", "requests"),
        ("import uuid\n", "uuid"),
        ("from time import time\n", "time"),
        ("import random\n", "random"),
        ("from os import environ\n", "os"),
    ],
)
def test_the_orchestration_rule_catches_each_kind(
    tmp_path: Path, source: str, offence: str
) -> None:
    root = _tree(tmp_path, {**CLEAN, "orchestrations/bad.py": source})
    assert any(f"imports {offence} " in o for o in orchestration_offences(root))


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("triggers/bad.py", "from devhost.host import Host\n"),
        ("shared/cli/bad.py", "def f():\n    import emulator.server\n"),
        ("function_app.py", "import devhost\n"),
        ("devhost/bad.py", "from shared.settings import Settings\n"),
        ("emulator/bad.py", "import orchestrations\n"),
        ("shared/azure/bad.py", "import azure.functions\n"),
    ],
)
def test_the_direction_rule_catches_each_kind(tmp_path: Path, name: str, source: str) -> None:
    root = _tree(tmp_path, {**CLEAN, name: source})
    assert len(direction_offences(root)) == 1, direction_offences(root)


def test_the_circle_check_finds_circles_and_only_at_module_level(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            **CLEAN,
            "devhost/a.py": "from devhost import b\n",
            "devhost/b.py": "from devhost.c import x\n",
            "devhost/c.py": "import devhost.a\n",
            "emulator/core.py": "from .models import Lab\n",
            "emulator/models.py": "from emulator.core import state\n",
            # A typing-only import is a dependency too; a lazy one (in a function) is not.
            "shared/git/one.py": "from shared.git import two\n",
            "shared/git/two.py": "def f():\n    from shared.git import one\n",
            "shared/web/hooks.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from shared.web.intake import Push\n"
            ),
            "shared/web/intake.py": "from shared.web import hooks\n",
        },
    )
    assert import_circles(root, CODE) == [
        ["devhost.a", "devhost.b", "devhost.c"],
        ["emulator.core", "emulator.models"],
        ["shared.web.hooks", "shared.web.intake"],
    ]


def test_the_shared_module_count_is_what_is_counted(tmp_path: Path) -> None:
    root = _tree(tmp_path, {f"shared/m{i}.py": "" for i in range(6)})
    assert len(shared_modules(root)) == 6 > MAX_SHARED_MODULES


def test_the_layout_table_check_sees_a_missing_row_and_a_stale_one(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"shared/model/a.py": "", "shared/run/b.py": ""})
    readme = "## Layout\n\n| folder | what |\n| --- | --- |\n| `shared/model/` | x |\n"
    readme += "| `shared/gone/`, `shared/*.py` | y |\n\n## Next\n| `shared/run/` | z |\n"
    assert layout_problems(root, readme) == [
        "the layout table names shared/gone/, which is not in the tree",
        "the layout table has no row for shared/run/",
    ]
