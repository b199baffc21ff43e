from django.db import migrations


def sync_roles(apps, schema_editor):
    from dsr.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    """Administrators read the access log in the admin (ACCESS.md)."""

    dependencies = [("dsr", "0002_roles")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
