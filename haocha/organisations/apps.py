from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "haocha.organisations"
    verbose_name = "组织机构"
