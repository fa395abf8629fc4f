"""Prints the conformance count in every pytest run that replayed interactions."""

from __future__ import annotations

from _pytest.terminal import TerminalReporter

from tests.conformance.tally import TALLY


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    lines = TALLY.lines()
    if lines:
        terminalreporter.section("conformance: real Azure traffic")
        for line in lines:
            terminalreporter.write_line(line)
