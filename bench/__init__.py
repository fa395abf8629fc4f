"""Benchmarks: `python -m bench` runs them all. They print measurements; they are not tests."""
