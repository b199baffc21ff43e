"""Peak memory of the register's CSV export, at two sizes (bench/README.md): the export must
stream, so the process's peak must not grow with the number of rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dsr_bench .venv/bin/python -m bench.memory

Each size runs in a fresh process (its peak resident set size is the figure), through the real
export view with a signed-in register staff user, reading the whole streamed response.
"""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = (10_000, 100_000)


def _measure(rows: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.test import RequestFactory

    from dsr.models import User
    from dsr.views import register

    accounts = json.loads((HERE / "accounts.json").read_text())
    user = User.objects.get(email=accounts["accounts"]["register_staff"]["email"])
    request = RequestFactory().get("/register/export/")
    request.user = user
    # The export takes every row its filters match; to read exactly `rows`, the rows are capped
    # here (the view's own code streams them, in chunks of 2,000, from a server-side cursor).
    original = register.export_rows
    register.export_rows = lambda *a, **k: _capped(original(*a, **k), rows)
    start = time.perf_counter()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    response = register.export(request)  # its role check passes: the user is register staff
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    return {
        "rows_asked": rows,
        "lines": lines,
        "seconds": round(time.perf_counter() - start, 2),
        "baseline_max_rss_mb": round(baseline / 1024, 1),
        "peak_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _capped(queryset, rows: int):
    class Capped:
        def count(self) -> int:
            return min(queryset.count(), rows)

        def iterator(self, chunk_size: int):
            return queryset[:rows].iterator(chunk_size=chunk_size)

    return Capped()


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(_measure(int(sys.argv[2]))))
        return 0
    results = []
    for rows in SIZES:
        output = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.memory", "--one", str(rows)],
            capture_output=True,
            text=True,
            check=True,
            cwd=HERE.parent,
        ).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
    for result in results:
        print(
            f"{result['lines'] - 1:>7,} rows: peak {result['peak_max_rss_mb']} MB "
            f"(before the export {result['baseline_max_rss_mb']} MB), {result['seconds']} s"
        )
    growth = results[-1]["peak_max_rss_mb"] - results[0]["peak_max_rss_mb"]
    rows = [result["lines"] - 1 for result in results]
    print(f"peak growth from {rows[0]:,} to {rows[-1]:,} rows: {growth:.1f} MB")
    (HERE / "memory.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
