"""Posting a run's notifications to their receivers (Teams, Slack, any CloudEvents webhook).

A receiver's 5xx, 429 or a connection failure is retried with backoff (a Retry-After the
receiver sends is honoured, up to a bound); any other 4xx is final. Nothing here raises:
a receiver that is not reached becomes one warning, which never names the URL (a secret).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import requests

from shared.config.models import Notification
from shared.run.notifications import NotifyResult, RunSummary, message

log = logging.getLogger(__name__)

ATTEMPTS = 4
FIRST_BACKOFF = 1.0  # seconds; doubled after each attempt
MAX_WAIT = 30.0  # the longest wait between attempts, whatever Retry-After says
TIMEOUT = 15.0  # seconds for one request
RETRIED = frozenset({408, 429})  # besides every 5xx


@dataclass(frozen=True)
class Poster:
    """How notifications are posted: the environment their URLs are read from, and the
    pause between attempts (a test may shorten it)."""

    environ: Mapping[str, str]
    sleep: Callable[[float], None] = time.sleep
    first_backoff: float = FIRST_BACKOFF
    ca_bundle: str | None = None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def post(notification: Notification, summary: RunSummary, poster: Poster) -> str | None:
    """Post one notification; None when the receiver took it, else the warning."""
    name = f"the {notification.kind.value} notification ({notification.url_setting})"
    url = poster.environ.get(notification.url_setting, "").strip()
    if not url:
        return f"{name} was not sent: the app setting {notification.url_setting} is not set"
    if not url.lower().startswith(("https://", "http://")):
        # e.g. a Key Vault reference the platform could not resolve: never echo the value
        return (
            f"{name} was not sent: the app setting {notification.url_setting} holds no "
            "http(s) URL (a Key Vault reference that did not resolve?)"
        )
    body, content_type = message(notification.kind, summary)
    wait = poster.first_backoff
    failure = ""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = requests.post(
                url,
                json=body,
                headers={"Content-Type": content_type},
                timeout=TIMEOUT,
                verify=poster.ca_bundle or True,
            )
        except requests.RequestException as exc:
            # the exception's text holds the URL: name only what kind of failure it was
            failure = f"the receiver could not be reached ({type(exc).__name__})"
            pause = wait
        else:
            if response.status_code < 300:
                log.info("notification: %s delivered (attempt %d)", name, attempt)
                return None
            failure = f"the receiver answered HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code not in RETRIED:
                return f"{name} was not delivered: {failure}"
            pause = _retry_after(response) or wait
        if attempt < ATTEMPTS:
            log.warning("notification: %s: %s; retrying", name, failure)
            poster.sleep(min(pause, MAX_WAIT))
            wait *= 2
    return f"{name} was not delivered after {ATTEMPTS} attempts: {failure}"


def notify(notifications: list[Notification], summary: RunSummary, poster: Poster) -> NotifyResult:
    """Post each notification (the run chose those its outcome wants), each on its own."""
    sent, warnings = 0, []
    for notification in notifications:
        warning = post(notification, summary, poster)
        if warning is None:
            sent += 1
        else:
            log.warning("notification: %s", warning)
            warnings.append(warning)
    return NotifyResult(sent=sent, warnings=warnings)
