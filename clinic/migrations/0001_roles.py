from django.db import migrations


def create_roles(apps, schema_editor):
    from clinic.permissions import sync_roles

    # ROLE_PERMISSIONS is today's; permissions that later migrations create do not exist yet
    # here. The post_migrate sync (clinic.apps) grants those once every migration has run.
    sync_roles(apps, skip_unknown=True)


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
