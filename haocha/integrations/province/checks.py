"""System checks: refuse a parent configuration that cannot sign or encrypt as agreed, at start."""

from django.conf import settings
from django.core.checks import Error, register

from haocha.integrations.docking import gm, signing

PROTOCOLS = ("haocha", "provincial")


@register()
def parent_agreement_check(app_configs, **kwargs):
    problems = []

    def error(n: int, text: str) -> None:
        problems.append(Error(text, id=f"haocha.province.E00{n}"))

    protocol, name = settings.HAOCHA_PARENT_PROTOCOL, settings.HAOCHA_PARENT_SIGNING
    if protocol not in PROTOCOLS:
        error(1, f"HAOCHA_PARENT_PROTOCOL“{protocol}”无效：可选 haocha 或 provincial")
    if name not in signing.SCHEMES:
        error(2, f"HAOCHA_PARENT_SIGNING“{name}”无效：可选 {'、'.join(signing.SCHEMES)}")
    if protocol == "haocha" and (name != signing.HMAC_SHA256.name or settings.HAOCHA_PARENT_SM4_KEY):
        error(3, "上级为 haocha 时按下级系统的共享密钥验签：签名方式只能是 hmac-sha256，且不加密报文")
    for n, setting, parse in (
        (4, "HAOCHA_PARENT_SM2_PRIVATE_KEY", gm.sm2_private_key),
        (5, "HAOCHA_PARENT_SM2_PUBLIC_KEY", gm.sm2_public_key),
        (6, "HAOCHA_PARENT_SM4_KEY", gm.sm4_key),
    ):
        value = getattr(settings, setting)
        if value:
            try:
                parse(value)
            except gm.BadKey as exc:
                error(n, f"{setting} 无效：{exc}")
    if (
        name == signing.SM2_SM3.name
        and settings.HAOCHA_PARENT_URL
        and not settings.HAOCHA_PARENT_SM2_PRIVATE_KEY
    ):
        error(4, "签名方式为 sm2-sm3，但未配置本系统的 SM2 私钥 HAOCHA_PARENT_SM2_PRIVATE_KEY")
    if settings.HAOCHA_PARENT_SM4_MODE not in gm.SM4_MODES:
        error(7, f"HAOCHA_PARENT_SM4_MODE“{settings.HAOCHA_PARENT_SM4_MODE}”无效：可选 cbc 或 ecb")
    return problems
