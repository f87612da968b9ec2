from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "haocha.bench"
    label = "bench"
    verbose_name = "压测"
