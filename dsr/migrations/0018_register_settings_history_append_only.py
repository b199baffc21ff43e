from django.db import migrations

from dsr.migration_ops import append_only


class Migration(migrations.Migration):
    dependencies = [
        ("dsr", "0017_notification_receipts_and_text_messages"),
    ]

    # The settings' history table is append-only like every other.
    operations = [append_only("dsr_historicalregistersettings")]
