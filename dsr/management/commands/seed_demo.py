import base64

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from dsr.demo import DEMO_PASSWORD, DEMO_SEEDERS, DEMO_TOTP_KEY, seed_demo, seed_register
from dsr.history import acting_as_system
from dsr.outbox.delivery import stale_daily_summaries_cancel


class Command(BaseCommand):
    help = "Create demo organisations and one account per role (development only, DEBUG on)."

    def handle(self, *args, **options) -> None:
        try:
            # Rows written without a user of their own (accounts, organisations, contacts)
            # name this command in their history.
            with acting_as_system("Demo data loader (seed_demo)"):
                accounts = seed_demo()
                people = seed_register()
                for seeder in DEMO_SEEDERS:
                    created = seeder()
                    if created:
                        self.stdout.write(f"Created {created} demo rows with {seeder.__module__}.")
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        if people:
            self.stdout.write(f"Created {people} synthetic people on the register.")
        # The year walked queued a daily summary for each of its days: only today's may go.
        stale = stale_daily_summaries_cancel()
        if stale:
            self.stdout.write(f"Cancelled {stale} daily summaries for days already past.")

        secret = base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY)).decode()
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD})"))
        width = max(len(a.email) for a in accounts)
        for account in accounts:
            self.stdout.write(f"  {account.email:<{width}}  {account.role.label}")
        self.stdout.write(
            "Second factor: every demo account shares one authenticator key.\n"
            f"  Add it to an authenticator app: {secret}\n"
            "  or print the current code with: .venv/bin/python manage.py demo_code"
        )
