from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "haocha.assessment"
    label = "assessment"
    verbose_name = "年度目标考核"

    def ready(self):
        from haocha.core.jobs import register

        register("成效管理系统月度推送", _monthly_job, sweep=True)


def _monthly_job():
    from haocha.assessment.publish import queue_due

    return queue_due()
