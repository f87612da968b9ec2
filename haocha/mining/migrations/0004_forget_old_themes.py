"""The mining tables hold the old seven themes; the new taxonomy is mined afresh (a separate migration from the
schema change, so that PostgreSQL runs no deletes and ALTERs in one transaction)."""

from django.db import migrations


def forget_old_themes(apps, schema_editor):
    """The old seven themes' codes mean nothing to the new taxonomy: empty the mining tables and its state, so
    that the next pass (the worker, or `haocha mining refresh`) mines every 差评 again."""
    for name in ("MinedTheme", "MinedComment", "TermCount", "ThemeCount", "MiningState"):
        apps.get_model("mining", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("mining", "0003_classifier_confidence_halls_region_themes")]

    operations = [migrations.RunPython(forget_old_themes, migrations.RunPython.noop)]
