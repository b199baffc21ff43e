"""Load the benchmark's data (bench.load) into an empty database, then write the accounts file
the runner signs in with.

    export DJANGO_SETTINGS_MODULE=bench.settings
    .venv/bin/python manage.py bench_load --people 100000
    .venv/bin/python manage.py bench_load --referrals-only 1000000
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench import load

ACCOUNTS_FILE = Path(__file__).resolve().parents[2] / "accounts.json"


class Command(BaseCommand):
    help = "Load a believable register of N people with set-based SQL (benchmark data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=100_000)
        parser.add_argument(
            "--referrals-only",
            type=int,
            metavar="M",
            help="Add M live referrals to a loaded database instead (the sweep's benchmark).",
        )
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--areas", type=int, default=12, help="local authorities (1 to 16)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Empty the project's tables first (accounts included) instead of refusing.",
        )
        parser.add_argument(
            "--accounts-file",
            type=Path,
            default=ACCOUNTS_FILE,
            help=f"Where to write the accounts to sign in with (default {ACCOUNTS_FILE}).",
        )

    def handle(self, *args, **options) -> None:
        try:
            if options["referrals_only"] is not None:
                result = load.add_referrals(count=options["referrals_only"], seed=options["seed"])
            else:
                result = load.load(
                    people=options["people"],
                    seed=options["seed"],
                    areas=options["areas"],
                    force=options["force"],
                )
        except load.RegisterNotEmpty as exc:
            raise CommandError(
                f"{exc} Load into an empty database, or pass --force to empty it first."
            ) from exc
        except (load.LoadError, ValueError) as exc:
            raise CommandError(str(exc)) from exc

        if options["verbosity"] > 1:
            for seconds, statement in result.statements:
                self.stdout.write(f"{seconds:8.2f} s  {statement}")
            self.stdout.write("")
        for step, seconds in result.timings.items():
            self.stdout.write(f"{seconds:8.2f} s  {step}")
        self.stdout.write("")
        for table, rows in result.counts.items():
            self.stdout.write(f"{rows:>12,}  {table}")
        if result.accounts is not None:
            path = options["accounts_file"]
            path.write_text(json.dumps(self._accounts(result), indent=2) + "\n")
            self.stdout.write("")
            self.stdout.write(f"Accounts (password and authenticator key) written to {path}")
            self.stdout.write(f"Person with a long history: {result.long_history_person}")

    @staticmethod
    def _accounts(result: load.Result) -> dict:
        accounts = result.accounts
        return {
            "password": load.PASSWORD,
            "totp_key": load.TOTP_KEY,
            "sign_in": (
                "GET /accounts/sign-in/, POST csrfmiddlewaretoken, username (the email) and "
                "password; then POST csrfmiddlewaretoken and token (the current 6-digit TOTP code "
                "of totp_key, hex, 30 s steps) to /accounts/sign-in/security-code/. A code "
                "works once per account: sign in again as the same account in the next step."
            ),
            "accounts": {
                role: {"email": emails[0], "totp_key": load.TOTP_KEY}
                for role, emails in accounts.emails.items()
            },
            "all_accounts": accounts.emails,
            "long_history_person": result.long_history_person,
            "local_authorities": accounts.areas,
            "counts": result.counts,
        }
