from django.apps import AppConfig


class Hotline12345Config(AppConfig):
    name = "haocha.integrations.hotline12345"
    label = "hotline12345"
    verbose_name = "12345平台对接"

    def ready(self):
        from haocha.core.jobs import register
        from haocha.evaluations.hooks import on_rating_stored
        from haocha.integrations.hotline12345 import push
        from haocha.workorders.creation import on_platform
        from haocha.workorders.machine import on_platform_step

        on_platform(push.platform_client)
        on_platform_step(push.on_step)
        on_rating_stored(push.on_rating_stored)
        register("12345对账", _reconcile, sweep=True)


def _reconcile():
    from haocha.integrations.hotline12345.push import reconcile

    return reconcile()
