from django.apps import AppConfig


class PublicationConfig(AppConfig):
    name = "haocha.publication"
    label = "publication"
    verbose_name = "结果公开"
