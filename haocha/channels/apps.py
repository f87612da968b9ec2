from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "haocha.channels"
    label = "channels"
    verbose_name = "评价渠道"
