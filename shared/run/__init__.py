"""A run's request, schedule, payloads and report. Pure."""
