from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "haocha.demo"
    label = "demo"
    verbose_name = "演示数据"
