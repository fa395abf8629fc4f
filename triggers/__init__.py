"""Triggers (timer, webhooks, HTTP start/status, queue workers): thin, parse, verify, start.

Each module holds one blueprint; this list is what the Function App registers.
"""

import azure.durable_functions as df

from triggers import http_api, retirement_worker, sweeper

blueprints: list[df.Blueprint] = [http_api.bp, retirement_worker.bp, sweeper.bp]

# Push webhooks (GitHub, Azure DevOps, GitLab) and the timer schedule.
from triggers import schedule, webhooks  # noqa: E402

blueprints += [webhooks.bp, schedule.bp]
