"""Accounts: invitations for external professionals and panel members, and disabling unused accounts."""

import django.db.models.deletion
import django.db.models.functions.text
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dsr", "0004_person_needs")]

    operations = [
        migrations.CreateModel(
            name='HistoricalInvitation',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('history_actor_email', models.CharField(blank=True, max_length=254)),
                ('created_at', models.DateTimeField(blank=True, editable=False)),
                ('updated_at', models.DateTimeField(blank=True, editable=False)),
                ('email', models.EmailField(max_length=254, verbose_name='email address')),
                ('full_name', models.CharField(max_length=150)),
                ('job_title', models.CharField(blank=True, max_length=150)),
                ('roles', models.JSONField(default=list)),
                ('status', models.CharField(choices=[('pending', 'Waiting'), ('accepted', 'Accepted'), ('revoked', 'Withdrawn')], default='pending', max_length=10)),
                ('sends', models.PositiveSmallIntegerField(default=1)),
                ('sent_at', models.DateTimeField()),
                ('expires_at', models.DateTimeField()),
                ('accepted_at', models.DateTimeField(blank=True, null=True)),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('history_user_id', models.BigIntegerField(blank=True, db_index=True, null=True)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('invited_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('organisation', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='dsr.organisation')),
                ('revoked_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('user', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical invitation',
                'verbose_name_plural': 'historical invitations',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='Invitation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('email', models.EmailField(max_length=254, verbose_name='email address')),
                ('full_name', models.CharField(max_length=150)),
                ('job_title', models.CharField(blank=True, max_length=150)),
                ('roles', models.JSONField(default=list)),
                ('status', models.CharField(choices=[('pending', 'Waiting'), ('accepted', 'Accepted'), ('revoked', 'Withdrawn')], default='pending', max_length=10)),
                ('token_hash', models.CharField(max_length=64, unique=True)),
                ('sends', models.PositiveSmallIntegerField(default=1)),
                ('sent_at', models.DateTimeField()),
                ('expires_at', models.DateTimeField()),
                ('accepted_at', models.DateTimeField(blank=True, null=True)),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('invited_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='invitations', to='dsr.organisation')),
                ('revoked_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('user', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='invitation', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-sent_at', '-id'],
                'constraints': [models.UniqueConstraint(django.db.models.functions.text.Lower('email'), condition=models.Q(('status', 'pending')), name='one_pending_invitation_per_email'), models.CheckConstraint(condition=models.Q(models.Q(('accepted_at__isnull', False), ('status', 'accepted'), ('user__isnull', False)), models.Q(models.Q(('status', 'accepted'), _negated=True), ('accepted_at__isnull', True), ('user__isnull', True)), _connector='OR'), name='invitation_acceptance_is_complete'), models.CheckConstraint(condition=models.Q(models.Q(('revoked_at__isnull', False), ('revoked_by__isnull', False), ('status', 'revoked')), models.Q(models.Q(('status', 'revoked'), _negated=True), ('revoked_at__isnull', True), ('revoked_by__isnull', True)), _connector='OR'), name='invitation_withdrawal_is_complete'), models.CheckConstraint(condition=models.Q(('expires_at__gt', models.F('sent_at'))), name='invitation_expires_after_sending'), models.CheckConstraint(condition=models.Q(('roles', []), _negated=True), name='invitation_has_a_role')],
            },
        ),
    ]
