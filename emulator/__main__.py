"""`python -m emulator` (also `imagefactory emulator`): run Azurite and the emulator."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from emulator.clock import parse_scale
from emulator.runner import INFO_FILE, LocalWorld
from emulator.scenario import DEFAULT_SCENARIO, ScenarioError, load_scenario


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imagefactory emulator",
        description="Local DevTest Labs emulator (HTTPS, simulated time) with Azurite.",
    )
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO, help="scenario YAML")
    parser.add_argument("--port", type=int, default=0, help="HTTPS port (0 picks a free one)")
    parser.add_argument(
        "--state-dir", type=Path, default=Path(".local/emulator"), help="CA, Azurite, state"
    )
    parser.add_argument(
        "--clock-scale",
        default=None,
        help="simulated seconds per wall second, or a ratio like 1m=10ms (scenario default)",
    )
    parser.add_argument(
        "--with-azurite",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start Azurite with the scenario's storage accounts (default: yes)",
    )
    parser.add_argument(
        "--persist", action="store_true", help="keep the emulator's state in SQLite across runs"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        scenario = load_scenario(args.scenario)
        scale = parse_scale(args.clock_scale) if args.clock_scale is not None else None
    except (ScenarioError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    world = LocalWorld(
        scenario=scenario,
        state_dir=args.state_dir.resolve(),
        port=args.port,
        clock_scale=scale,
        persist=args.persist,
        use_azurite=args.with_azurite,
        azurite_log=args.state_dir.resolve() / "azurite.log",
    )
    info = world.start()
    print(f"emulator  {info.endpoint}", flush=True)
    print(f"CA file   {info.ca_file}", flush=True)
    if info.blob_port:
        print(f"blobs     https://127.0.0.1:{info.blob_port}/<account>", flush=True)
        print(f"queues    https://127.0.0.1:{info.queue_port}/<account>", flush=True)
    print(f"info      {Path(info.state_dir) / INFO_FILE}", flush=True)
    print(f"clock     {info.clock_scale:g} simulated s per s; Ctrl+C stops", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        world.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
