"""System checks: refuse a broken SMS configuration at start instead of failing on the first text."""

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured


@register()
def sms_settings_check(app_configs, **kwargs):
    from haocha.integrations.sms.policy import parse_quiet_hours

    problems = []
    try:
        parse_quiet_hours(settings.HAOCHA_SMS_QUIET_HOURS)
    except ImproperlyConfigured as exc:
        problems.append(Error(str(exc), id="haocha.sms.E001"))
    if settings.HAOCHA_SMS_BACKEND.endswith(".HttpBackend"):
        if not settings.HAOCHA_SMS_HTTP_URL.startswith(("http://", "https://")):
            problems.append(
                Error(
                    "短信使用 HttpBackend，但 HAOCHA_SMS_HTTP_URL 未配置为 http(s) 地址",
                    id="haocha.sms.E002",
                )
            )
        if not settings.HAOCHA_SMS_WEBHOOK_SECRET:
            problems.append(
                Warning(
                    "未配置 HAOCHA_SMS_WEBHOOK_SECRET：短信回复与送达回执接口将拒绝所有请求",
                    id="haocha.sms.W001",
                )
            )
    if settings.HAOCHA_SMS_HTTP_TIMEOUT <= 0:
        problems.append(Error("HAOCHA_SMS_HTTP_TIMEOUT 应为正整数（秒）", id="haocha.sms.E003"))
    return problems
