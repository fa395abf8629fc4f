"""Durable orchestrators: deterministic, no I/O, no clock, no randomness.

Each module holds one blueprint; this list is what the Function App registers.
"""

import azure.durable_functions as df

from orchestrations import build_image, distribute_image, factory_run, run_coordinator

blueprints: list[df.Blueprint] = [
    factory_run.bp,
    build_image.bp,
    distribute_image.bp,
    run_coordinator.bp,
]
