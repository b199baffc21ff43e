"""Static analysis of the code and an audit of the installed packages (RELIABILITY F-5, F-4).

    .venv/bin/python .ci/security_checks.py     (or: make security)

1. bandit, medium severity and above, over the service's packages, configured by [tool.bandit]
   in pyproject.toml. Any finding fails.
2. pip-audit --strict over the installed environment, when an advisory source answers (the
   PyPI JSON API, else OSV). --strict fails on a package it could not audit, so an audit that
   checked nothing never passes as clean. When no source answers it prints exactly
   "dependency audit NOT RUN: no advisory source" and does not fail: it says it did not run.

Exit status 0 when nothing was found. tests/security/test_supply_chain.py runs this file, so
`make test` (and CI) runs it too.
"""

import json
import subprocess
import sys
import urllib.request
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PACKAGES = ["dsr", "referrals", "reviews", "escalation", "reports"]
NOT_RUN = "dependency audit NOT RUN: no advisory source"
PROBE_SECONDS = 5
AUDIT_SECONDS = 240


def bandit_findings(paths: list[str]) -> list[dict]:
    """bandit's findings (medium severity and above) in `paths`; raises if bandit failed."""
    result = subprocess.run(  # noqa: S603  (our own tool, fixed arguments)
        [str(BIN / "bandit"), "-r", *paths, "-q", "-ll", "-c", "pyproject.toml", "-f", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    if result.returncode not in (0, 1) or report["errors"]:
        raise RuntimeError(f"bandit did not run cleanly: {result.stderr}{report['errors']}")
    return report["results"]


def _answers(request: urllib.request.Request) -> bool:
    try:
        with urllib.request.urlopen(request, timeout=PROBE_SECONDS) as response:  # noqa: S310
            return response.status == 200 and isinstance(json.load(response), dict)
    except (OSError, ValueError):
        return False


def advisory_source() -> str | None:
    """The pip-audit service that answers for an installed package's version, if any."""
    version = metadata.version("django")
    pypi = urllib.request.Request(f"https://pypi.org/pypi/django/{version}/json")
    if _answers(pypi):
        return "pypi"
    osv = urllib.request.Request(
        "https://api.osv.dev/v1/query",
        data=json.dumps(
            {"package": {"name": "django", "ecosystem": "PyPI"}, "version": version}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    if _answers(osv):
        return "osv"
    return None


def audit_dependencies() -> tuple[bool, str]:
    """(passed, the line to print) for pip-audit over the installed environment."""
    source = advisory_source()
    if source is None:
        return True, NOT_RUN
    command = [
        str(BIN / "pip-audit"),
        "--strict",
        "--skip-editable",  # the project itself, which is not on PyPI
        "--progress-spinner=off",
        "--vulnerability-service",
        source,
        "--timeout",
        str(PROBE_SECONDS * 2),
        "--format",
        "json",
    ]
    try:
        result = subprocess.run(  # noqa: S603  (our own tool, fixed arguments)
            command, capture_output=True, text=True, timeout=AUDIT_SECONDS
        )
    except subprocess.TimeoutExpired:
        return False, f"dependency audit FAILED: {source} did not finish in {AUDIT_SECONDS} s"
    try:
        report = json.loads(result.stdout)
    except ValueError:
        return False, f"dependency audit FAILED ({source}): {result.stderr.strip()[-500:]}"
    vulnerable = [
        f"  {dep['name']} {dep['version']}: {', '.join(v['id'] for v in dep['vulns'])}"
        for dep in report["dependencies"]
        if dep.get("vulns")
    ]
    count = sum(len(dep.get("vulns", [])) for dep in report["dependencies"])
    line = f"dependency audit: ran ({source}), {count} vulnerabilities"
    if result.returncode != 0 and not count:
        line += f"; pip-audit failed: {result.stderr.strip()[-500:]}"
    return result.returncode == 0, "\n".join([line, *vulnerable])


def main() -> int:
    findings = bandit_findings(PACKAGES)
    print(f"bandit: {len(findings)} findings (medium severity and above)")
    for finding in findings:
        print(
            f"  {finding['filename']}:{finding['line_number']} {finding['test_id']} "
            f"{finding['issue_severity']}: {finding['issue_text']}"
        )
    audit_passed, audit_line = audit_dependencies()
    print(audit_line)
    return 0 if not findings and audit_passed else 1


if __name__ == "__main__":
    sys.exit(main())
