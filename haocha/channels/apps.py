from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "haocha.channels"
    label = "channels"
    verbose_name = "评价渠道"

    def ready(self):
        from haocha.core.jobs import register

        register("渠道清理", _housekeeping_job, sweep=True)


def _housekeeping_job():
    from haocha.channels.throttle import channels_housekeeping

    channels_housekeeping()
