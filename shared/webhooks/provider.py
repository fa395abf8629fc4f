"""What a push webhook provider is: one module of `shared/webhooks/providers/` each.

A provider says where its endpoint is (`POST /api/webhooks/<key>`, the function
`function_name`), which settings turn it on and prove who sent a delivery, how it names
its events, and how its push payload reads as a provider-neutral `Push`. Everything
else (size, content type, the Git source, the repository, branch and folder filters,
the run's id) is the same for every provider and lives in `shared.webhooks.intake`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pydantic import SecretStr

from shared.settings import PREFIX, Settings
from shared.webhooks.push_events import Push

Headers = Mapping[str, str]
"""A delivery's headers, names in lower case."""


@dataclass(frozen=True)
class EventAnswer:
    """A non-push event that is answered with 200 and starts nothing (a GitHub ping)."""

    code: str
    message: str


@dataclass(frozen=True)
class WebhookProvider:
    """One push webhook provider, as its module declares it (`PROVIDER`): all the intake,
    the trigger and the docs need of it."""

    key: str
    """The endpoint's path segment and `Push.provider`: `POST /api/webhooks/<key>`."""
    title: str
    """The provider's name in messages and docs."""
    function_name: str
    """The endpoint's function, a constant of `shared.function_names`."""
    setup: str
    """What to set up at the provider, as the README's table of endpoints says it."""
    settings: tuple[str, ...]
    """The `Settings` fields the provider reads (`IMAGEFACTORY_<FIELD>` app settings)."""
    enabled_by: tuple[str, ...]
    """Of `settings`, those any one of which turns the endpoint on (its secrets)."""
    authenticate: Callable[[Headers, bytes, Settings], None]
    """Raises `WebhookAuthError` unless the delivery carries the configured secret(s)."""
    parse: Callable[[Headers, bytes], Push]
    """The push in a body; raises `PayloadError`."""
    event_header: str | None
    """The header naming the event, as the provider writes it; None: the payload names it."""
    push_event: str
    """The event name of a push, in `event_header` (or in the payload)."""
    answers: Mapping[str, EventAnswer] = field(default_factory=dict)
    """Other events answered at once, by their name in `event_header`."""
    delivery_headers: tuple[str, ...] = ()
    """Headers carrying a delivery id (lower case), the first present wins."""

    @property
    def app_settings(self) -> tuple[str, ...]:
        return tuple(PREFIX + name.upper() for name in self.settings)

    def enabled(self, settings: Settings) -> bool:
        return any(getattr(settings, name) is not None for name in self.enabled_by)

    def enable_hint(self) -> str:
        return " or ".join(PREFIX + name.upper() for name in self.enabled_by)

    def delivery_id(self, headers: Headers) -> str | None:
        return next((headers[h] for h in self.delivery_headers if headers.get(h)), None)


def secret(value: SecretStr | None) -> str | None:
    """A secret setting's text, for the comparison that needs it."""
    return None if value is None else value.get_secret_value()
