"""The one RollupState row every rollup pass locks, created here so that two first passes never race."""

from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("analytics", "RollupState").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("analytics", "0003_rollup_member_index")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
