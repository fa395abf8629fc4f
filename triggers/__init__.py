"""Triggers (timer, webhooks, HTTP start/status, queue workers): thin, parse, verify, start.

Each module holds one blueprint; this list is what the Function App registers.
"""

import azure.durable_functions as df

blueprints: list[df.Blueprint] = []
