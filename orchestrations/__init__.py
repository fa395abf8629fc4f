"""Durable orchestrators: deterministic, no I/O, no clock, no randomness.

Each module holds one blueprint; this list is what the Function App registers.
"""

import azure.durable_functions as df

blueprints: list[df.Blueprint] = []
