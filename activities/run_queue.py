"""The coordinator's one step: record how its last run ended and take what waits next."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import azure.durable_functions as df

from activities._scope import activity
from shared.azure import run_queue
from shared.azure.run_queue import QueueState
from shared.function_names import TAKE_RUN
from shared.git.source import GitSourceError, branch_head
from shared.run.request import RunRequest, Take, TakeRequest
from shared.settings import get_settings
from shared.telemetry import run_scope

bp = df.Blueprint()
log = logging.getLogger(__name__)


@activity(bp, TAKE_RUN)
def take_run(ask: TakeRequest) -> Take:

    def change(state: QueueState) -> Take:
        now = datetime.now(UTC)
        if ask.finished is not None:
            run_queue.ended(state, ask.finished, now)
        return run_queue.take(state, ask.token, ask.epoch, _head, now)

    taken: Take = run_queue.default(ask.hub).update(change)
    with run_scope(taken.run):
        log.info("run queue: take %s: %s", ask.token, taken.run or "nothing waits")
    return taken


def _head(request: RunRequest) -> str | None:
    """The head of the configured branch now; None if the repository cannot be read."""
    settings = get_settings()
    token = settings.git_token.get_secret_value() if settings.git_token else None
    try:
        head, _ = branch_head(
            request.source,
            token=token,
            username=settings.git_username,
            ca_bundle=settings.ca_bundle,
            cache_dir=settings.git_cache_dir,
        )
    except GitSourceError as exc:
        log.warning("run queue: the branch head cannot be read (%s); the newest push stands", exc)
        return None
    return head
