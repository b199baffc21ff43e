"""Records: retention runs and what they removed; the access-log action for a subject access
export."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dsr", "0005_account_lifecycle")]

    operations = [
        migrations.AlterField(
            model_name="accessevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("view_person", "Viewed a person's record"),
                    ("export_register", "Downloaded a register export"),
                    ("search_register", "Found in a register search"),
                    ("list_register", "Listed on a page of the register"),
                    ("view_referral", "Viewed a referral"),
                    ("download_attachment", "Downloaded a referral attachment"),
                    ("view_letter", "Downloaded a letter to print"),
                    ("export_person", "Downloaded everything held about a person"),
                ],
                max_length=30,
            ),
        ),
        migrations.CreateModel(
            name="RetentionRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            (
                                "closed_records",
                                "People off the register past their retention period",
                            ),
                            ("declined_referrals", "Declined and withdrawn referrals"),
                            ("access_log", "Access-log rows"),
                            ("outbox", "Recipients' details in sent messages"),
                        ],
                        max_length=30,
                    ),
                ),
                ("ran_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("cutoff", models.DateTimeField()),
                ("removed", models.JSONField(blank=True, default=dict)),
                ("total", models.PositiveIntegerField(default=0)),
            ],
            options={
                "ordering": ["-ran_at", "-id"],
                "indexes": [
                    models.Index(fields=["-ran_at", "-id"], name="retention_run_recent_idx")
                ],
            },
        ),
    ]
