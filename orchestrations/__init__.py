"""Durable orchestrators: deterministic, no I/O, no clock, no randomness."""

import azure.durable_functions as df

bp = df.Blueprint()
