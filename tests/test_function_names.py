"""Function names are said once: in shared/function_names.py, and registered as their kind.

Every function registered in function_app.py has its constant, and is registered by it,
never by a string literal (a literal drifts from what the callers and tests name).
Every function an orchestrator calls is registered in function_app.py, as its kind.

A call to a name the app does not register is never scheduled by the real Durable host:
the instance stays Running forever, with no error anywhere. So every activity and
sub-orchestrator name in `orchestrations/*.py` (the constants of
`shared/function_names.py`) must be a registered function of the right kind, and every
constant there must be registered (`*_QUEUE` constants name queues a queue trigger
reads) and used: the module holds function and queue names only (an instance id such as
the coordinator's lives with the run request).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import shared.function_names as names
from devhost.loader import LoadedApp, load_app

ROOT = Path(__file__).resolve().parent.parent
NAMES_MODULE = "shared.function_names"

# Callees whose first name argument is an activity, or a sub-orchestrator: the SDK's own
# calls and the helpers of orchestrations/steps.py that wrap them.
ACTIVITY_CALLEES = {"call_activity", "call_activity_with_retry", "call", "monitor", "best_effort"}
ORCHESTRATOR_CALLEES = {"call_sub_orchestrator", "call_sub_orchestrator_with_retry"}
KINDS = {"activity": "activityTrigger", "orchestrator": "orchestrationTrigger"}


def constants() -> dict[str, str]:
    """The constants of shared/function_names.py: NAME -> value."""
    return {k: v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}


def called_names(source: str, values: dict[str, str]) -> tuple[set[str], dict[str, str]]:
    """The names an orchestrator module refers to, and the kind of those it calls.

    Returns every function-name constant the module uses (as its value) and, for calls
    to a known callee, the kind each called name must have ('activity' or 'orchestrator').
    A string literal passed to a known callee counts too.
    """
    tree = ast.parse(source)
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == NAMES_MODULE:
            for alias in node.names:
                if alias.name in values:
                    imported[alias.asname or alias.name] = values[alias.name]
    used = {
        imported[node.id]
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id in imported
    }
    kinds: dict[str, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if callee in ACTIVITY_CALLEES:
            kind = "activity"
        elif callee in ORCHESTRATOR_CALLEES:
            kind = "orchestrator"
        else:
            continue
        for arg in node.args:
            value: str | None = None
            if isinstance(arg, ast.Name) and arg.id in imported:
                value = imported[arg.id]
            elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                value = arg.value
            if value is not None:
                kinds[value] = kind
                break  # the first name argument is the function called
    return used, kinds


@pytest.fixture(scope="module")
def app() -> LoadedApp:
    # As devhost loads it: function_app.py imported once, its functions built once.
    return load_app(ROOT)


def registered(app: LoadedApp) -> dict[str, str]:
    return {info.name: info.trigger_type for info in app.functions.values()}


def orchestrator_calls() -> tuple[set[str], dict[str, str]]:
    used: set[str] = set()
    kinds: dict[str, str] = {}
    for path in sorted((ROOT / "orchestrations").glob("*.py")):
        module_used, module_kinds = called_names(path.read_text(encoding="utf-8"), constants())
        used |= module_used
        kinds |= module_kinds
    return used, kinds


def test_every_name_an_orchestrator_calls_is_registered_as_its_kind(app: LoadedApp) -> None:
    functions = registered(app)
    used, kinds = orchestrator_calls()
    # The scan finds the calls (it would pass vacuously otherwise).
    assert sum(kind == "activity" for kind in kinds.values()) >= 10, kinds
    assert {names.BUILD_IMAGE, names.DISTRIBUTE_IMAGE} <= {
        n for n, kind in kinds.items() if kind == "orchestrator"
    }, kinds
    wrong = [
        f"'{name}' is called as an {kind} but "
        + (f"is a {functions[name]} function" if name in functions else "is not registered")
        for name, kind in sorted(kinds.items())
        if functions.get(name) != KINDS[kind]
    ]
    assert not wrong, "\n".join(wrong)
    queues = {names.RETIREMENT_QUEUE}
    unregistered = sorted(n for n in used - queues if n not in functions)
    assert not unregistered, f"orchestrations use names no function has: {unregistered}"


def test_every_constant_of_function_names_is_registered(app: LoadedApp) -> None:
    functions = registered(app)
    queue_names = {str(info.trigger.get("queueName")) for info in app.of_type("queueTrigger")}
    missing = []
    for constant, value in sorted(constants().items()):
        if constant.endswith("_QUEUE"):
            if value not in queue_names:
                missing.append(f"{constant} = '{value}' (no queue trigger reads it)")
        elif value not in functions:
            missing.append(f"{constant} = '{value}'")
    assert not missing, "not registered in function_app.py: " + ", ".join(missing)
    assert not app.unsupported, app.unsupported  # devhost can run every function


def test_every_registered_function_has_its_constant(app: LoadedApp) -> None:
    values = set(constants().values())
    without = sorted(name for name in registered(app) if name not in values)
    assert not without, f"registered without a constant in function_names.py: {without}"


FUNCTION_CODE = ("triggers", "activities", "orchestrations")
PRODUCT_CODE = (*FUNCTION_CODE, "shared")


def imported_constants(source: str) -> set[str]:
    """The names a module imports from shared.function_names (or reads off it as a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == NAMES_MODULE:
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Attribute) and node.attr.isupper():
            found.add(node.attr)
    return found


def test_no_constant_is_dead() -> None:
    used: set[str] = set()
    for package in PRODUCT_CODE:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path != ROOT / "shared" / "function_names.py":
                used |= imported_constants(path.read_text(encoding="utf-8"))
    dead = sorted(set(constants()) - used)
    assert not dead, f"constants of function_names.py no product code uses: {dead}"
    assert imported_constants("from shared.function_names import A as B\nx = names.C\n") == {
        "A",
        "C",
    }


def literal_names(source: str) -> list[str]:
    """The string literals a module passes to `function_name(...)` (a decorator or a call)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        first = node.args[0]
        if callee == "function_name" and isinstance(first, ast.Constant):
            found.append(repr(first.value))
    return found


def test_functions_are_registered_by_their_constant_never_by_a_literal() -> None:
    literals = [
        f"{path.relative_to(ROOT)}: function_name({name})"
        for package in FUNCTION_CODE
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in literal_names(path.read_text(encoding="utf-8"))
    ]
    assert not literals, "\n".join(literals)
    source = "@bp.function_name('x')\n@bp.function_name(X)\ndef f(): pass\n"
    assert literal_names(source) == ["'x'"]  # the scan sees a literal when there is one


def test_the_scan_catches_an_unregistered_or_mistyped_call() -> None:
    source = (
        "from shared.function_names import BUILD_IMAGE, VM_STATUS\n"
        "def orchestrator(context):\n"
        "    yield call(context, 'not_a_function', {})\n"
        "    yield context.call_sub_orchestrator(VM_STATUS, {}, 'child')\n"
        "    yield monitor(context, BUILD_IMAGE, {}, bool, 1, 1)\n"
    )
    used, kinds = called_names(source, constants())
    assert used == {names.BUILD_IMAGE, names.VM_STATUS}
    assert kinds == {
        "not_a_function": "activity",
        names.VM_STATUS: "orchestrator",
        names.BUILD_IMAGE: "activity",
    }
