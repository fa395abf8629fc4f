"""The factory's HTTP API as a client calls it: start a run, read one, list them.

The function key comes from the environment (`IMAGEFACTORY_FUNCTION_KEY`), never from the
command line, where shells and CI logs keep it; it travels in the `x-functions-key`
header, never in the URL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from shared.model.text import first_line

KEY_VARIABLE = "IMAGEFACTORY_FUNCTION_KEY"
TIMEOUT_SECONDS = 30.0


class MissingKey(Exception):
    """The function key is not in the environment."""


class AppRefused(Exception):
    """The app answered with an error (4xx): what was asked is wrong; `code` is its code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}" if code else f"{status}: {message}")
        self.status, self.code = status, code


class AppUnavailable(Exception):
    """The app cannot be reached, or failed to answer (5xx)."""


def function_key(environ: Mapping[str, str] | None = None) -> str:
    key = (os.environ if environ is None else environ).get(KEY_VARIABLE, "").strip()
    if not key:
        raise MissingKey(
            f"set {KEY_VARIABLE} to the Function App's function key "
            "(it is read from the environment only, never from the command line)"
        )
    return key


@dataclass
class RunsClient:
    app: str
    key: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.app = self.app.rstrip("/")
        self.session.headers["x-functions-key"] = self.key

    def _call(self, method: str, path: str, **options: Any) -> Any:
        url = f"{self.app}/api/{path}"
        try:
            response = self.session.request(method, url, timeout=TIMEOUT_SECONDS, **options)
        except requests.RequestException as exc:
            raise AppUnavailable(f"cannot reach {self.app}: {first_line(str(exc))}") from exc
        if response.status_code >= 400:
            code, message = _error_of(response)
            if response.status_code >= 500:
                raise AppUnavailable(
                    f"{self.app} answered {response.status_code} {code}: {message}"
                )
            raise AppRefused(response.status_code, code, message)
        try:
            return response.json()
        except ValueError as exc:
            raise AppUnavailable(f"{url} did not answer JSON (is --app the factory?)") from exc

    def start(
        self, images: list[str], *, force: bool, dry_run: bool, idempotency_key: str | None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        body = {"images": images, "force": force, "dryRun": dry_run}
        answer: dict[str, Any] = self._call("POST", "runs", json=body, headers=headers)
        return answer

    def status(self, run_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("GET", f"runs/{requests.utils.quote(run_id, safe='')}")
        return answer

    def list(self, top: int, page_token: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"top": top}
        if page_token:
            params["pageToken"] = page_token
        answer: dict[str, Any] = self._call("GET", "runs", params=params)
        return answer


def _error_of(response: requests.Response) -> tuple[str, str]:
    """The code and message of an error answer (`{"error": {"code", "message"}}`)."""
    try:
        body = response.json()
    except ValueError:
        return "", first_line(response.text or response.reason or "no answer") or "no answer"
    found = body.get("error") if isinstance(body, dict) else None
    if isinstance(found, dict):
        return str(found.get("code") or ""), first_line(str(found.get("message") or ""))
    return "", first_line(str(body))
