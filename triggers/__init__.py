"""Triggers (HTTP start/status, push webhooks, timers, queue workers): thin, parse, verify,
start.

Each module holds one blueprint; `blueprints` is what the Function App registers, in this order.
"""

import azure.durable_functions as df

from triggers import http_api, retirement_worker, schedule, sweeper, webhooks

_MODULES = (http_api, retirement_worker, sweeper, webhooks, schedule)
blueprints: list[df.Blueprint] = [module.bp for module in _MODULES]
