from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "haocha.evaluations"
    verbose_name = "评价"
