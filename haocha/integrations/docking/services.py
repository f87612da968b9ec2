"""Registering child systems at a parent."""

import secrets

from django.db import transaction

from haocha.accounts.access import clear_actor_cache
from haocha.accounts.models import ApiClient
from haocha.core.errors import Conflict, InvalidInput
from haocha.integrations.docking.models import ChildSystem
from haocha.organisations.models import Region


def child_register(
    *,
    name: str,
    region_code: str,
    app_id: str = "",
    vendor: str = ChildSystem.Vendor.HAOCHA,
    base_url: str = "",
) -> tuple[ChildSystem, str]:
    """A child system over a region subtree, with its own API client (its records' source) and a fresh
    signing secret, returned once."""
    name = name.strip()
    if not name:
        raise InvalidInput("须提供下级系统名称", code="name_required")
    region = Region.objects.filter(code=region_code.strip()).first()
    if region is None:
        raise InvalidInput(
            f"区划 {region_code} 不存在（可先用 haocha regions load 载入区划）", code="unknown_region"
        )
    app_id = (app_id or f"hc-{region.code}").strip()
    if ChildSystem.objects.filter(app_id=app_id).exists() or ChildSystem.objects.filter(name=name).exists():
        raise Conflict(f"下级系统 {name}（{app_id}）已登记", code="child_exists")
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        client = ApiClient(
            name=f"下级系统：{name}",
            scopes=[ApiClient.Scope.CASES_WRITE, ApiClient.Scope.RATINGS_WRITE],
        )
        client.set_new_key()  # never shown: a child signs with its secret, not an API key
        client.save()
        client.regions.set([region])
        child = ChildSystem.objects.create(
            name=name,
            region=region,
            app_id=app_id,
            secret=secret,
            client=client,
            vendor=vendor,
            base_url=base_url,
        )
    clear_actor_cache()
    return child, secret


def child_new_secret(child: ChildSystem) -> str:
    secret = secrets.token_urlsafe(32)
    ChildSystem.objects.filter(pk=child.pk).update(secret=secret)
    return secret
