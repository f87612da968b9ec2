"""Who is calling and what they may see: one Actor per request, scoped to organisation subtrees."""

import time
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from haocha.accounts.models import ApiClient, Role, hash_api_key
from haocha.organisations.models import Organisation


@dataclass(frozen=True)
class Permission:
    """What one kind of action needs: a user holds one of `roles` over the organisation concerned (the scope
    of that role only: a user's other roles lend none), or an API client holds `client_scope` and acts over
    its own organisations. Actors of a signed link or a device hold no permission."""

    label: str  # what it allows, as the refusal says it: "查看评价记录"
    roles: tuple[str, ...]
    client_scope: str | None = None


@dataclass(frozen=True)
class Actor:
    label: str
    user: object | None = None
    client: ApiClient | None = None
    roles: frozenset = field(default_factory=frozenset)
    all_access: bool = False
    org_ids: frozenset = field(default_factory=frozenset)
    scopes: frozenset = field(default_factory=frozenset)
    # role -> the organisations that role is held over (a user's roles never lend each other scope)
    role_orgs: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def idempotency_scope(self) -> str:
        if self.client is not None:
            return f"client:{self.client.pk}"
        if self.user is not None:
            return f"user:{self.user.pk}"
        return "public"

    def has_role(self, *roles: str) -> bool:
        return self.all_access or bool(self.roles.intersection(roles))

    def can_act(self, roles, org_id: int | None) -> bool:
        """Holds one of `roles` over this organisation (not merely some role, and the organisation elsewhere)."""
        if self.all_access:
            return True
        return org_id is not None and any(org_id in self.role_orgs.get(role, ()) for role in roles)

    def orgs_for(self, permission: Permission) -> frozenset | None:
        """The organisations over which the actor holds `permission`; None means every organisation."""
        if self.all_access:
            return None
        if self.client is not None:
            return self.org_ids if permission.client_scope in self.scopes else frozenset()
        if self.user is None:
            return frozenset()
        return frozenset().union(*(self.role_orgs.get(role, ()) for role in permission.roles))

    def holds(self, permission: Permission) -> bool:
        """Holds `permission` over some organisation."""
        orgs = self.orgs_for(permission)
        return orgs is None or bool(orgs)

    def allows(self, permission: Permission, *org_ids: int | None) -> bool:
        """Holds `permission` over one of these organisations."""
        orgs = self.orgs_for(permission)
        return any(pk is not None and (orgs is None or pk in orgs) for pk in org_ids)

    def filter_for(self, permission: Permission, *fields: str) -> Q:
        """A Q that keeps rows whose given organisation fields fall where the actor holds `permission`."""
        orgs = self.orgs_for(permission)
        if orgs is None:
            return Q()
        q = Q(pk__in=[])
        for name in fields:
            q |= Q(**{f"{name}__in": orgs})
        return q

    def has_scope(self, *scopes: str) -> bool:
        """API clients: holds one of these scopes; staff sessions are governed by their roles instead."""
        return self.client is None or bool(self.scopes.intersection(scopes))

    def can_see_org(self, org_id: int | None) -> bool:
        return org_id is not None and (self.all_access or org_id in self.org_ids)

    def org_filter(self, *fields: str) -> Q:
        """A Q that keeps rows whose given organisation fields fall inside this actor's scope."""
        if self.all_access:
            return Q()
        q = Q(pk__in=[])
        for name in fields:
            q |= Q(**{f"{name}__in": self.org_ids})
        return q


def _orgs_under(region_paths: list[str], org_paths: list[str]) -> frozenset:
    if not region_paths and not org_paths:
        return frozenset()
    q = Q(pk__in=[])
    for path in region_paths:
        q |= Q(region__path__startswith=path)
    for path in org_paths:
        q |= Q(path__startswith=path)
    return frozenset(Organisation.objects.filter(q).values_list("pk", flat=True))


def actor_for_user(user) -> Actor:
    cached = getattr(user, "_haocha_actor", None)
    if cached is not None:
        return cached
    assignments = list(user.roles.select_related("region", "organisation"))
    roles = frozenset(a.role for a in assignments)
    all_access = user.is_superuser or Role.SYSTEM_ADMIN in roles
    role_orgs: dict = {}
    if not all_access:
        for role in roles:
            mine = [a for a in assignments if a.role == role]
            role_orgs[role] = _orgs_under(
                [a.region.path for a in mine if a.region_id],
                [a.organisation.path for a in mine if a.organisation_id],
            )
    org_ids = frozenset().union(*role_orgs.values()) if role_orgs else frozenset()
    actor = Actor(
        label=user.get_username(),
        user=user,
        roles=roles,
        all_access=all_access,
        org_ids=org_ids,
        role_orgs=role_orgs,
    )
    user._haocha_actor = actor
    return actor


_CLIENT_CACHE: dict[str, tuple[float, Actor | None]] = {}
_CLIENT_CACHE_SECONDS = 30.0


def presented_api_key(meta) -> str:
    """The API key a call presents (WSGI environ or request.META): `X-Api-Key`, else `Authorization:
    Bearer <key>`, read as the API's ApiKeyAuth and BearerAuth read them; "" when there is none."""
    key = meta.get("HTTP_X_API_KEY")
    if key:
        return key
    parts = meta.get("HTTP_AUTHORIZATION", "").split(" ")
    if parts[0].lower() == "bearer":
        return " ".join(parts[1:])
    return ""


def actor_for_api_key(raw_key: str) -> Actor | None:
    """Resolve an API key to its client's actor; cached in-process for a short time."""
    digest = hash_api_key(raw_key)
    now = time.monotonic()
    hit = _CLIENT_CACHE.get(digest)
    if hit is not None and now - hit[0] < _CLIENT_CACHE_SECONDS:
        return hit[1]
    client = ApiClient.objects.filter(key_hash=digest, is_active=True).first()
    actor = None
    if client is not None:
        actor = actor_for_client(client)
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    if actor is not None:  # misses are not cached: random keys must not grow memory
        if len(_CLIENT_CACHE) > 1000:
            _CLIENT_CACHE.clear()
        _CLIENT_CACHE[digest] = (now, actor)
    return actor


def actor_for_client(client: ApiClient) -> Actor:
    """The actor of a calling system: its scopes, and the organisations of its regions and organisations."""
    org_ids = _orgs_under(
        list(client.regions.values_list("path", flat=True)),
        list(client.organisations.values_list("path", flat=True)),
    )
    return Actor(
        label=f"系统:{client.name}", client=client, org_ids=org_ids, scopes=frozenset(client.scopes or [])
    )


def clear_actor_cache() -> None:
    _CLIENT_CACHE.clear()
