"""Tests of push webhooks, the Git configuration source and the schedule."""
