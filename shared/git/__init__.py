"""Adapters to Git: reading the configuration repository with dulwich."""
