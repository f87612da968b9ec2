"""A shared cast for tests: a small city with two departments, a hall, windows, staff, items and clients."""

from datetime import timedelta

from django.utils import timezone

from haocha.accounts.models import ApiClient, Role, RoleAssignment, User
from haocha.catalogue.models import Case, ServiceItem
from haocha.catalogue.services import CaseInput, cases_upsert
from haocha.core.identity import resident_id_check_digit
from haocha.organisations.codes import credit_code_check_char
from haocha.organisations.models import Organisation, Region, Staff, Window
from haocha.organisations.services import organisation_save, region_save

PASSWORD = "Haocha-test-2026!"


def credit_code(seq: int) -> str:
    first17 = f"11430100{seq:09d}"
    return first17 + credit_code_check_char(first17)


def resident_id(seq: int, region: str = "430102", birth: str = "19850312") -> str:
    first17 = f"{region}{birth}{seq % 1000:03d}"
    return first17 + resident_id_check_digit(first17)


def make_region(code, name, level, parent=None):
    return region_save(Region(code=code, name=name, level=level, parent=parent))


def make_org(name, kind, region, parent=None, code_seq=None):
    org = Organisation(
        name=name,
        kind=kind,
        region=region,
        parent=parent,
        credit_code=credit_code(code_seq) if code_seq else "",
    )
    return organisation_save(org)


def make_user(username, role=None, *, region=None, organisation=None, superuser=False):
    user = User.objects.create_user(
        username=username, password=PASSWORD, display_name=username, is_staff=True, is_superuser=superuser
    )
    if role:
        RoleAssignment.objects.create(user=user, role=role, region=region, organisation=organisation)
    return user


def make_client(name, *, organisations=(), regions=(), scopes=None):
    client = ApiClient(name=name, scopes=scopes if scopes is not None else [s.value for s in ApiClient.Scope])
    raw = client.set_new_key()
    client.save()
    client.organisations.set(organisations)
    client.regions.set(regions)
    return client, raw


class Cast:
    """Attributes are created by build_cast()."""


def build_cast() -> Cast:
    c = Cast()
    c.province = make_region("430000", "湖南省", Region.Level.PROVINCE)
    c.city = make_region("430100", "长沙市", Region.Level.CITY, c.province)
    c.furong = make_region("430102", "芙蓉区", Region.Level.COUNTY, c.city)
    c.yuelu = make_region("430104", "岳麓区", Region.Level.COUNTY, c.city)
    c.dept_a = make_org("长沙市市场监督管理局", Organisation.Kind.DEPARTMENT, c.city, code_seq=1)
    c.dept_b = make_org("长沙市人力资源和社会保障局", Organisation.Kind.DEPARTMENT, c.city, code_seq=2)
    c.dept_yuelu = make_org("岳麓区行政审批服务局", Organisation.Kind.DEPARTMENT, c.yuelu, code_seq=3)
    c.centre = make_org("长沙市政务服务中心", Organisation.Kind.SERVICE_CENTRE, c.city, code_seq=4)
    c.hall = make_org("长沙市民之家政务服务大厅", Organisation.Kind.HALL, c.city, parent=c.centre)
    c.window_a = Window.objects.create(
        hall=c.hall, code="430100-H1-A01", number="A01", name="市场准入", department=c.dept_a
    )
    c.window_b = Window.objects.create(
        hall=c.hall, code="430100-H1-B01", number="B01", name="社保服务", department=c.dept_b
    )
    c.staff_a = Staff.objects.create(staff_no="SJ0001", name="李娜", department=c.dept_a, title="窗口受理员")
    c.staff_a.windows.add(c.window_a)
    c.item_a = ServiceItem.objects.create(
        code="11430100MB1A01-001",
        name="食品经营许可",
        item_type="01",
        department=c.dept_a,
        region=c.city,
        handling_kind="promised",
        promised_days=10,
        legal_days=20,
    )
    c.item_b = ServiceItem.objects.create(
        code="11430100MB1B02-001",
        name="社会保障卡申领",
        item_type="20",
        department=c.dept_b,
        region=c.city,
        handling_kind="immediate",
    )
    c.item_yuelu = ServiceItem.objects.create(
        code="11430104MB1C03-001",
        name="个体工商户登记",
        item_type="01",
        department=c.dept_yuelu,
        region=c.yuelu,
        handling_kind="immediate",
    )
    c.client_a, c.key_a = make_client("市场监管审批系统", organisations=[c.dept_a, c.hall])
    c.client_b, c.key_b = make_client("人社业务系统", organisations=[c.dept_b])
    c.client_city, c.key_city = make_client("一体化平台", regions=[c.city])
    c.admin = make_user("admin", superuser=True)
    c.supervisor = make_user("supervisor", Role.SUPERVISOR, region=c.city)
    c.operator = make_user("operator", Role.OPERATOR_12345, region=c.city)
    c.handler_a = make_user("handler_a", Role.HANDLER, organisation=c.dept_a)
    c.handler_b = make_user("handler_b", Role.HANDLER, organisation=c.dept_b)
    c.clerk = make_user("clerk", Role.WINDOW_CLERK, organisation=c.hall)
    c.outsider = make_user("outsider", Role.SUPERVISOR, region=c.yuelu)
    return c


def finished_case(cast, case_no, *, item=None, seq=1, window=None, finished_ago=timedelta(hours=2)) -> Case:
    now = timezone.now()
    item = item or cast.item_a
    client = cast.client_city
    from haocha.accounts.access import actor_for_api_key

    actor = actor_for_api_key(cast.key_city)
    assert actor.client == client
    [result] = cases_upsert(
        actor=actor,
        records=[
            CaseInput(
                case_no=case_no,
                item_code=item.code,
                applicant_type="1",
                applicant_name="王小明",
                applicant_id_number=resident_id(seq),
                applicant_phone="13812345678",
                accepted_at=now - finished_ago - timedelta(days=1),
                finished_at=now - finished_ago,
                status="finished",
                window_code=window.code if window else "",
                apply_channel="hall" if window else "online",
            )
        ],
    )
    assert result.status in ("created", "updated"), result
    return Case.objects.get(case_no=case_no)
