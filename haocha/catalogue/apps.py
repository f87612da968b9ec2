from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "haocha.catalogue"
    verbose_name = "事项与办件"
