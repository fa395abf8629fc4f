"""Tools for developers and for `make run`; not part of the Function App."""
