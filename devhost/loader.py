"""Load `function_app.py` the way the Functions host does and index its functions by binding."""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUPPORTED_TRIGGERS = {
    "httpTrigger",
    "timerTrigger",
    "queueTrigger",
    "orchestrationTrigger",
    "activityTrigger",
}
# Bindings devhost fills in besides the trigger; anything else makes the function unusable.
SUPPORTED_BINDINGS = {"durableClient", "http", "queue"}


class AppLoadError(RuntimeError):
    """The app directory holds no loadable `function_app.py` with an `app` object."""


@dataclass
class FunctionInfo:
    """One function of the app: its name, trigger binding and other bindings."""

    name: str
    python_name: str
    trigger: dict[str, Any]
    bindings: list[dict[str, Any]]
    func: Callable[..., Any]
    parameters: list[str] = field(default_factory=list)

    @property
    def trigger_type(self) -> str:
        return str(self.trigger.get("type"))

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)

    def binding(self, binding_type: str) -> dict[str, Any] | None:
        return next((b for b in self.bindings if b.get("type") == binding_type), None)

    def output_bindings(self, binding_type: str) -> list[dict[str, Any]]:
        return [
            b
            for b in self.bindings
            if b.get("type") == binding_type and str(b.get("direction", "")).upper() == "OUT"
        ]

    def accepts(self, parameter: str) -> bool:
        return parameter in self.parameters

    def annotation(self, parameter: str) -> Any:
        target = getattr(self.func, "client_function", None) or self.func
        try:
            return inspect.signature(target).parameters[parameter].annotation
        except (KeyError, TypeError, ValueError):
            return inspect.Parameter.empty


@dataclass
class LoadedApp:
    """The functions of one app, by name and by trigger type."""

    app_dir: Path
    functions: dict[str, FunctionInfo]
    unsupported: dict[str, str]

    def of_type(self, trigger_type: str) -> list[FunctionInfo]:
        return [f for f in self.functions.values() if f.trigger_type == trigger_type]

    def get(self, name: str, trigger_type: str) -> FunctionInfo | None:
        info = self.functions.get(name)
        if info is None:
            lowered = name.lower()  # function names are case-insensitive in the host
            info = next((f for f in self.functions.values() if f.name.lower() == lowered), None)
        if info is None or info.trigger_type != trigger_type:
            return None
        return info

    def hint_for(self, name: str, trigger_type: str) -> str:
        """A hint when `name` is the Python name of a function registered under another name."""
        for info in self.of_type(trigger_type):
            if info.python_name == name and info.name != name:
                return (
                    f" A function whose Python name is '{name}' is registered as '{info.name}' "
                    "(@app.function_name); call it by that name."
                )
        return ""


def load_app(app_dir: Path, module_file: str = "function_app.py") -> LoadedApp:
    """Import `<app_dir>/function_app.py` with the app directory first on sys.path."""
    app_dir = app_dir.resolve()
    path = app_dir / module_file
    if not path.is_file():
        raise AppLoadError(f"No {module_file} in {app_dir}; pass --app-dir with the app directory.")
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    module_name = path.stem
    existing = sys.modules.get(module_name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == path:
        module = existing
    else:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise AppLoadError(f"{path} cannot be imported.")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    app = getattr(module, "app", None)
    if app is None or not hasattr(app, "get_functions"):
        raise AppLoadError(f"{path} defines no `app` (a FunctionApp or DFApp).")
    # `get_functions()` builds the functions and refuses a second call: build once per module.
    built = getattr(module, "__devhost_functions__", None)
    if built is None:
        built = app.get_functions()
        setattr(module, "__devhost_functions__", built)  # noqa: B010
    return index_functions(app_dir, built)


def index_functions(app_dir: Path, functions: list[Any]) -> LoadedApp:
    """Index built `azure.functions` Function objects (`app.get_functions()` may run once only)."""
    indexed: dict[str, FunctionInfo] = {}
    unsupported: dict[str, str] = {}
    for function in functions:
        name = function.get_function_name()
        bindings = [json.loads(raw) for raw in function.get_raw_bindings()]
        trigger = next((b for b in bindings if str(b.get("type", "")).endswith("Trigger")), None)
        if trigger is None:
            unsupported[name] = "it has no trigger"
            continue
        if trigger["type"] not in SUPPORTED_TRIGGERS:
            unsupported[name] = f"devhost does not run {trigger['type']} functions"
            continue
        others = [b for b in bindings if b is not trigger]
        unknown = [b["type"] for b in others if b.get("type") not in SUPPORTED_BINDINGS]
        if unknown:
            unsupported[name] = f"devhost does not provide the binding(s) {', '.join(unknown)}"
            continue
        func = function.get_user_function()
        try:
            parameters = list(inspect.signature(func).parameters)
        except (TypeError, ValueError):
            parameters = []
        python_name = getattr(getattr(func, "orchestrator_function", None), "__name__", None)
        indexed[name] = FunctionInfo(
            name=name,
            python_name=python_name or getattr(function, "_name", name),
            trigger=trigger,
            bindings=others,
            func=func,
            parameters=parameters,
        )
    return LoadedApp(app_dir=app_dir, functions=indexed, unsupported=unsupported)
