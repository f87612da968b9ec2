from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "haocha.analytics"
    label = "analytics"
    verbose_name = "统计分析"

    def ready(self):
        from haocha.core.jobs import register

        register("统计汇总", _rollups_job)
        from django.db.models.signals import post_migrate

        post_migrate.connect(_reinstall_triggers, sender=self)


def _reinstall_triggers(sender, using="default", plan=None, **kwargs):
    """A migration that rebuilds the ratings or cases table on SQLite drops its triggers: put them back."""
    from importlib import import_module

    from django.db import connections

    connection = connections[using]
    tables = connection.introspection.table_names()
    if "analytics_ratingpending" in tables and "evaluations_rating" in tables:
        import_module("haocha.analytics.migrations.0002_triggers").install_triggers(connection)


def _rollups_job():
    from haocha.analytics.services import rollups_apply

    rolled = rollups_apply()
    if rolled["ratings"] or rolled["cases"]:
        return f"统计汇总：评价 {rolled['ratings']}，办件 {rolled['cases']}"
    return None
