"""The push webhook providers, by key: one module each, listed here once.

A new provider is a new module defining `PROVIDER` (a `WebhookProvider`), its line
below, its function name in `shared.function_names`, its settings, its row in the
README's webhook table and its tests; `tests/webhooks/test_providers.py` checks each.
"""

from __future__ import annotations

from shared.webhooks.provider import WebhookProvider
from shared.webhooks.providers import azure_devops, github, gitlab

PROVIDERS: dict[str, WebhookProvider] = {
    provider.key: provider for provider in (github.PROVIDER, azure_devops.PROVIDER, gitlab.PROVIDER)
}


def provider(key: str) -> WebhookProvider:
    """The provider of an endpoint; a KeyError names the key when there is none."""
    return PROVIDERS[key]
