from django.apps import AppConfig


class MiningConfig(AppConfig):
    name = "haocha.mining"
    label = "mining"
    verbose_name = "评价文本挖掘"
