"""I-1: the hazard log is complete, its risk ratings follow the matrix, and every test its
controls name exists (docs/safety/README.md)."""

import ast
from pathlib import Path

from tests.hazards import RISK, hazards, named_tests

ROOT = Path(__file__).resolve().parent.parent


def _test_exists(test_id: str) -> bool:
    path, _, name = test_id.partition("::")
    source = ROOT / path
    if not source.is_file() or not name:
        return False
    tree = ast.parse(source.read_text())
    *classes, function = name.split("::")
    body = tree.body
    for class_name in classes:
        found = [n for n in body if isinstance(n, ast.ClassDef) and n.name == class_name]
        if not found:
            return False
        body = found[0].body
    return any(isinstance(n, ast.FunctionDef) and n.name == function for n in body)


def test_every_hazard_from_the_standard_is_in_the_log_with_causes_effects_and_controls():
    log = hazards()
    assert [hazard["id"] for hazard in log] == [f"HZ-{n}" for n in range(1, 20)]
    for hazard in log:
        assert hazard["title"] and hazard["causes"] and hazard["effects"], hazard["id"]
        assert hazard.get("control"), hazard["id"]
        for control in hazard["control"]:
            assert control["what"] and control["tests"], (hazard["id"], control)


def test_risk_ratings_follow_the_matrix():
    for hazard in hazards():
        for stage in ("initial", "residual"):
            risk = hazard[stage]
            assert 1 <= risk["severity"] <= 5 and 1 <= risk["likelihood"] <= 5
            assert risk["risk"] == RISK[risk["likelihood"] - 1][risk["severity"] - 1], (
                hazard["id"],
                stage,
            )
        # Controls lower the risk, or the log says why not.
        assert hazard["residual"]["risk"] <= hazard["initial"]["risk"], hazard["id"]
        assert hazard["residual"]["risk"] <= 2, f"{hazard['id']} is left undesirable"


def test_every_test_a_control_names_exists():
    missing = [
        (hazard["id"], test)
        for hazard in hazards()
        for test in named_tests(hazard)
        if not _test_exists(test)
    ]
    assert missing == []


def test_the_checker_notices_a_test_that_does_not_exist():
    assert _test_exists("tests/test_hazard_log.py::test_every_test_a_control_names_exists")
    assert not _test_exists("tests/test_hazard_log.py::test_that_was_renamed")
    assert not _test_exists("tests/no_such_file.py::test_anything")
