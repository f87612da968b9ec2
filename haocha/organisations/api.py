"""Reference data: regions, organisations, halls, windows and staff (service items: catalogue/reference_api.py)."""

from django.db.models import Q
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from haocha.organisations.models import Organisation, Region, Staff, Window

router = Router(tags=["基础数据"])
MAX_ID = 2**62  # ids and offsets beyond what the databases store are refused as bad input, not a 500


class Page(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(100, ge=1, le=500)
        offset: int = Field(0, ge=0, le=10**9)


def Id(description: str):
    return Query(None, ge=1, le=MAX_ID, description=description)


PUBLIC = None  # public catalogue data: no credentials needed (as on any government service portal)


class RegionOut(Schema):
    code: str
    name: str
    level: int
    level_name: str
    parent_code: str | None

    @staticmethod
    def resolve_level_name(obj):
        return obj.get_level_display()

    @staticmethod
    def resolve_parent_code(obj):
        return obj.parent.code if obj.parent_id else None


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    kind_name: str
    credit_code: str
    region_code: str
    parent_id: int | None
    address: str

    @staticmethod
    def resolve_kind_name(obj):
        return obj.get_kind_display()

    @staticmethod
    def resolve_region_code(obj):
        return obj.region.code


class WindowOut(Schema):
    id: int
    code: str
    hall_id: int
    number: str
    name: str
    department_id: int | None


class StaffOut(Schema):
    staff_no: str
    name: str
    department_id: int
    title: str
    window_codes: list[str]
    photo_url: str | None

    @staticmethod
    def resolve_window_codes(obj):
        return [w.code for w in obj.windows.all()]

    @staticmethod
    def resolve_photo_url(obj):
        return obj.photo.url if obj.photo else None


def region_prefix(code: str | None) -> Q:
    if not code:
        return Q()
    region = Region.objects.filter(code=code).only("path").first()
    return Q(region__path__startswith=region.path) if region else Q(pk__in=[])


@router.get("/regions", response=list[RegionOut], auth=PUBLIC, summary="行政区划列表")
def list_regions(request, parent: str | None = None, level: int | None = Query(None, ge=1, le=4)):
    qs = Region.objects.select_related("parent")
    if parent:
        qs = qs.filter(parent__code=parent)
    if level:
        qs = qs.filter(level=level)
    return list(qs.order_by("code"))


@router.get("/organisations", response=list[OrganisationOut], auth=PUBLIC, summary="组织机构列表")
@paginate(Page)
def list_organisations(request, kind: str | None = None, region: str | None = None, q: str | None = None):
    qs = Organisation.objects.filter(is_active=True).select_related("region").filter(region_prefix(region))
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(name__contains=q)
    return qs.order_by("region__code", "kind", "id")


@router.get("/halls", response=list[OrganisationOut], auth=PUBLIC, summary="政务服务中心、大厅和分厅")
@paginate(Page)
def list_halls(request, region: str | None = None):
    qs = Organisation.objects.filter(is_active=True, kind__in=Organisation.HALL_KINDS).select_related(
        "region"
    )
    return qs.filter(region_prefix(region)).order_by("region__code", "id")


@router.get("/windows", response=list[WindowOut], auth=PUBLIC, summary="窗口列表")
@paginate(Page)
def list_windows(request, hall: int | None = Id("大厅编号")):
    qs = Window.objects.filter(is_active=True)
    if hall:
        qs = qs.filter(hall_id=hall)
    return qs.order_by("hall_id", "number")


@router.get("/staff", response=list[StaffOut], summary="工作人员列表（仅本人可见范围）")
@paginate(Page)
def list_staff(request, department: int | None = Id("部门编号"), window: str | None = None):
    actor = request.auth
    qs = (
        Staff.objects.filter(is_active=True)
        .filter(actor.org_filter("department_id"))
        .prefetch_related("windows")
    )
    if department:
        qs = qs.filter(department_id=department)
    if window:
        qs = qs.filter(windows__code=window)
    return qs.order_by("staff_no")
