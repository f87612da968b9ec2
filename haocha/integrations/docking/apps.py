from django.apps import AppConfig


class DockingConfig(AppConfig):
    name = "haocha.integrations.docking"
    label = "docking"
    verbose_name = "上下级对接"

    def ready(self):
        from haocha.core.jobs import register
        from haocha.evaluations.hooks import on_rating_stored
        from haocha.integrations.docking import dispatch, upload  # noqa: F401  the outbox handlers
        from haocha.workorders.creation import on_remote_handler

        on_remote_handler(dispatch.remote_client)
        on_rating_stored(dispatch.on_rating_stored)
        register("上报上级", _upload_round)
        register("下级监测", _monitor_sweep, sweep=True)


def _upload_round():
    from haocha.integrations.docking.upload import run_round

    return run_round()


def _monitor_sweep():
    from haocha.integrations.docking.dispatch import take_back_undelivered
    from haocha.integrations.docking.models import ChildSystem
    from haocha.integrations.docking.monitor import check_alerts

    if not ChildSystem.objects.exists():
        return None
    raised = check_alerts()
    taken = take_back_undelivered()
    lines = [f"新告警 {raised} 条" if raised else "", f"下发未成功转本级办理 {taken} 单" if taken else ""]
    return "下级监测：" + "，".join(x for x in lines if x) if raised or taken else None
