from django.db import migrations


def create_roles(apps, schema_editor):
    from clinic.permissions import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "__first__"),
        ("contenttypes", "__first__"),
        ("auditlog", "__first__"),
        ("patients", "0001_initial"),
        ("queue_app", "0001_initial"),
        ("oncology", "0001_initial"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
