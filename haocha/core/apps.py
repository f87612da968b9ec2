from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "haocha.core"
    verbose_name = "系统基础"

    def ready(self):
        from haocha.core import checks  # noqa: F401  (registers system checks)
