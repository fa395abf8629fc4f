"""Adapters to Git hosts' push webhooks: authentication, parsing, intake."""
