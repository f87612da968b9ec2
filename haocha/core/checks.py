"""System checks that refuse or warn about a broken configuration at start."""

from django.conf import settings
from django.core.checks import Warning, register


@register()
def identity_keys_check(app_configs, **kwargs):
    """Development keys are fine on a laptop; outside DEBUG they are named so an operator can replace them."""
    if settings.DEBUG:
        return []
    weak = []
    if settings.SECRET_KEY.startswith("dev-only"):
        weak.append("HAOCHA_SECRET_KEY")
    if settings.IDENTITY_HASH_KEY.startswith("dev-only"):
        weak.append("HAOCHA_IDENTITY_HASH_KEY")
    if not settings.IDENTITY_ENCRYPTION_KEY:
        weak.append("HAOCHA_IDENTITY_ENCRYPTION_KEY")
    if not weak:
        return []
    return [
        Warning(
            f"仍在使用开发默认密钥：{'、'.join(weak)}（仅适用于演示和测试）。",
            hint="生产环境请设置这些环境变量；加密密钥可用 python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' 生成。",
            id="haocha.W001",
        )
    ]
