"""System checks that refuse or warn about a broken configuration at start."""

from django.conf import settings
from django.core.checks import Warning, register


@register()
def identity_keys_check(app_configs, **kwargs):
    problems = []
    production = settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and not settings.DEBUG
    if production and settings.IDENTITY_HASH_KEY.startswith("dev-only"):
        problems.append(
            Warning(
                "HAOCHA_IDENTITY_HASH_KEY is the development default.",
                hint="Set HAOCHA_IDENTITY_HASH_KEY and HAOCHA_IDENTITY_ENCRYPTION_KEY in production.",
                id="haocha.W001",
            )
        )
    return problems
