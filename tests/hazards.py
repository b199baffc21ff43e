"""The hazard log (docs/safety/hazard-log.toml) read for the test run: which tests each hazard's
controls name, and, at the end of a run, which hazards had all of them pass (I-1)."""

import tomllib
from pathlib import Path

LOG = Path(__file__).resolve().parent.parent / "docs" / "safety" / "hazard-log.toml"
# DCB0129 risk matrix: RISK[likelihood - 1][severity - 1] (docs/safety/README.md).
RISK = [
    [1, 1, 2, 2, 3],
    [1, 2, 2, 3, 4],
    [2, 2, 3, 3, 4],
    [2, 3, 3, 4, 5],
    [3, 4, 4, 5, 5],
]

OUTCOMES: dict[str, list[str]] = {}


def hazards() -> list[dict]:
    with LOG.open("rb") as handle:
        return tomllib.load(handle)["hazard"]


def named_tests(hazard: dict) -> list[str]:
    return [test for control in hazard.get("control", []) for test in control.get("tests", [])]


def note_outcome(report) -> None:
    """Keep each test's outcome, by its id without parameters ("path::name")."""
    if report.when == "call" or report.outcome != "passed":
        OUTCOMES.setdefault(report.nodeid.split("[")[0], []).append(report.outcome)


def verification() -> tuple[list[str], list[str], set[str]]:
    """(hazards whose named tests all passed, hazards with one that did not, tests not run)."""
    verified, unverified, not_run = [], [], set()
    for hazard in hazards():
        tests = named_tests(hazard)
        missing = {test for test in tests if test not in OUTCOMES}
        not_run |= missing
        passed = all(set(OUTCOMES.get(test, ["missing"])) == {"passed"} for test in tests)
        (verified if tests and passed else unverified).append(hazard["id"])
    return verified, unverified, not_run
