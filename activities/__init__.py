"""Durable activities: one small step each, calling shared/."""

import azure.durable_functions as df

bp = df.Blueprint()
