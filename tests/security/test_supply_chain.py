"""Static analysis and the dependency audit (RELIABILITY F-5, F-4), through .ci/security_checks.py
so the test run and `make security` run the same thing."""

import importlib.util
import subprocess
import sys
from pathlib import Path

from tests.figures import record

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "security_checks.py"


def _script_module():
    spec = importlib.util.spec_from_file_location("security_checks", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bandit_finds_nothing_and_the_dependency_audit_ran_clean_or_says_it_did_not_run():
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    lines = result.stdout.splitlines()
    audit = next(line for line in lines if line.startswith("dependency audit"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "bandit: 0 findings (medium severity and above)" in lines
    assert audit == "dependency audit NOT RUN: no advisory source" or (
        audit.startswith("dependency audit: ran (") and audit.endswith(", 0 vulnerabilities")
    )
    record("F-5 bandit findings (medium and above)", 0)
    record("F-4 dependency audit", audit.removeprefix("dependency audit").lstrip(": "))


def test_bandit_as_configured_finds_a_shell_command_built_from_input(tmp_path):
    """The gate is not blind: the same bandit run flags what it exists to catch."""
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "views.py").write_text(
        "import subprocess\n\n\ndef run(request):\n"
        "    return subprocess.call('ls ' + request.GET['path'], shell=True)\n"
    )

    findings = _script_module().bandit_findings([str(planted)])

    assert [finding["test_id"] for finding in findings] == ["B602"]
