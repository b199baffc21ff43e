from django.db import migrations

from dsr.migration_ops import append_only


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0006_status_moves_as_rows"),
    ]

    # The links' history and the status moves are append-only like every audit table.
    operations = [
        append_only(
            "reviews_historicalactionlink",
            "reviews_meetingtransition",
            "reviews_actiontransition",
            "reviews_cetrtransition",
            "reviews_cetrrequesttransition",
        )
    ]
