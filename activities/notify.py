"""The run's last step: tell the configured receivers how it ended. Never fails: a receiver
not reached is a warning in the run's report."""

from __future__ import annotations

import os

import azure.durable_functions as df

from activities._scope import activity
from shared.azure.notify import Poster, notify
from shared.function_names import NOTIFY_RUN
from shared.run.notifications import NotifyRequest, NotifyResult

bp = df.Blueprint()


@activity(bp, NOTIFY_RUN)
def notify_run(request: NotifyRequest) -> NotifyResult:
    # The URLs are app settings (in Azure, Key Vault references), read when they are used.
    return notify(request.notifications, request.summary, Poster(environ=os.environ))
