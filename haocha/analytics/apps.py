from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "haocha.analytics"
    label = "analytics"
    verbose_name = "统计分析"

    def ready(self):
        from haocha.core.jobs import register

        register("统计汇总", _rollups_job)
        from haocha.analytics.services import order_figures_of_handler
        from haocha.integrations.docking.monitor import on_order_figures

        on_order_figures(order_figures_of_handler)  # the monitor's 整改率 per child, by the one definition
        from django.db.models.signals import post_migrate

        post_migrate.connect(_reinstall_triggers, sender=self)


def _reinstall_triggers(sender, using="default", plan=None, **kwargs):
    """Put the rollup triggers in place after every migrate: SQLite drops a table's triggers when a
    migration rebuilds the table, and a migration that changes the queues drops them first.

    Only when the queues have the columns the triggers write (the analytics migrations are applied)."""
    from django.db import connections

    from haocha.analytics import triggers

    connection = connections[using]
    tables = connection.introspection.table_names()
    if not {triggers.RATING_QUEUE, triggers.CASE_QUEUE, triggers.RATING_TABLE, triggers.CASE_TABLE} <= set(
        tables
    ):
        return
    with connection.cursor() as cursor:
        have = {
            c.name
            for table in (triggers.RATING_QUEUE, triggers.CASE_QUEUE)
            for c in connection.introspection.get_table_description(cursor, table)
        }
    if set(triggers.rating_queue_columns()) | set(triggers.case_queue_columns()) <= have:
        triggers.install(connection)


def _rollups_job():
    from haocha.analytics.services import rollups_apply

    rolled = rollups_apply()  # warns in the log while the rollups predate the measure definitions
    if rolled["ratings"] or rolled["cases"]:
        return f"统计汇总：评价 {rolled['ratings']}，办件 {rolled['cases']}"
    return None
