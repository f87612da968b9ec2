from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "haocha.integrations.sms"
    label = "sms"
    verbose_name = "短信"

    def ready(self):
        from haocha.catalogue.signals import cases_registered
        from haocha.core.jobs import register
        from haocha.integrations.sms import checks, outgoing  # noqa: F401  outbox handler, system checks

        register("短信邀评", _sms_job, sweep=True)
        cases_registered.connect(_invite, dispatch_uid="sms-invitations")


def _invite(sender, cases, **kwargs):
    from haocha.integrations.sms.invitations import sms_invitations_for_cases

    sms_invitations_for_cases(cases=cases)


def _sms_job():
    """SMS invitations: deferred sends, the one reminder, expiry."""
    from haocha.integrations.sms.invitations import sms_sweep

    sms = sms_sweep()
    if any(sms.values()):
        return f"短信邀评：发送 {sms['sent']}，提醒 {sms['reminded']}，过期 {sms['expired']}，失败 {sms['failed']}"
    return None
