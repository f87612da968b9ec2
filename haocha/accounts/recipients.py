"""Who holds a role over an organisation: the people a notice about it goes to."""

from django.db.models import Q

from haocha.accounts.models import Role, RoleAssignment, User
from haocha.organisations.models import Organisation


def role_holders(org_ids, roles) -> list[int]:
    """Ids of users holding one of `roles` over these organisations: over the organisation itself, an
    ancestor organisation, or a region containing it."""
    orgs = Organisation.objects.filter(pk__in=org_ids).only("path", "region__path").select_related("region")
    q = Q(pk__in=[])
    for org in orgs:
        ancestors = [int(p) for p in org.path.strip("/").split("/") if p]
        q |= Q(organisation_id__in=ancestors)
        codes = [c for c in org.region.path.strip("/").split("/") if c]
        q |= Q(region__code__in=codes)
    return sorted(set(RoleAssignment.objects.filter(q, role__in=roles).values_list("user_id", flat=True)))


def administrators() -> list[int]:
    """Active system administrators (superusers or holders of the role): whom a notice goes to when nobody
    holds the role it is for."""
    q = Q(is_superuser=True) | Q(roles__role=Role.SYSTEM_ADMIN)
    return sorted(set(User.objects.filter(q, is_active=True).values_list("pk", flat=True)))
