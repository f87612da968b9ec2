from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "haocha.evaluations"
    verbose_name = "评价"

    def ready(self):
        from haocha.catalogue.signals import cases_rewriting
        from haocha.core.jobs import register
        from haocha.evaluations.services import rated_cases_guard

        register("系统默认评价", _defaults_job, sweep=True)
        cases_rewriting.connect(rated_cases_guard, dispatch_uid="rated-cases-frozen")


def _defaults_job():
    from haocha.evaluations.defaults import default_ratings_sweep

    made = default_ratings_sweep()
    return f"系统默认评价：生成 {made['created']}" if made["created"] else None
