from django.apps import AppConfig


class WorkordersConfig(AppConfig):
    name = "haocha.workorders"
    verbose_name = "差评工单"

    def ready(self):
        from haocha.core.jobs import register
        from haocha.evaluations.hooks import on_rating_stored
        from haocha.workcalendar.services import CHANGE_HOOKS
        from haocha.workorders.creation import work_order_for_rating
        from haocha.workorders.sweep import work_orders_recompute_deadlines

        on_rating_stored(work_order_for_rating)  # a 差评 becomes a work order, in the rating's transaction

        if work_orders_recompute_deadlines not in CHANGE_HOOKS:
            CHANGE_HOOKS.append(work_orders_recompute_deadlines)
        register("逾期扫描", _overdue_job, sweep=True)


def _overdue_job():
    from haocha.workorders.sweep import work_orders_sweep

    swept = work_orders_sweep()
    if any(swept.values()):
        return (
            f"逾期扫描：一级督办 {swept['level1']}，二级督办 {swept['level2']}，临期提醒 {swept['nearing']}"
        )
    return None
