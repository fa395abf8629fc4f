"""Tests of issue 6: push webhooks, the Git configuration source and the schedule."""
