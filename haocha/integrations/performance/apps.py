from django.apps import AppConfig


class PerformanceConfig(AppConfig):
    name = "haocha.integrations.performance"
    label = "performance"
    verbose_name = "政务服务成效管理系统对接"

    def ready(self):
        from haocha.core.jobs import register
        from haocha.integrations.performance import delivery

        register("推送成效管理系统", delivery.run_round)
