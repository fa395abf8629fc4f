"""A local webhook receiver for notification tests: an http.server in a thread that
answers each path with the statuses it is given, records every post, and checks each
payload against the shape its service documents (the required fields only).

- Microsoft Teams incoming webhook with an Adaptive Card: a `message` with an
  `attachments` list whose item has contentType `application/vnd.microsoft.card.adaptive`
  and `content` an AdaptiveCard (`type`, `version`, `body` of typed elements).
- Slack incoming webhook: `text` (the notification's fallback), and `blocks` (at most 50;
  a section's text at most 3000 characters, a header's plain text at most 150).
- CloudEvents 1.0, structured JSON mode: Content-Type `application/cloudevents+json`, the
  required attributes specversion "1.0", non-empty id, source and type; time RFC 3339.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
SLACK_BLOCK_TYPES = {"header", "section", "divider", "context", "actions", "image", "rich_text"}


@dataclass(frozen=True)
class Post:
    path: str
    content_type: str
    body: Any


@dataclass
class Receiver:
    url: str
    answers: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    posts: list[Post] = field(default_factory=list)

    def answer(self, path: str, *statuses: int | tuple[int, dict[str, str]]) -> str:
        """Answer `path` with these statuses in turn (the last one from then on); its URL."""
        self.answers[path] = [s if isinstance(s, tuple) else (s, {}) for s in statuses]
        return f"{self.url}{path}"

    def at(self, path: str) -> list[Post]:
        return [p for p in self.posts if p.path == path]


@contextmanager
def receiver() -> Iterator[Receiver]:
    lock = threading.Lock()
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            with lock:
                state.posts.append(Post(self.path, self.headers.get("Content-Type", ""), body))
                queue = state.answers.get(self.path, [(404, {})])
                status, headers = queue[0] if len(queue) == 1 else queue.pop(0)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def check_teams(post: Post) -> dict[str, Any]:
    """The Adaptive Card of a Teams incoming webhook message; AssertionError if malformed."""
    assert post.content_type.startswith("application/json"), post.content_type
    body = post.body
    assert isinstance(body, dict) and body.get("type") == "message", body
    attachments = body.get("attachments")
    assert isinstance(attachments, list) and len(attachments) == 1, attachments
    attachment = attachments[0]
    assert attachment.get("contentType") == ADAPTIVE_CARD, attachment
    card = attachment.get("content")
    assert isinstance(card, dict) and card.get("type") == "AdaptiveCard", card
    assert isinstance(card.get("version"), str) and card["version"], card
    elements = card.get("body")
    assert isinstance(elements, list) and elements, card
    for element in elements:
        assert isinstance(element.get("type"), str), element
        if element["type"] == "TextBlock":
            assert isinstance(element.get("text"), str) and element["text"], element
        if element["type"] == "FactSet":
            for fact in element["facts"]:
                assert isinstance(fact["title"], str) and isinstance(fact["value"], str), fact
    return card


def check_slack(post: Post) -> dict[str, Any]:
    assert post.content_type.startswith("application/json"), post.content_type
    body = post.body
    assert isinstance(body, dict), body
    assert isinstance(body.get("text"), str) and body["text"], body
    blocks = body.get("blocks")
    assert isinstance(blocks, list) and 0 < len(blocks) <= 50, blocks
    for block in blocks:
        assert block.get("type") in SLACK_BLOCK_TYPES, block
        if block["type"] == "section":
            text = block["text"]
            assert text["type"] in ("mrkdwn", "plain_text"), block
            assert 0 < len(text["text"]) <= 3000, block
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text", block
            assert 0 < len(block["text"]["text"]) <= 150, block
    return body


def check_cloud_event(post: Post) -> dict[str, Any]:
    assert post.content_type.startswith("application/cloudevents+json"), post.content_type
    event = post.body
    assert isinstance(event, dict), event
    assert event.get("specversion") == "1.0", event
    for name in ("id", "source", "type"):
        assert isinstance(event.get(name), str) and event[name], (name, event)
    if "time" in event:
        datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    if "data" in event:
        assert event.get("datacontenttype", "application/json") == "application/json", event
    return event
