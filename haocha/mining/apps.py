from django.apps import AppConfig


class MiningConfig(AppConfig):
    name = "haocha.mining"
    label = "mining"
    verbose_name = "评价文本挖掘"

    def ready(self):
        from haocha.core.jobs import register

        register("差评挖掘", _mining_job)


def _mining_job():
    from haocha.mining.services import mining_refresh

    mined = mining_refresh()
    if mined["added"] or mined["removed"]:
        return f"差评挖掘：新增 {mined['added']}，移出 {mined['removed']}"
    return None
