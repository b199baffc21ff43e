"""Figures the test run prints at its end (RELIABILITY.md asks each test ID for a number)."""

FIGURES: dict[str, str] = {}


def record(name: str, value: object) -> None:
    FIGURES[name] = str(value)
