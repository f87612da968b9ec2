from django.apps import AppConfig


class WorkordersConfig(AppConfig):
    name = "haocha.workorders"
    verbose_name = "差评工单"

    def ready(self):
        from haocha.workcalendar.services import CHANGE_HOOKS
        from haocha.workorders.sweep import work_orders_recompute_deadlines

        if work_orders_recompute_deadlines not in CHANGE_HOOKS:
            CHANGE_HOOKS.append(work_orders_recompute_deadlines)
