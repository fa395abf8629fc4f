"""Triggers (timer, webhooks, HTTP start/status, queue workers): thin, parse, verify, start."""

import azure.durable_functions as df

bp = df.Blueprint()
