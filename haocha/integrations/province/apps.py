from django.apps import AppConfig


class ProvinceConfig(AppConfig):
    name = "haocha.integrations.province"
    label = "province"
    verbose_name = "省级平台对接"

    def ready(self):
        from haocha.integrations.province import checks  # noqa: F401  registers the system checks
