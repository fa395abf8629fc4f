"""Durable activities: one small step each, calling shared/.

Each module holds one blueprint; this list is what the Function App registers.
"""

import azure.durable_functions as df

blueprints: list[df.Blueprint] = []
