"""Database triggers that keep the audit trail append-only and retained (see servicehall.audit.guard)."""

from django.db import migrations


def install(apps, schema_editor):
    from servicehall.audit.guard import install_triggers

    install_triggers(schema_editor)


def remove(apps, schema_editor):
    from servicehall.audit.guard import remove_triggers

    remove_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
