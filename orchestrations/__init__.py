"""Durable orchestrators: deterministic, no I/O, no clock, no randomness.

Each module holds one blueprint; `blueprints` is what the Function App registers, in this order.
"""

import azure.durable_functions as df

from orchestrations import build_image, distribute_image, factory_run, run_coordinator

_MODULES = (factory_run, build_image, distribute_image, run_coordinator)
blueprints: list[df.Blueprint] = [module.bp for module in _MODULES]
