"""System checks that refuse or warn about a broken configuration at start."""

import os

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def identity_keys_check(app_configs, **kwargs):
    """Keys come from the environment or from VAR_DIR/keys.json (haocha/keyfile.py). A short key, or a Fernet
    key that is none, stops the start; keys kept only in the data directory are named on PostgreSQL, where
    losing that directory (not the database) would leave every stored identity unreadable."""
    import base64
    import binascii

    from haocha.keyfile import NAMES

    errors = []
    for name, var in NAMES.items():
        value = getattr(settings, name)
        if len(value) < 32 or value.startswith("dev-only"):
            errors.append(Error(f"{var} 过短或为示例密钥，不能使用", id="haocha.E001"))
    try:
        if len(base64.urlsafe_b64decode(settings.IDENTITY_ENCRYPTION_KEY.encode())) != 32:
            raise ValueError
    except (ValueError, binascii.Error):
        errors.append(
            Error(
                "HAOCHA_IDENTITY_ENCRYPTION_KEY 不是有效的 Fernet 密钥（32 字节 url-safe base64）",
                id="haocha.E002",
            )
        )
    if errors:
        return errors
    from_file = [var for var in NAMES.values() if not os.environ.get(var)]
    if from_file and settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return [
            Warning(
                f"{'、'.join(from_file)} 保存在数据目录 {settings.VAR_DIR / 'keys.json'} 中。",
                hint="生产环境请备份该文件，或改用环境变量设置；密钥丢失后已加密保存的身份信息将无法解密。",
                id="haocha.W001",
            )
        ]
    return []
