"""Count the report figures now, as the background jobs do (reports.tasks): today's reports and
the days counted each night. For a register loaded without a worker running (the benchmark),
or to fill the figures at once after the cache was emptied."""

from django.core.management.base import BaseCommand

from reports.tasks import count_report_figures_now


class Command(BaseCommand):
    help = "Count today's report figures and the days counted each night, and keep them."

    def handle(self, *args, **options) -> None:
        counted = count_report_figures_now()
        self.stdout.write(f"Counted {counted} report figures (a report, or a day of the register).")
