"""Write functions for the organisation tree."""

from django.db import transaction

from haocha.organisations.models import Organisation, Region


def region_save(region: Region) -> Region:
    """Save a region and keep its code path (and its descendants') consistent."""
    with transaction.atomic():
        old_path = region.path
        prefix = region.parent.path if region.parent_id else "/"
        region.path = f"{prefix}{region.code}/"
        region.save()
        if old_path and old_path != region.path:
            for child in Region.objects.filter(path__startswith=old_path).exclude(pk=region.pk):
                child.path = region.path + child.path[len(old_path) :]
                child.save(update_fields=["path"])
    return region


def organisation_save(org: Organisation) -> Organisation:
    """Save an organisation and keep its id path (and its descendants') consistent."""
    with transaction.atomic():
        if org.pk is None:
            org.path = ""
            org.save()
        old_path = org.path
        if org.parent_id:
            parent = Organisation.objects.only("path").get(pk=org.parent_id)
            if f"/{org.pk}/" in parent.path:
                raise ValueError("上级机构不能是本机构或其下级机构")
            org.path = f"{parent.path}{org.pk}/"
        else:
            org.path = f"/{org.pk}/"
        org.save()
        if old_path and old_path != org.path:
            for child in Organisation.objects.filter(path__startswith=old_path).exclude(pk=org.pk):
                child.path = org.path + child.path[len(old_path) :]
                child.save(update_fields=["path"])
    return org
