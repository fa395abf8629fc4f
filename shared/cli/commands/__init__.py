"""The subcommands of `imagefactory`: every module of this package defines one `COMMAND`.

Adding a subcommand is adding one module here (a module whose name starts with `_` is a
helper of several commands, not a command). `imagefactory --help` lists them by name.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from types import ModuleType

from shared.cli.command import Command


def commands() -> list[Command]:
    """Every subcommand of `imagefactory`, by name."""
    return discover(sys.modules[__name__])


def discover(package: ModuleType) -> list[Command]:
    """The `COMMAND` of each module of `package`; a module without one is a bug, said at once."""
    found: list[Command] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        command = getattr(module, "COMMAND", None)
        if not isinstance(command, Command):
            raise TypeError(f"{module.__name__} defines no COMMAND (a shared.cli.command.Command)")
        found.append(command)
    return sorted(found, key=lambda command: command.name)
