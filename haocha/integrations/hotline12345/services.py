"""Registering a region's 12345: an external platform (its key, secret and address) or the built-in workbench."""

import secrets

from django.db import transaction

from haocha.accounts.access import clear_actor_cache
from haocha.accounts.models import ApiClient
from haocha.core.errors import Conflict, InvalidInput
from haocha.integrations.docking import gm
from haocha.integrations.hotline12345.models import HotlinePlatform
from haocha.organisations.models import Region


def _region(code: str) -> Region:
    region = Region.objects.filter(code=(code or "").strip()).first()
    if region is None:
        raise InvalidInput(f"区划 {code} 不存在", code="unknown_region")
    return region


def platform_register(
    *,
    region_code: str,
    name: str,
    base_url: str = "",
    app_id: str = "",
    signing: str = HotlinePlatform.Signing.HMAC_SHA256,
    contact_key: str = "",
    quiet_hours: int = 4,
) -> tuple[HotlinePlatform, str, str]:
    """An external 12345 platform for a region and its subtree: its API client (hotline ratings with its
    key; its callbacks act as it, assigning within the region) and a fresh signing secret. Returns the
    platform, the secret and the API key, each shown once."""
    region = _region(region_code)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("须提供12345平台名称", code="name_required")
    if signing not in HotlinePlatform.Signing.values:
        raise InvalidInput(
            f"签名方式应为 {'、'.join(HotlinePlatform.Signing.values)}", code="invalid_signing"
        )
    if contact_key:
        gm.sm4_key(contact_key)  # BadKey (a ValueError) when not 32 hex digits
        contact_key = contact_key.strip().lower()
    app_id = (app_id or f"12345-{region.code}").strip()
    if HotlinePlatform.objects.filter(region=region).exists():
        raise Conflict(f"{region.name}已登记12345平台", code="platform_exists")
    if HotlinePlatform.objects.filter(app_id=app_id).exists() or ApiClient.objects.filter(name=name).exists():
        raise Conflict(f"12345平台 {name}（{app_id}）已登记", code="platform_exists")
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        client = ApiClient(
            name=name,
            scopes=[
                ApiClient.Scope.RATINGS_WRITE,
                ApiClient.Scope.RATINGS_READ,
                ApiClient.Scope.WORKORDERS_PLATFORM,
            ],
        )
        key = client.set_new_key()
        client.save()
        client.regions.set([region])
        platform = HotlinePlatform.objects.create(
            region=region,
            mode=HotlinePlatform.Mode.EXTERNAL,
            name=name,
            base_url=base_url,
            app_id=app_id,
            secret=secret,
            signing=signing,
            contact_key=contact_key,
            client=client,
            quiet_hours=quiet_hours,
        )
    clear_actor_cache()
    return platform, secret, key


def platform_set_mode(*, region_code: str, mode: str) -> HotlinePlatform:
    """Switch a region between its external platform and the built-in workbench (orders already pushed stay
    with the platform)."""
    if mode not in HotlinePlatform.Mode.values:
        raise InvalidInput("办理方式应为 builtin 或 external", code="invalid_mode")
    platform = HotlinePlatform.objects.filter(region__code=region_code).first()
    if platform is None:
        raise InvalidInput(f"区划 {region_code} 未登记12345平台", code="unknown_platform")
    platform.mode = mode
    platform.save(update_fields=["mode"])
    return platform
