from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "haocha.integrations.sms"
    label = "sms"
    verbose_name = "短信"

    def ready(self):
        from haocha.integrations.sms import outgoing  # noqa: F401  registers the outbox handler
