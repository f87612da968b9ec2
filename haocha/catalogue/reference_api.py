"""Reference data of the catalogue: the service items (政务服务事项), public like the rest of the reference data."""

from ninja import Router, Schema

from haocha.catalogue.models import ServiceItem
from haocha.organisations.api import PUBLIC, Id, Page, paginate, region_prefix

router = Router(tags=["基础数据"])


class ItemOut(Schema):
    code: str
    name: str
    item_type: str
    item_type_name: str
    department_id: int
    region_code: str
    handling_kind: str
    promised_days: int

    @staticmethod
    def resolve_item_type_name(obj):
        return obj.get_item_type_display()

    @staticmethod
    def resolve_region_code(obj):
        return obj.region.code


@router.get("/items", response=list[ItemOut], auth=PUBLIC, summary="政务服务事项列表")
@paginate(Page)
def list_items(
    request, department: int | None = Id("部门编号"), region: str | None = None, q: str | None = None
):
    qs = ServiceItem.objects.filter(is_active=True).select_related("region").filter(region_prefix(region))
    if department:
        qs = qs.filter(department_id=department)
    if q:
        qs = qs.filter(name__contains=q)
    return qs.order_by("code")
