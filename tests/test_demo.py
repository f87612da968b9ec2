"""`haocha demo`: a realistic, deterministic demo city, built once into an empty database."""

import re
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, F

from haocha.accounts.access import actor_for_api_key
from haocha.accounts.models import ApiClient, Role, RoleAssignment, User
from haocha.catalogue.models import Case, ServiceItem
from haocha.core.identity import decrypt, is_valid_resident_id
from haocha.demo.builder import DEMO_API_KEY, LEVEL_SHARES, fingerprint
from haocha.evaluations.channels import SYSTEM_ONLY_CHANNELS, Channel, indicator_set_code
from haocha.evaluations.levels import BAD_LEVELS, GOOD_LEVELS
from haocha.evaluations.models import Indicator, Rating, RatingReply, ReasonOption
from haocha.organisations.codes import is_valid_credit_code
from haocha.organisations.models import Organisation, Region, Staff, Window

TODAY = "2026-06-15"
ANCHOR = datetime(2026, 6, 15, tzinfo=ZoneInfo("Asia/Shanghai"))
DISTRICTS = {
    "430102": "芙蓉区",
    "430103": "天心区",
    "430104": "岳麓区",
    "430105": "开福区",
    "430111": "雨花区",
    "430112": "望城区",
    "430121": "长沙县",
    "430181": "浏阳市",
    "430182": "宁乡市",
}
FULL_ID = re.compile(r"\d{17}[\dX]|\d{15}")


def demo(*args) -> str:
    out = StringIO()
    call_command("demo", f"--today={TODAY}", *args, stdout=out)
    return out.getvalue()


def test_demo_builds_a_realistic_changsha(db):
    """One build (a few seconds), checked from every side."""
    out = demo("--seed=2026", "--ratings=4000")
    _check_organisations_and_items()
    _check_cases_and_ratings()
    _check_identities()
    _check_accounts_and_api_key(out)


def _check_organisations_and_items():
    assert Region.objects.get(code="430000").name == "湖南省"
    city = Region.objects.get(code="430100")
    assert city.name == "长沙市" and city.path == "/430000/430100/"
    counties = dict(Region.objects.filter(level=Region.Level.COUNTY).values_list("code", "name"))
    assert counties == DISTRICTS
    streets = Region.objects.filter(level=Region.Level.STREET)
    assert streets.count() >= 10
    assert all(len(s.code) == 9 and s.path.startswith(s.parent.path) for s in streets)

    departments = Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT)
    assert departments.count() >= 35
    assert all(is_valid_credit_code(d.credit_code) for d in departments)
    names = set(departments.values_list("name", flat=True))
    for name in (
        "长沙市行政审批服务局",
        "长沙市市场监督管理局",
        "国家税务总局长沙市税务局",
        "长沙住房公积金管理中心",
    ):
        assert name in names
    assert all(f"{district}行政审批服务局" in names for district in DISTRICTS.values())

    centre = Organisation.objects.get(kind=Organisation.Kind.SERVICE_CENTRE, name="长沙市政务服务中心")
    city_hall = Organisation.objects.get(name="长沙市民之家政务服务大厅")
    assert city_hall.kind == Organisation.Kind.HALL and city_hall.parent == centre
    assert city_hall.path == f"{centre.path}{city_hall.pk}/"
    assert Organisation.objects.filter(kind=Organisation.Kind.BRANCH_HALL, parent=centre).count() >= 2
    assert 35 <= city_hall.windows.count() <= 50
    for district in DISTRICTS.values():
        hall = Organisation.objects.get(name=f"{district}政务服务中心", kind=Organisation.Kind.HALL)
        assert 10 <= hall.windows.count() <= 15
    assert Window.objects.filter(code="430100-H01-A01", number="A01", hall=city_hall).exists()
    assert not Window.objects.filter(department__isnull=True).exists()
    assert not Window.objects.annotate(n=Count("staff")).filter(n=0).exists()
    staff_per_window = Staff.objects.count() / Window.objects.count()
    assert 1.8 <= staff_per_window <= 2.6

    items = ServiceItem.objects.all()
    assert 270 <= items.count() <= 330
    types = dict(items.values("item_type").annotate(n=Count("id")).values_list("item_type", "n"))
    assert types["01"] + types["20"] > items.count() / 2 and types.get("07", 0) > 0
    assert not items.filter(handling_kind="immediate").exclude(promised_days=0).exists()
    assert not items.filter(handling_kind="promised").exclude(promised_days__range=(1, 20)).exists()
    assert items.filter(name="不动产转移登记").exists() and items.filter(name="社会保障卡申领").exists()


def _check_cases_and_ratings():
    ratings = Rating.objects.all()
    total = ratings.count()
    assert total == 4000
    first = ratings.filter(kind=Rating.Kind.FIRST)
    follow_ups = ratings.filter(kind=Rating.Kind.FOLLOW_UP)
    assert follow_ups.count() == 120  # 3%
    assert 50 <= first.filter(case__isnull=True).count() <= 250  # 一次一评
    assert not first.filter(case__isnull=True).exclude(channel=Channel.TABLET, window__isnull=False).exists()

    # The level mix: the generator's targets, and what came out.
    assert LEVEL_SHARES["very_satisfied"] > 0.8
    assert sum(LEVEL_SHARES[lv] for lv in GOOD_LEVELS) >= 0.98
    assert 0.002 <= sum(LEVEL_SHARES[lv] for lv in BAD_LEVELS) <= 0.01
    good = ratings.filter(level__in=GOOD_LEVELS).count() / total
    bad = ratings.filter(is_bad=True).count() / total
    assert good >= 0.97 and 0.001 <= bad <= 0.02
    assert ratings.filter(level="very_satisfied").count() > ratings.filter(level="satisfied").count()
    assert not ratings.filter(is_bad=True).exclude(level__in=BAD_LEVELS).exists()
    assert not ratings.filter(is_bad=False, level__in=BAD_LEVELS).exists()

    expected_channels = {c.value for c in Channel if c not in SYSTEM_ONLY_CHANNELS}
    assert set(ratings.values_list("channel", flat=True).distinct()) == expected_channels

    reason_level = dict(ReasonOption.objects.values_list("code", "level"))
    indicators = {}
    for set_id, code in Indicator.objects.values_list("indicator_set_id", "code"):
        indicators.setdefault(set_id, set()).add(code)
    for r in ratings.select_related("indicator_set"):
        assert r.indicator_set.code == indicator_set_code(r.channel)
        assert r.is_valid or (r.flags.filter(kind="invalid").exists() and "申诉成立" in r.invalid_reason)
        assert set(r.indicator_levels) == indicators[r.indicator_set_id]
        assert r.indicator_levels["overall"] == r.level
        assert all(reason_level[c] == r.level for c in r.reason_codes)
        if r.is_bad:
            assert r.reason_codes or r.comment
        if r.channel in (Channel.TABLET, Channel.TERMINAL):
            assert r.device_id
        if r.channel in (Channel.PC, Channel.MOBILE):
            assert r.client_ip

    # Cases: times in order and in the past, the evaluator is the applicant, fields copied.
    finished = Case.objects.filter(status=Case.Status.FINISHED)
    assert not finished.filter(finished_at__lte=F("accepted_at")).exists()
    assert not Case.objects.filter(accepted_at__gte=ANCHOR).exists()
    open_cases = Case.objects.filter(status__in=[Case.Status.ACCEPTED, Case.Status.PROCESSING])
    assert open_cases.exists() and not open_cases.filter(ratings__isnull=False).exists()
    assert not open_cases.exclude(finished_at=None).exists()
    assert Case.objects.count() > first.filter(case__isnull=False).count()  # not every case is rated
    assert not ratings.filter(rated_at__gt=ANCHOR).exists()
    on_cases = first.filter(case__isnull=False)
    assert not on_cases.filter(rated_at__lt=F("case__finished_at")).exists()
    assert not on_cases.exclude(evaluator_id_hash=F("case__applicant_id_hash")).exists()
    assert not on_cases.exclude(department=F("case__department"), item=F("case__item")).exists()
    hall_cases = finished.filter(apply_channel=Case.ApplyChannel.HALL)
    assert hall_cases.exists() and not hall_cases.filter(window__isnull=True).exists()
    assert set(hall_cases.filter(ratings__isnull=False).values_list("ratings__channel", flat=True)) >= {
        "tablet",
        "qrcode",
        "sms",
    }
    online = on_cases.filter(case__apply_channel__in=[Case.ApplyChannel.ONLINE, Case.ApplyChannel.MOBILE])
    assert online.filter(channel__in=["pc", "mobile"]).count() > 0.8 * online.count()

    # 追评: same case and evaluator, later; replies mostly on 差评.
    assert not follow_ups.exclude(case=F("first_rating__case")).exists()
    assert not follow_ups.exclude(evaluator_id_hash=F("first_rating__evaluator_id_hash")).exists()
    assert not follow_ups.filter(rated_at__lte=F("first_rating__rated_at")).exists()
    bad_first = first.filter(is_bad=True)
    replied = RatingReply.objects.filter(rating__in=bad_first).count()
    assert replied >= 0.7 * bad_first.count()
    assert RatingReply.objects.filter(rating__is_bad=False).exists()
    assert not RatingReply.objects.filter(created_at__lt=F("rating__rated_at")).exists()


def _check_identities():
    masked = list(
        Rating.objects.exclude(evaluator_id_masked="").values_list("evaluator_id_masked", flat=True)
    )
    assert masked and all("*" in m for m in masked)
    assert all("*" in m for m in Case.objects.values_list("applicant_id_masked", flat=True))
    assert all("*" in m for m in Case.objects.values_list("applicant_phone_masked", flat=True))
    for field in ("evaluator_name", "evaluator_id_masked", "evaluator_phone_masked", "comment", "device_id"):
        values = Rating.objects.values_list(field, flat=True)
        assert not any(FULL_ID.search(v or "") for v in values), field
    persons = Case.objects.filter(applicant_type="1").order_by("case_no")[:200]
    for case in persons:
        number = decrypt(case.applicant_id_enc)
        assert is_valid_resident_id(number) and number[:6] in _id_region_codes()
        assert re.fullmatch(r"1[3-9]\d{9}", decrypt(case.applicant_phone_enc))
    companies = Case.objects.filter(applicant_type="2")[:50]
    assert companies and all(is_valid_credit_code(decrypt(c.applicant_id_enc)) for c in companies)
    # Applicants come back for more than one case, as they do.
    assert Case.objects.values("applicant_id_hash").distinct().count() < Case.objects.count()


def _id_region_codes():
    from haocha.demo.people import ID_REGIONS

    return {code for code, _ in ID_REGIONS}


def _check_accounts_and_api_key(out):
    assert "演示数据生成完毕" in out and DEMO_API_KEY in out and "haocha-demo-2026" in out
    expected = {
        "admin": Role.SYSTEM_ADMIN,
        "supervisor": Role.SUPERVISOR,
        "operator": Role.OPERATOR_12345,
        "dept_admin": Role.DEPARTMENT_ADMIN,
        "handler": Role.HANDLER,
        "clerk": Role.WINDOW_CLERK,
    }
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert user.is_staff and RoleAssignment.objects.filter(user=user, role=role).exists()
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="handler").check_password("haocha-demo-2026")
    scjg = Organisation.objects.get(name="长沙市市场监督管理局")
    assert RoleAssignment.objects.get(user__username="dept_admin").organisation == scjg
    assert RoleAssignment.objects.get(user__username="supervisor").region.code == "430100"
    assert RoleAssignment.objects.get(user__username="clerk").organisation.name == "长沙市民之家政务服务大厅"

    client = ApiClient.objects.get(name="长沙市一体化政务服务平台（演示）")
    assert set(client.scopes) == set(ApiClient.Scope.values)
    assert list(client.regions.values_list("code", flat=True)) == ["430100"]
    actor = actor_for_api_key(DEMO_API_KEY)
    assert actor is not None and actor.client == client
    assert actor.can_see_org(Organisation.objects.get(name="芙蓉区行政审批服务局").pk)


def _fingerprint_of(*args) -> str:
    with transaction.atomic():
        demo(*args)
        value = fingerprint()
        transaction.set_rollback(True)
    return value


def test_the_same_seed_gives_the_same_data(db):
    first = _fingerprint_of("--seed=7", "--ratings=600")
    assert not Region.objects.exists()
    assert _fingerprint_of("--seed=7", "--ratings=600") == first
    assert _fingerprint_of("--seed=8", "--ratings=600") != first


def test_if_empty_leaves_a_filled_database_alone(db):
    demo("--ratings=100", "--password=another-pass-123")
    counts = (Region.objects.count(), Case.objects.count(), Rating.objects.count(), User.objects.count())
    out = demo("--if-empty", "--ratings=100")
    assert "跳过" in out
    assert (
        Region.objects.count(),
        Case.objects.count(),
        Rating.objects.count(),
        User.objects.count(),
    ) == counts
    with pytest.raises(CommandError):
        demo("--ratings=100")
    assert User.objects.get(username="operator").check_password("another-pass-123")


def test_if_empty_builds_into_an_empty_database_and_bad_sizes_are_refused(db):
    with pytest.raises(CommandError):
        demo("--months=0")
    with pytest.raises(CommandError):
        demo("--ratings=-1")
    assert not Region.objects.exists()
    assert "演示数据生成完毕" in demo("--if-empty", "--ratings=50", "--months=3")
    assert Rating.objects.count() == 50
    assert Rating.objects.earliest("rated_at").rated_at >= datetime(
        2026, 3, 15, tzinfo=ZoneInfo("Asia/Shanghai")
    )


def test_demo_bad_ratings_become_work_orders_in_every_state(db):
    from django.core.management import call_command

    from haocha.evaluations.models import Rating
    from haocha.workorders.models import Status, WorkOrder

    call_command("demo", "--ratings", "3000", "--seed", "7", stdout=StringIO())
    first_bad = Rating.objects.filter(is_bad=True, kind=1)
    assert first_bad.exists()
    assert WorkOrder.objects.count() >= first_bad.count() * 0.9
    statuses = set(WorkOrder.objects.values_list("status", flat=True))
    assert Status.CLOSED in statuses
    closed = WorkOrder.objects.filter(status=Status.CLOSED).first()
    actions = list(closed.transitions.values_list("action", flat=True))
    assert actions[0] == "create" and actions[-1] == "callback"
    assert all(t.at >= closed.received_at for t in closed.transitions.all())
