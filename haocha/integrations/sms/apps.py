from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "haocha.integrations.sms"
    label = "sms"
    verbose_name = "短信"

    def ready(self):
        from haocha.integrations.sms import checks, outgoing  # noqa: F401  outbox handler, system checks
