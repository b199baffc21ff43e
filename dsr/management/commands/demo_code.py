from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dsr.demo import demo_code


class Command(BaseCommand):
    help = "Print the current second-factor code shared by the demo accounts (DEBUG only)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo codes are for development only: DEBUG is off.")
        self.stdout.write(demo_code())
