"""The nearest policy up the region tree: one resolver for every per-region policy (rating, 差评 handling,
scores, SMS …). A policy model has a one-to-one `region`; a region without a row of its own takes its
nearest ancestor's, else the caller's default.

Rows are cached per process for a short while (policies change rarely and are read on every rating); a
save or delete of any policy row in this process clears the cache at once, and other processes (the
worker, other server workers) see the change within TTL seconds.
"""

import time

from django.db.models.signals import post_delete, post_save

from haocha.organisations.models import Region

TTL = 30.0
_cache: dict[tuple[str, int], tuple[float, object]] = {}
_watched: set[str] = set()


def nearest_policy(model, region: Region | None):
    """The `model` row of `region` or of its nearest ancestor that has one; None if none has."""
    if region is None:
        return None
    label = model._meta.label
    if label not in _watched:
        _watch(model)
    key = (label, region.pk)
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < TTL:
        return hit[1]
    codes = region_path_codes(region)
    rows = {
        row.region.code: row for row in model.objects.filter(region__code__in=codes).select_related("region")
    }
    found = next((rows[code] for code in reversed(codes) if code in rows), None)
    _cache[key] = (now, found)
    return found


def region_path_codes(region: Region) -> list[str]:
    """The region codes from the root down to `region` itself (its `path`)."""
    return [code for code in region.path.strip("/").split("/") if code]


def clear_policy_cache(**_ignored) -> None:
    _cache.clear()


def _watch(model) -> None:
    label = model._meta.label
    post_save.connect(clear_policy_cache, sender=model, weak=False, dispatch_uid=f"policy-cache:{label}")
    post_delete.connect(
        clear_policy_cache, sender=model, weak=False, dispatch_uid=f"policy-cache-del:{label}"
    )
    _watched.add(label)


# A region moved in the tree changes every answer below it.
post_save.connect(clear_policy_cache, sender=Region, weak=False, dispatch_uid="policy-cache:region")
