"""Triggers (HTTP start/status, push webhooks, timers, queue workers): thin, parse, verify,
start.

Each module holds one blueprint; this list is what the Function App registers.
"""

import azure.durable_functions as df

from triggers import http_api, retirement_worker, schedule, sweeper, webhooks

blueprints: list[df.Blueprint] = [
    http_api.bp,
    retirement_worker.bp,
    sweeper.bp,
    webhooks.bp,
    schedule.bp,
]
