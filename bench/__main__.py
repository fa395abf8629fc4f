"""Run every benchmark in this folder: `python -m bench` (or `make bench`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_")
    )
    wanted = set(sys.argv[1:])
    modules = {
        name: importlib.import_module(f"bench.{name}")
        for name in names
        if not wanted or name in wanted
    }
    # A bench that prints another's figures too (COVERS) spares running that one twice.
    covered = {c for m in modules.values() for c in getattr(m, "COVERS", ())} - wanted
    for name, module in modules.items():
        if name in covered:
            print(f"== bench.{name}: printed by the bench that covers it")
            continue
        print(f"== bench.{name}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
