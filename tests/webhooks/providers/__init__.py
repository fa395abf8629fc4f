"""One test module per webhook provider (tests/webhooks/test_providers.py checks each has one)."""
