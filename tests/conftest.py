"""Shared pytest configuration. Fixtures of a part live in that part's own conftest."""

pytest_plugins = ["tests.localworld"]
