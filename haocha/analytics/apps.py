from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "haocha.analytics"
    label = "analytics"
    verbose_name = "统计分析"
