from django.apps import AppConfig


class WorkcalendarConfig(AppConfig):
    name = "haocha.workcalendar"
    verbose_name = "工作日历"

    def ready(self):
        from haocha.workcalendar import checks  # noqa: F401  (registers the missing-year check)
