from django.core.management.base import BaseCommand, CommandError

from dsr.imports.run import run
from dsr.models import RegisterImport


class Command(BaseCommand):
    help = (
        "Carry on with a register import from the first row not yet applied (the background "
        "job does the same; use this if no worker is running). Safe to run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("import_id", type=int)

    def handle(self, *args, import_id: int, **options) -> None:
        register_import = RegisterImport.objects.filter(pk=import_id).first()
        if register_import is None:
            raise CommandError(f"There is no import {import_id}.")
        if register_import.status not in ("queued", "running"):
            raise CommandError(
                f"Import {import_id} is {register_import.get_status_display().lower()}: "
                "only a started import carries on."
            )
        batches = run(import_id)
        register_import.refresh_from_db()
        self.stdout.write(
            f"Import {import_id}: {batches} batches, {register_import.rows_done} of "
            f"{register_import.rows_total} rows done."
        )
