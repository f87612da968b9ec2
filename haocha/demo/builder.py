"""The demo data builder behind `haocha demo`: a deterministic 长沙市 of halls, items, cases and ratings."""

import hashlib
import math
import random
import time as clock
import uuid
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from itertools import accumulate
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Count, Max
from django.utils import timezone

from haocha.accounts.models import ApiClient, Role, RoleAssignment, User, hash_api_key
from haocha.assessment.models import AssessmentRule
from haocha.catalogue.models import ApplicantType, Case, ServiceItem
from haocha.channels.demo import build_channel_demo
from haocha.core.identity import Identity, resident_id_check_digit
from haocha.demo import people, tables, texts
from haocha.demo.orders import replay_work_orders
from haocha.evaluations.channels import Channel, indicator_set_code
from haocha.evaluations.levels import BAD_LEVELS, GOOD_LEVELS, ORDERED, Level
from haocha.evaluations.models import IndicatorSet, Rating, RatingReply
from haocha.integrations.sms.demo import build_sms_demo
from haocha.organisations.codes import credit_code_check_char
from haocha.organisations.models import Organisation, Region, Staff, Window
from haocha.organisations.services import organisation_save, region_save
from haocha.workcalendar.arithmetic import end_of_day
from haocha.workcalendar.services import load_calendar

TZ = ZoneInfo("Asia/Shanghai")
BATCH = 2000
DEMO_API_KEY = "hc_demo_changsha_platform_key"
DEMO_CLIENT_NAME = "长沙市一体化政务服务平台（演示）"
DEFAULT_PASSWORD = "haocha-demo-2026"

# Target shares of the first ratings' levels (before the per-department, window and channel factors,
# which have mean 1): 好评 ≈ 98.5%, 差评 ≈ 0.5%.
LEVEL_SHARES = {
    Level.VERY_SATISFIED: 0.8865,
    Level.SATISFIED: 0.098,
    Level.BASICALLY_SATISFIED: 0.0105,
    Level.DISSATISFIED: 0.0033,
    Level.VERY_DISSATISFIED: 0.0017,
}
FOLLOW_UP_SHARE = 0.03  # of all ratings
VISIT_SHARE = 0.04  # 一次一评 window ratings, of the first ratings
UNRATED_SHARE = 0.12  # finished cases nobody rated, relative to the rated ones
OPEN_SHARE = 0.006  # cases still open (accepted / processing), relative to the rated ones

# Case apply channel by applicant kind.
APPLY_MIX = {
    "p": [("hall", 0.45), ("mobile", 0.30), ("online", 0.18), ("terminal", 0.05), ("mail", 0.02)],
    "c": [("hall", 0.40), ("online", 0.45), ("mobile", 0.10), ("terminal", 0.03), ("mail", 0.02)],
}
# Rating channel by case apply channel.
RATING_MIX = {
    "hall": [
        (Channel.TABLET, 0.52), (Channel.QRCODE, 0.20), (Channel.SMS, 0.15), (Channel.PHONE, 0.02),
        (Channel.CALLBACK, 0.04), (Channel.SURVEY, 0.03), (Channel.SUPERVISOR, 0.02),
        (Channel.HOTLINE_12345, 0.02),
    ],
    "online": [
        (Channel.PC, 0.86), (Channel.SMS, 0.05), (Channel.CALLBACK, 0.03), (Channel.PHONE, 0.02),
        (Channel.SURVEY, 0.02), (Channel.HOTLINE_12345, 0.02),
    ],
    "mobile": [
        (Channel.MOBILE, 0.88), (Channel.SMS, 0.05), (Channel.CALLBACK, 0.03), (Channel.PHONE, 0.01),
        (Channel.SURVEY, 0.01), (Channel.HOTLINE_12345, 0.02),
    ],
    "terminal": [(Channel.TERMINAL, 0.80), (Channel.QRCODE, 0.08), (Channel.SMS, 0.10),
                 (Channel.HOTLINE_12345, 0.02)],
    "mail": [(Channel.SMS, 0.55), (Channel.PHONE, 0.20), (Channel.CALLBACK, 0.20), (Channel.HOTLINE_12345, 0.05)],
}  # fmt: skip
# How much likelier a complaint is through a channel (12345 is where people go to complain).
CHANNEL_BAD_FACTOR = {
    Channel.TABLET: 0.7, Channel.QRCODE: 0.9, Channel.TERMINAL: 1.0, Channel.SMS: 1.1, Channel.PC: 1.0,
    Channel.MOBILE: 1.0, Channel.PHONE: 1.5, Channel.CALLBACK: 1.6, Channel.SURVEY: 1.2,
    Channel.SUPERVISOR: 1.5, Channel.HOTLINE_12345: 6.0,
}  # fmt: skip
RECORDED_CHANNELS = (Channel.PHONE, Channel.CALLBACK, Channel.SURVEY, Channel.HOTLINE_12345)
IP_CHANNELS = (Channel.PC, Channel.MOBILE, Channel.QRCODE)
LATE_REASONS = ("ON501", "OF503")
ONLINE_HOUR_WEIGHTS = [1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 2, 4, 6, 7, 7, 5, 5, 6, 6, 6, 5, 4, 4, 4, 3.5, 3, 2]
APPLY_TO_CASE_CHANNEL = {
    "hall": Case.ApplyChannel.HALL,
    "online": Case.ApplyChannel.ONLINE,
    "mobile": Case.ApplyChannel.MOBILE,
    "terminal": Case.ApplyChannel.TERMINAL,
    "mail": Case.ApplyChannel.MAIL,
}


@dataclass
class DemoResult:
    counts: dict = field(default_factory=dict)
    levels: dict = field(default_factory=dict)
    channels: dict = field(default_factory=dict)
    accounts: list = field(default_factory=list)
    api_key: str = DEMO_API_KEY
    seconds: float = 0.0
    work_orders: dict = field(default_factory=dict)


@dataclass
class _Dept:
    id: int
    key: str
    name: str
    q: float  # complaint factor (mean 1)
    s_mult: float  # 满意 vs 非常满意 factor


@dataclass
class _Win:
    id: int
    code: str
    number: str
    name: str
    dept_id: int
    hall_id: int
    q: float
    staff: list = field(default_factory=list)  # [(staff id, complaint factor)]


@dataclass
class _Hall:
    obj: Organisation
    region_id: int
    windows: list = field(default_factory=list)
    by_dept: dict = field(default_factory=dict)
    general: list = field(default_factory=list)
    terminals: list = field(default_factory=list)


@dataclass
class _Item:
    id: int
    name: str
    dept: _Dept
    region_id: int
    days: int
    target: str
    halls: list  # [(hall, weight)]


@dataclass
class _Set:
    obj: IndicatorSet
    indicators: list  # codes, overall first
    overall: str
    reasons: dict  # level -> [codes]
    reason_text: dict  # code -> text


def _lognormal_mean1(rng: random.Random, sigma: float) -> float:
    return math.exp(rng.gauss(0.0, sigma) - sigma * sigma / 2)


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


APPLICANT_FIELDS = tuple(
    f"applicant_{name}"
    for name in ("type", "name", "id_hash", "id_masked", "id_enc", "phone_hash", "phone_masked", "phone_enc")
)
EVALUATOR_FIELDS = tuple(name.replace("applicant_", "evaluator_") for name in APPLICANT_FIELDS)


class _RowWriter:
    """Batched INSERTs of plain dicts for the large tables, with explicit ids and every value adapted
    exactly as the ORM adapts it (bulk_create spends most of its time compiling each value)."""

    def __init__(self, model):
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
        self.plan = []
        for f in self.fields:
            if isinstance(f, models.DateTimeField):
                adapt = connection.ops.adapt_datetimefield_value
            elif isinstance(f, models.UUIDField | models.JSONField | models.GenericIPAddressField):
                adapt = partial(f.get_db_prep_save, connection=connection)
            else:
                adapt = None
            default = None if f.primary_key else f.get_default()
            if adapt is not None and default is not None:
                default = adapt(default)
            self.plan.append((f.attname, default, adapt))
        self._next = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1

    def new_id(self) -> int:
        value = self._next
        self._next += 1
        return value

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        plan = self.plan
        params = [
            tuple(
                (adapt(row[name]) if adapt is not None and row[name] is not None else row[name])
                if name in row
                else default
                for name, default, adapt in plan
            )
            for row in rows
        ]
        with connection.cursor() as cursor:
            for start in range(0, len(params), BATCH):
                cursor.executemany(self.sql, params[start : start + BATCH])


class DemoSetupError(RuntimeError):
    """The database is not ready for the demo (e.g. migrations not applied)."""


class DemoBuilder:
    """Builds the whole demo in one transaction; every random choice comes from a stream seeded by `seed`."""

    def __init__(
        self, *, seed=2026, ratings=50000, months=12, password=DEFAULT_PASSWORD, today=None, log=None
    ):
        if ratings < 0 or months < 1:
            raise ValueError("ratings must be ≥ 0 and months ≥ 1")
        self.seed = seed
        self.n_ratings = ratings
        self.months = months
        self.password = password
        self.today = today or timezone.now().astimezone(TZ).date()
        self.anchor = datetime.combine(self.today, time(0), tzinfo=TZ)
        self.log = log or (lambda message: None)
        self.result = DemoResult()
        self.surnames = [s for s, _ in people.SURNAMES]
        self.surname_cum = list(accumulate(w for _, w in people.SURNAMES))
        self.windows_by_id = {}

    def rng(self, name: str) -> random.Random:
        """An independent stream per step, so a change in one table leaves the others' data alone."""
        return random.Random(f"{self.seed}:{name}")

    # ------------------------------------------------------------------ entry point
    def build(self) -> DemoResult:
        started = clock.perf_counter()
        with transaction.atomic():
            self._load_indicator_sets()
            self._regions()
            self._departments()
            self._halls()
            self._items()
            self._accounts()
            self._people()
            self._calendar()
            self._cases_and_ratings()
            self._follow_ups()
            self._replies()
            self._reset_sequences()
            self.result.work_orders = replay_work_orders(seed=self.seed, now=timezone.now())
            build_sms_demo(seed=self.seed, anchor=self.anchor)  # the SMS invitation ledger of recent cases
            build_channel_demo(
                hall=self.city_hall.obj, terminal_codes=self.city_hall.terminals, clerk=self.users["clerk"]
            )
        self.result.seconds = clock.perf_counter() - started
        self._count()
        return self.result

    # ------------------------------------------------------------------ reference data
    def _load_indicator_sets(self):
        self.sets = {}
        for code in (IndicatorSet.Code.ONLINE, IndicatorSet.Code.OFFLINE):
            obj = IndicatorSet.objects.filter(code=code, is_active=True).first()
            if obj is None:
                raise DemoSetupError(f"缺少启用的评价指标体系：{code}（请先执行 haocha migrate）")
            indicators = list(obj.indicators.order_by("-is_overall", "order", "code"))
            reasons = {level: [] for level in ORDERED}
            reason_text = {}
            for r in obj.reasons.order_by("order", "code"):
                reasons[Level(r.level)].append(r.code)
                reason_text[r.code] = r.text
            self.sets[code] = _Set(
                obj=obj,
                indicators=[i.code for i in indicators],
                overall=next((i.code for i in indicators if i.is_overall), "overall"),
                reasons=reasons,
                reason_text=reason_text,
            )

    def _regions(self):
        self.province = region_save(
            Region(code=tables.PROVINCE[0], name=tables.PROVINCE[1], level=Region.Level.PROVINCE)
        )
        self.city = region_save(
            Region(code=tables.CITY[0], name=tables.CITY[1], level=Region.Level.CITY, parent=self.province)
        )
        self.districts = {}
        self.n_streets = 0
        for code, name in tables.DISTRICTS:
            self.districts[code] = region_save(
                Region(code=code, name=name, level=Region.Level.COUNTY, parent=self.city)
            )
        for code, streets in tables.STREETS.items():
            parent = self.districts[code]
            for i, name in enumerate(streets, start=1):
                region_save(
                    Region(code=f"{code}{i:03d}", name=name, level=Region.Level.STREET, parent=parent)
                )
                self.n_streets += 1
        self.log(f"行政区划：{2 + len(self.districts)} 个省市区县，{self.n_streets} 个街道")
        AssessmentRule.objects.create(region=self.city)  # the city's 年度目标考核规则, at the defaults

    def _credit_code(self, rng, kind: str, region_code: str) -> str:
        while True:
            org = "0" + "".join(rng.choice("0123456789") for _ in range(8))
            first17 = f"{kind}{region_code}{org}"
            code = first17 + credit_code_check_char(first17)
            if code not in self.credit_codes:
                self.credit_codes.add(code)
                return code

    def _departments(self):
        rng = self.rng("departments")
        self.credit_codes = set()
        self.depts = {}  # (scope, key) -> _Dept; scope "city" or a district code
        for key, name, short, kind in tables.CITY_DEPARTMENTS:
            org = organisation_save(
                Organisation(
                    name=name,
                    short_name=short,
                    kind=Organisation.Kind.DEPARTMENT,
                    credit_code=self._credit_code(rng, kind, self.city.code),
                    region=self.city,
                    address="长沙市岳麓区岳麓大道218号" if kind == "11" else "",
                    phone=f"0731-8{rng.randrange(10**7):07d}",
                )
            )
            self.depts["city", key] = self._dept_info(rng, org, key)
        for code, district_name in tables.DISTRICTS:
            region = self.districts[code]
            for key, suffix, short in tables.DISTRICT_DEPARTMENTS:
                org = organisation_save(
                    Organisation(
                        name=f"{district_name}{suffix}",
                        short_name=f"{district_name}{short}",
                        kind=Organisation.Kind.DEPARTMENT,
                        credit_code=self._credit_code(rng, "11", code),
                        region=region,
                        phone=f"0731-8{rng.randrange(10**7):07d}",
                    )
                )
                self.depts[code, key] = self._dept_info(rng, org, key)
        # Two departments that draw more complaints than the rest, for the rankings to show.
        for scope_key in (("city", "bdc"), ("430111", "shenpi")):
            self.depts[scope_key].q *= 2.0
        self.log(f"部门：{len(self.depts)} 个")

    def _dept_info(self, rng, org, key) -> _Dept:
        return _Dept(
            id=org.pk, key=key, name=org.name, q=_lognormal_mean1(rng, 0.4), s_mult=rng.uniform(0.6, 1.5)
        )

    def _halls(self):
        rng = self.rng("halls")
        self.halls = []
        self.staff_seq = {}
        self.window_count = 0
        self.staff_rows = []  # (Staff, [window ids])
        self.centre = organisation_save(
            Organisation(
                name="长沙市政务服务中心",
                short_name="市政务服务中心",
                kind=Organisation.Kind.SERVICE_CENTRE,
                credit_code=self._credit_code(rng, "12", self.city.code),
                region=self.city,
                address="长沙市岳麓区岳麓大道218号市民之家",
                phone="0731-12345",
            )
        )
        city_hall = organisation_save(
            Organisation(
                name="长沙市民之家政务服务大厅",
                short_name="市民之家",
                kind=Organisation.Kind.HALL,
                region=self.city,
                parent=self.centre,
                address="长沙市岳麓区岳麓大道218号市民之家",
            )
        )
        self.city_hall = self._hall_setup(rng, city_hall, self.city, "city", tables.CITY_HALL_WINDOWS, 1, 6)
        self.branch_halls = {}
        for seq, (name, short, key, windows) in enumerate(tables.BRANCH_HALLS, start=2):
            org = organisation_save(
                Organisation(
                    name=name,
                    short_name=short,
                    kind=Organisation.Kind.BRANCH_HALL,
                    region=self.city,
                    parent=self.centre,
                    address="长沙市岳麓区岳麓大道218号市民之家",
                )
            )
            self.branch_halls[key] = self._hall_setup(rng, org, self.city, "city", windows, seq, 2)
        self.district_halls = {}
        for code, district_name in tables.DISTRICTS:
            region = self.districts[code]
            org = organisation_save(
                Organisation(
                    name=f"{district_name}政务服务中心",
                    short_name=f"{district_name}政务大厅",
                    kind=Organisation.Kind.HALL,
                    region=region,
                    phone=f"0731-8{rng.randrange(10**7):07d}",
                )
            )
            windows = list(tables.DISTRICT_HALL_WINDOWS)
            for zone, name, key in rng.sample(tables.DISTRICT_HALL_EXTRA, rng.randint(0, 3)):
                windows.append((zone, name, key, 1))
            self.district_halls[code] = self._hall_setup(rng, org, region, code, windows, 1, 2)
        Staff.objects.bulk_create([s for s, _ in self.staff_rows], batch_size=BATCH)
        Through = Staff.windows.through
        Through.objects.bulk_create(
            [Through(staff_id=s.pk, window_id=w) for s, wins in self.staff_rows for w in wins],
            batch_size=BATCH,
        )
        for staff, wins in self.staff_rows:
            q = staff._demo_q
            for w in wins:
                self.windows_by_id[w].staff.append((staff.pk, q))
        self.n_staff = len(self.staff_rows)
        self.log(f"大厅：{len(self.halls)} 个，窗口 {self.window_count} 个，工作人员 {self.n_staff} 名")

    def _hall_setup(self, rng, org, region, scope, window_specs, hall_seq, n_terminals) -> _Hall:
        hall = _Hall(obj=org, region_id=region.pk)
        self.halls.append(hall)
        zone_counts = {}
        window_objs = []
        for zone, name, key, count in window_specs:
            dept = self.depts[scope, key]
            for _ in range(count):
                zone_counts[zone] = zone_counts.get(zone, 0) + 1
                number = f"{zone}{zone_counts[zone]:02d}"
                window_objs.append(
                    (
                        Window(
                            hall=org,
                            code=f"{region.code}-H{hall_seq:02d}-{number}",
                            number=number,
                            name=name,
                            department_id=dept.id,
                        ),
                        dept,
                    )
                )
        Window.objects.bulk_create([w for w, _ in window_objs])
        problem = {rng.randrange(len(window_objs))} if scope == "city" else set()
        for index, (w, dept) in enumerate(window_objs):
            q = _lognormal_mean1(rng, 0.3) * (3.0 if index in problem else 1.0)
            info = _Win(
                id=w.pk, code=w.code, number=w.number, name=w.name, dept_id=dept.id, hall_id=org.pk, q=q
            )
            hall.windows.append(info)
            hall.by_dept.setdefault(dept.id, []).append(info)
            if "综合" in w.name and dept.key == "shenpi":
                hall.general.append(info)
            self.windows_by_id[w.pk] = info
            self._staff_for(rng, region, info, scope == "city" and hall_seq == 1)
        if not hall.general:
            hall.general = list(hall.windows)
        hall.terminals = [f"ZZ-{region.code}-H{hall_seq:02d}-{i:02d}" for i in range(1, n_terminals + 1)]
        self.window_count += len(window_objs)
        return hall

    def _staff_for(self, rng, region, win: _Win, busy: bool):
        count = 2 + (1 if busy and rng.random() < 0.3 else 0)
        for n in range(count):
            seq = self.staff_seq.get(region.code, 0) + 1
            self.staff_seq[region.code] = seq
            name, _gender, _birth = self._person_name(rng)
            title = (
                rng.choice(tables.LEAD_TITLES)
                if n == 0 and rng.random() < 0.4
                else rng.choice(tables.STAFF_TITLES)
            )
            staff = Staff(
                staff_no=f"{region.code}-{seq:04d}", name=name, department_id=win.dept_id, title=title
            )
            q = _lognormal_mean1(rng, 0.3)
            if rng.random() < 0.01:
                q *= 4.0  # the occasional member of staff who draws complaints
            staff._demo_q = q
            self.staff_rows.append((staff, [win.id]))

    def _items(self):
        rng = self.rng("items")
        items = []
        specs = []
        seq_by_dept = {}

        def add(dept, region, name, item_type, days, popularity, target, halls):
            seq_by_dept[dept.id] = seq_by_dept.get(dept.id, 0) + 1
            code = f"{self.dept_codes[dept.id]}-{seq_by_dept[dept.id]:03d}"
            legal = 0 if days == 0 else min(60, days * 2 + rng.choice((0, 0, 5, 10)))
            items.append(
                ServiceItem(
                    code=code,
                    name=name,
                    item_type=item_type,
                    department_id=dept.id,
                    region=region,
                    handling_kind="immediate" if days == 0 else "promised",
                    promised_days=days,
                    legal_days=legal,
                )
            )
            specs.append(
                (name, dept, region.pk, days, popularity * _lognormal_mean1(rng, 0.3), target, halls)
            )

        self.dept_codes = dict(
            Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT).values_list("pk", "credit_code")
        )
        for key, rows in tables.CITY_ITEMS.items():
            dept = self.depts["city", key]
            branch = self.branch_halls.get(key)
            halls = [(self.city_hall, 1.0)] if branch is None else [
                (branch, tables.BRANCH_SHARE), (self.city_hall, 1 - tables.BRANCH_SHARE)
            ]  # fmt: skip
            for name, item_type, days, popularity, target in rows:
                add(dept, self.city, name, item_type, days, popularity, target, halls)
        for code, _name in tables.DISTRICTS:
            region = self.districts[code]
            hall = self.district_halls[code]
            rows = [r for r in tables.DISTRICT_ITEMS if not r[6] or code in tables.RURAL_DISTRICTS]
            rows = rng.sample(rows, min(len(rows), rng.randint(*tables.DISTRICT_ITEM_RANGE)))
            rows.sort(key=tables.DISTRICT_ITEMS.index)
            for key, name, item_type, days, popularity, target, _rural in rows:
                popularity *= tables.DISTRICT_WEIGHT[code]
                add(self.depts[code, key], region, name, item_type, days, popularity, target, [(hall, 1.0)])
        ServiceItem.objects.bulk_create(items, batch_size=BATCH)
        self.items = [
            _Item(id=obj.pk, name=s[0], dept=s[1], region_id=s[2], days=s[3], target=s[5], halls=s[6])
            for obj, s in zip(items, specs, strict=True)
        ]
        self.item_cum = list(accumulate(s[4] for s in specs))
        # Scale the complaint factors so that their traffic-weighted mean is 1 and LEVEL_SHARES hold overall.
        depts = {}
        for s in specs:
            depts.setdefault(s[1].id, [s[1], 0.0])[1] += s[4]
        mean_q = sum(d.q * w for d, w in depts.values()) / sum(w for _, w in depts.values())
        for dept in self.depts.values():
            dept.q /= mean_q
        pairs = [w.q * q for w in self.windows_by_id.values() for _, q in w.staff]
        mean_w = sum(pairs) / len(pairs)
        for w in self.windows_by_id.values():
            w.q /= mean_w
        self.log(f"政务服务事项：{len(self.items)} 项")

    def _accounts(self):
        scjg = Organisation.objects.get(pk=self.depts["city", "scjg"].id)
        clerk_staff = Staff.objects.filter(windows__hall=self.city_hall.obj).order_by("staff_no").first()
        rows = [
            ("admin", "系统管理员", Role.SYSTEM_ADMIN, None, None, True),
            ("supervisor", "刘建华", Role.SUPERVISOR, self.city, None, False),
            ("operator", "陈静", Role.OPERATOR_12345, self.city, None, False),
            ("dept_admin", "王磊", Role.DEPARTMENT_ADMIN, None, scjg, False),
            ("handler", "李娜", Role.HANDLER, None, scjg, False),
            ("clerk", clerk_staff.name, Role.WINDOW_CLERK, None, self.city_hall.obj, False),
        ]
        self.users = {}
        hashed = make_password(self.password)  # one slow hash for all the demo accounts (same password)
        for username, display, role, region, org, superuser in rows:
            user = User.objects.filter(username=username).first()
            created = user is None
            if created:
                user = User.objects.create_user(
                    username=username,
                    password=None,
                    display_name=display,
                    is_staff=True,
                    is_superuser=superuser,
                    organisation=org
                    if org is not None and org.kind == Organisation.Kind.DEPARTMENT
                    else None,
                )
                user.password = hashed
                user.save(update_fields=["password"])
                RoleAssignment.objects.create(user=user, role=role, region=region, organisation=org)
            self.users[username] = user
            scope = (region or org).name if (region or org) else "全部"
            self.result.accounts.append((username, Role(role).label, scope, created))
        clerk_staff.user = self.users["clerk"]
        clerk_staff.save(update_fields=["user"])
        client = ApiClient(name=DEMO_CLIENT_NAME, scopes=[s.value for s in ApiClient.Scope])
        client.key_prefix = DEMO_API_KEY[:10]
        client.key_hash = hash_api_key(DEMO_API_KEY)
        client.save()
        client.regions.set([self.city])
        self.client = client

    # ------------------------------------------------------------------ applicants
    def _person_name(self, rng, birth_year=None):
        surname = rng.choices(self.surnames, cum_weights=self.surname_cum)[0]
        male = rng.random() < 0.5
        year = birth_year or rng.randint(1965, 2000)
        modern = year >= 1990 and rng.random() < 0.7
        if male:
            given = rng.choice(people.GIVEN_MALE_MODERN if modern else people.GIVEN_MALE_CLASSIC)
        else:
            given = rng.choice(people.GIVEN_FEMALE_MODERN if modern else people.GIVEN_FEMALE_CLASSIC)
        return surname + given, male, year

    def _phone(self, rng) -> str:
        return rng.choice(people.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"

    def _people(self):
        """Pools of applicants; their stored identity (hash, mask, ciphertext) is computed once, on first use."""
        rng = self.rng("people")
        expected_cases = int(self.n_ratings * (1 + UNRATED_SHARE) + 50)
        n_persons = max(60, int(expected_cases * 0.35))
        n_companies = max(20, expected_cases // 30)
        region_codes = [c for c, _ in people.ID_REGIONS]
        region_cum = list(accumulate(w for _, w in people.ID_REGIONS))
        year_cum = list(accumulate(w for *_, w in people.BIRTH_YEARS))
        seen = set()
        self.persons = []
        while len(self.persons) < n_persons:
            band = min(bisect_right(year_cum, rng.random() * year_cum[-1]), len(year_cum) - 1)
            lo, hi, _w = people.BIRTH_YEARS[band]
            year = rng.randint(lo, hi)
            name, male, _ = self._person_name(rng, year)
            birth = date(year, 1, 1) + timedelta(days=rng.randrange(365))
            region = rng.choices(region_codes, cum_weights=region_cum)[0]
            order = rng.randrange(500) * 2 + (1 if male else 0)
            first17 = f"{region}{birth:%Y%m%d}{order:03d}"
            id_number = first17 + resident_id_check_digit(first17)
            if id_number in seen:
                continue
            seen.add(id_number)
            self.persons.append((name, id_number, self._phone(rng)))
        self.companies = []
        names = set()
        district_codes = [c for c, _ in tables.DISTRICTS]
        while len(self.companies) < n_companies:
            name = (
                rng.choice(people.COMPANY_PLACES)
                + rng.choice(people.COMPANY_WORDS)
                + rng.choice(people.COMPANY_TRADES)
                + rng.choice(people.COMPANY_SUFFIXES)
            )
            if name in names:
                continue
            names.add(name)
            if rng.random() < 0.7:
                org = (
                    "MA4" + rng.choice("LMNPQRT") + "".join(rng.choice(people.CREDIT_CHARS) for _ in range(5))
                )
            else:
                org = "7" + "".join(rng.choice("0123456789") for _ in range(8))
            first17 = f"91{rng.choice(district_codes)}{org}"
            code = first17 + credit_code_check_char(first17)
            if code in seen:
                continue
            seen.add(code)
            self.companies.append((name, code, self._phone(rng)))
        # Companies apply again and again (agents, builders), so their use is skewed.
        self.company_cum = list(accumulate(1.0 / (i + 1) ** 0.6 for i in range(len(self.companies))))
        self.identities = {}

    def _applicant(self, rng, target: str):
        company = target == "c" or (target == "b" and rng.random() < 0.4)
        if company:
            cum = self.company_cum
            index = ("c", min(bisect_right(cum, rng.random() * cum[-1]), len(cum) - 1))
        else:
            index = ("p", rng.randrange(len(self.persons)))
        ident = self.identities.get(index)
        if ident is None:
            name, number, phone = (self.companies if company else self.persons)[index[1]]
            i = Identity(name=name, id_number=number, phone=phone)
            ident = (
                ApplicantType.ENTERPRISE if company else ApplicantType.PERSON,
                i.name,
                i.id_hash,
                i.id_masked,
                i.id_enc,
                i.phone_hash,
                i.phone_masked,
                i.phone_enc,
            )
            self.identities[index] = ident
        return ident

    # ------------------------------------------------------------------ time
    def _calendar(self):
        """Day weights from the working-day calendar: halls open on working days (a little on Saturdays)."""
        self.workcal = load_calendar()
        start = _months_before(self.today, self.months)
        self.days = [start + timedelta(days=i) for i in range((self.today - start).days)]
        n = len(self.days)
        office, online = [], []
        for i, day in enumerate(self.days):
            trend = 0.9 + 0.2 * i / max(1, n - 1)
            holiday = day in self.workcal.holidays
            if self.workcal.is_workday(day):
                office.append(trend)
                online.append(trend)
            else:
                office.append(trend * (0.1 if day.weekday() == 5 and not holiday else 0.0))
                online.append(trend * (0.3 if holiday else 0.45))
        self.day_cum = {"office": list(accumulate(office)), "online": list(accumulate(online))}
        self.hour_cum = list(accumulate(ONLINE_HOUR_WEIGHTS))

    def _workdays_after(self, day: date, n: int) -> date:
        """The n-th working day after `day` (the day itself not counted); `day` for n = 0."""
        while n > 0:
            day += timedelta(days=1)
            n -= self.workcal.is_workday(day)
        return day

    def _workdays_before(self, day: date, n: int) -> date:
        while n > 0:
            day -= timedelta(days=1)
            n -= self.workcal.is_workday(day)
        return day

    def _pick_day(self, rng, calendar: str) -> int:
        cum = self.day_cum[calendar]
        return min(bisect_right(cum, rng.random() * cum[-1]), len(cum) - 1)

    def _office_time(self, rng, day: date) -> datetime:
        r = rng.random()
        if r < 0.55:
            minute = rng.uniform(8.5 * 60, 12 * 60)
        elif r < 0.62:
            minute = rng.uniform(12 * 60, 13.5 * 60)
        else:
            minute = rng.uniform(13.5 * 60, 17.5 * 60)
        return datetime.combine(day, time(0), tzinfo=TZ) + timedelta(seconds=int(minute * 60))

    def _any_time(self, rng, day: date) -> datetime:
        hour = bisect_right(self.hour_cum, rng.random() * self.hour_cum[-1])
        return datetime.combine(day, time(0), tzinfo=TZ) + timedelta(hours=hour, seconds=rng.randrange(3600))

    def _rated_at(self, rng, channel: str, finished: datetime) -> datetime:
        if channel == Channel.TABLET:
            at = finished + timedelta(seconds=rng.randint(20, 300))
        elif channel == Channel.TERMINAL:
            at = finished + timedelta(seconds=rng.randint(10, 120))
        elif channel in (Channel.QRCODE, Channel.SUPERVISOR):
            at = finished + timedelta(seconds=rng.randint(60, 1800))
        elif channel == Channel.SMS:
            at = finished + timedelta(seconds=min(172800, 300 + int(rng.expovariate(1 / 10800))))
        elif channel in (Channel.PC, Channel.MOBILE):
            seconds = rng.randint(60, 3600) if rng.random() < 0.7 else rng.randint(3600, 3 * 86400)
            at = finished + timedelta(seconds=seconds)
        elif channel == Channel.HOTLINE_12345:
            at = self._any_time(rng, finished.date() + timedelta(days=rng.randint(1, 10)))
        elif channel == Channel.SURVEY:
            at = self._office_time(rng, finished.date() + timedelta(days=rng.randint(2, 14)))
        else:  # phone, callback
            at = self._office_time(rng, finished.date() + timedelta(days=rng.randint(1, 7)))
        if at <= finished or at >= self.anchor:
            at = finished + (self.anchor - finished) * rng.uniform(0.05, 0.95)
        at = at.replace(microsecond=0)
        return at if at > finished else finished + timedelta(seconds=1)

    # ------------------------------------------------------------------ ratings content
    def _level(self, rng, dept: _Dept, channel: str, factor: float, day_index: int) -> Level:
        trend = 1.25 - 0.5 * day_index / max(1, len(self.days) - 1)  # complaints fall as rectification works
        m = dept.q * factor * CHANNEL_BAD_FACTOR[channel] * trend
        s = LEVEL_SHARES[Level.SATISFIED] * dept.s_mult
        bs = LEVEL_SHARES[Level.BASICALLY_SATISFIED] * m
        d = LEVEL_SHARES[Level.DISSATISFIED] * m
        vd = LEVEL_SHARES[Level.VERY_DISSATISFIED] * m
        r = rng.random()
        if r < vd:
            return Level.VERY_DISSATISFIED
        if r < vd + d:
            return Level.DISSATISFIED
        if r < vd + d + bs:
            return Level.BASICALLY_SATISFIED
        if r < vd + d + bs + s:
            return Level.SATISFIED
        return Level.VERY_SATISFIED

    def _content(self, rng, level: Level, channel: str, item_name: str, window_number: str):
        """(indicator set, indicator levels, reason codes, comment) for one rating."""
        iset = self.sets[indicator_set_code(channel)]
        index = ORDERED.index(level)
        levels = {}
        for code in iset.indicators:
            if code == iset.overall:
                levels[code] = level.value
                continue
            r = rng.random()
            shifted = index + (1 if r < 0.15 else (-1 if r < 0.25 else 0))
            shifted = max(0, min(4, shifted))
            if level not in BAD_LEVELS:
                shifted = min(shifted, 2)
            levels[code] = ORDERED[shifted].value
        options = iset.reasons[level]
        reasons = []
        comment = ""
        if level in BAD_LEVELS:
            reasons = rng.sample(options, 2 if rng.random() < 0.3 else 1)
            if rng.random() < 0.9:
                pool = texts.COMPLAINTS.get(reasons[0]) or texts.BAD_GENERIC
                comment = rng.choice(pool)
        elif level == Level.BASICALLY_SATISFIED:
            if rng.random() < 0.8:
                reasons = [rng.choice(options)]
            if rng.random() < 0.6:
                pool = texts.BASIC_COMMENTS.get(reasons[0]) if reasons else None
                comment = rng.choice(pool or texts.BASIC_GENERIC)
        else:
            if options and rng.random() < 0.55:
                reasons = rng.sample(options, min(len(options), 2 if rng.random() < 0.35 else 1))
            if rng.random() < (0.22 if level == Level.VERY_SATISFIED else 0.2):
                if level == Level.SATISFIED and rng.random() < 0.35:
                    online = self._online_context(channel, window_number)
                    comment = rng.choice(
                        texts.SATISFIED_EXTRA_ONLINE if online else texts.SATISFIED_EXTRA_OFFLINE
                    )
                else:
                    comment = self._praise(rng, channel, item_name, window_number)
        reasons.sort(key=options.index)
        return iset, levels, reasons, comment

    @staticmethod
    def _online_context(channel: str, window_number: str) -> bool:
        """Whether the citizen dealt with the case online (no window, not at a hall terminal)."""
        return channel in (Channel.PC, Channel.MOBILE) or (not window_number and channel != Channel.TERMINAL)

    def _praise(self, rng, channel: str, item_name: str, window_number: str) -> str:
        pool = texts.PRAISE_ONLINE if self._online_context(channel, window_number) else texts.PRAISE_OFFLINE
        for _ in range(5):
            text = rng.choice(pool + texts.PRAISE_ANY)
            if ("{window}" in text and not window_number) or ("{item}" in text and not item_name):
                continue
            return text.format(window=window_number, item=item_name)
        return rng.choice(texts.PRAISE_ANY)

    def _ip(self, rng, channel: str) -> str:
        if channel != Channel.PC and rng.random() < 0.25:
            prefix = rng.choice(people.IPV6_PREFIXES)
            groups = ":".join(f"{rng.randrange(1, 0xFFFF):x}" for _ in range(6))
            return f"{prefix}:{groups}"
        prefixes = people.IPV4_PREFIXES
        prefix = rng.choices([p for p, _ in prefixes], weights=[w for _, w in prefixes])[0]
        first, second = (int(x) for x in prefix.split("."))
        return f"{first}.{second + rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"

    def _public_id(self, rng) -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    def _recorder(self, channel: str):
        if channel in RECORDED_CHANNELS:
            return self.users["operator"].pk, None
        if channel == Channel.SUPERVISOR:
            return self.users["supervisor"].pk, None
        return None, self.client.pk

    # ------------------------------------------------------------------ cases and first ratings
    def _cases_and_ratings(self):
        rng = self.rng("cases")
        n_follow = round(self.n_ratings * FOLLOW_UP_SHARE)
        n_first = self.n_ratings - n_follow
        n_visit = round(n_first * VISIT_SHARE)
        n_rated = n_first - n_visit
        n_unrated = round(n_rated * UNRATED_SHARE)
        n_open = round(n_rated * OPEN_SHARE)
        self.n_follow_target = n_follow
        self.case_writer = _RowWriter(Case)
        self.rating_writer = _RowWriter(Rating)

        # Light specs first (finish day, item, apply channel, rated?), then the rows in day order.
        specs = []
        for rated in [True] * n_rated + [False] * n_unrated:
            item_index = min(
                bisect_right(self.item_cum, rng.random() * self.item_cum[-1]), len(self.items) - 1
            )
            item = self.items[item_index]
            mix = APPLY_MIX["c" if item.target == "c" else "p"]
            apply = rng.choices([a for a, _ in mix], weights=[w for _, w in mix])[0]
            calendar = "online" if apply in ("online", "mobile") and item.days == 0 else "office"
            specs.append((self._pick_day(rng, calendar), item_index, apply, rated))
        specs.sort(key=lambda s: s[0])

        self.case_seq = {}
        self.first_ratings = []  # light records for 追评 and replies
        self.level_counts = dict.fromkeys(ORDERED, 0)
        cases, ratings = [], []
        for day_index, item_index, apply, rated in specs:
            case, rating = self._case(rng, self.items[item_index], apply, day_index, rated)
            cases.append(case)
            if rating is not None:
                ratings.append(rating)
            if len(cases) >= BATCH:
                self._flush(cases, ratings)
                cases, ratings = [], []
        self._flush(cases, ratings)
        self._open_cases(rng, n_open)
        self._visit_ratings(rng, n_visit)

    def _case_no(self, region_code: str, accepted: datetime) -> str:
        key = (region_code, accepted.date())
        seq = self.case_seq.get(key, 0) + 1
        self.case_seq[key] = seq
        return f"{region_code}{accepted:%Y%m%d}{seq:05d}"

    def _place(self, rng, item: _Item, apply: str):
        """(hall, window, staff id, complaint factor) for a case."""
        if apply not in ("hall", "terminal"):
            return None, None, None, 1.0
        halls = item.halls
        hall = (
            halls[0][0]
            if len(halls) == 1
            else rng.choices([h for h, _ in halls], weights=[w for _, w in halls])[0]
        )
        if apply == "terminal":
            return hall, None, None, 1.0
        window = rng.choice(hall.by_dept.get(item.dept.id) or hall.general)
        staff_id, staff_q = rng.choice(window.staff)
        return hall, window, staff_id, window.q * staff_q

    def _case_row(
        self, item: _Item, apply: str, hall, window, staff_id, ident, status, accepted, finished, promised
    ):
        row = {
            "id": self.case_writer.new_id(),
            "case_no": self._case_no(self.region_codes[item.region_id], accepted),
            "item_id": item.id,
            "department_id": item.dept.id,
            "region_id": item.region_id,
            "hall_id": hall.obj.pk if hall else None,
            "window_id": window.id if window else None,
            "staff_id": staff_id,
            "apply_channel": APPLY_TO_CASE_CHANNEL[apply],
            "status": status,
            "accepted_at": accepted,
            "finished_at": finished,
            "promised_at": promised,
            "source_id": self.client.pk,
            # Registered by the approval system when accepted, last updated when finished.
            "created_at": accepted,
            "updated_at": finished or accepted,
        }
        row.update(zip(APPLICANT_FIELDS, ident, strict=True))
        return row

    def _rating_row(self, rng, *, case_id, kind, first_id, dept_id, hall_id, window_id, staff_id, item_id,
                    region_id, level, content, channel, ident, rated_at, device=""):  # fmt: skip
        iset, levels, reasons, comment = content
        recorded_by, source = self._recorder(channel)
        row = {
            "id": self.rating_writer.new_id(),
            "public_id": self._public_id(rng),
            "case_id": case_id,
            "kind": kind,
            "first_rating_id": first_id,
            "department_id": dept_id,
            "hall_id": hall_id,
            "window_id": window_id,
            "staff_id": staff_id,
            "item_id": item_id,
            "region_id": region_id,
            "level": level.value,
            "is_bad": level in BAD_LEVELS,
            "indicator_levels": levels,
            "reason_codes": reasons,
            "comment": comment,
            "indicator_set_id": iset.obj.pk,
            "channel": channel.value,
            "rated_at": rated_at,
            "received_at": rated_at,
            "client_ip": self._ip(rng, channel) if channel in IP_CHANNELS else None,
            "device_id": device,
            "source_id": source,
            "recorded_by_id": recorded_by,
        }
        row.update(zip(EVALUATOR_FIELDS, ident, strict=True))
        return row

    def _case(self, rng, item: _Item, apply: str, day_index: int, rated: bool):
        day = self.days[day_index]
        hall, window, staff_id, factor = self._place(rng, item, apply)
        ident = self._applicant(rng, item.target)
        channel = level = content = None
        if rated:
            mix = RATING_MIX[apply]
            channel = rng.choices([c for c, _ in mix], weights=[w for _, w in mix])[0]
            level = self._level(rng, item.dept, channel, factor, day_index)
            content = self._content(rng, level, channel, item.name, window.number if window else "")
        late = bool(content and any(code in LATE_REASONS for code in content[2])) or rng.random() < 0.005

        # Times, backwards from the finish: finished → accepted; the promised deadline from accepted.
        if apply in ("online", "mobile") and item.days == 0:
            finished = self._any_time(rng, day)
        else:
            finished = self._office_time(rng, day)
        promised = None
        if item.days == 0:
            accepted = finished - timedelta(seconds=rng.randint(180, 2400))
        else:
            k = (
                item.days + rng.randint(1, 8)
                if late
                else rng.randint(max(0, math.ceil(item.days * 0.2)), item.days)
            )
            accepted = self._office_time(rng, self._workdays_before(day, k))
            if accepted >= finished:
                accepted = finished - timedelta(seconds=rng.randint(1800, 4 * 3600))
            promised = end_of_day(self._workdays_after(accepted.date(), item.days))
        case = self._case_row(
            item, apply, hall, window, staff_id, ident, Case.Status.FINISHED, accepted, finished, promised
        )
        if not rated:
            return case, None
        device = ""
        if channel == Channel.TABLET:
            device = f"PJQ-{window.code}"
        elif channel == Channel.TERMINAL:
            device = rng.choice(hall.terminals)
        rating = self._rating_row(
            rng,
            case_id=case["id"],
            kind=Rating.Kind.FIRST,
            first_id=None,
            dept_id=item.dept.id,
            hall_id=case["hall_id"],
            window_id=case["window_id"],
            staff_id=staff_id,
            item_id=item.id,
            region_id=item.region_id,
            level=level,
            content=content,
            channel=channel,
            ident=ident,
            rated_at=self._rated_at(rng, channel, finished),
            device=device,
        )
        rating["_ident"] = ident
        return case, rating

    def _flush(self, cases, ratings):
        self.case_writer.write(cases)
        self._insert_first(ratings)

    def _insert_first(self, ratings):
        for r in ratings:
            level = Level(r["level"])
            self.level_counts[level] += 1
            self.first_ratings.append(
                (
                    r["id"],
                    r["case_id"],
                    r["rated_at"],
                    level,
                    r["channel"],
                    r["department_id"],
                    r["hall_id"],
                    r["window_id"],
                    r["staff_id"],
                    r["item_id"],
                    r["region_id"],
                    r.pop("_ident"),
                    r["reason_codes"],
                    indicator_set_code(r["channel"]),
                )
            )
        self.rating_writer.write(ratings)

    def _open_cases(self, rng, n_open: int):
        """Cases accepted in the last two weeks and not finished yet (never rated)."""
        self.n_open = 0
        promised_items = [i for i, item in enumerate(self.items) if item.days > 0]
        if not promised_items or n_open <= 0:
            return
        weights = [self.item_cum[i] - (self.item_cum[i - 1] if i else 0) for i in promised_items]
        recent = [d for d in self.days[-14:] if self.workcal.is_workday(d)] or self.days[-1:]
        cases = []
        for _ in range(n_open):
            item = self.items[rng.choices(promised_items, weights=weights)[0]]
            apply = rng.choice(("hall", "hall", "online", "mobile"))
            hall, window, staff_id, _f = self._place(rng, item, apply)
            ident = self._applicant(rng, item.target)
            accepted = self._office_time(rng, rng.choice(recent))
            promised = end_of_day(self._workdays_after(accepted.date(), item.days))
            status = Case.Status.PROCESSING if rng.random() < 0.7 else Case.Status.ACCEPTED
            cases.append(
                self._case_row(item, apply, hall, window, staff_id, ident, status, accepted, None, promised)
            )
        self.case_writer.write(cases)
        self.n_open = len(cases)

    def _visit_ratings(self, rng, n_visit: int):
        """一次一评: a rating of a window visit on the hall tablet, without a case."""
        windows = [(hall, w) for hall in self.halls for w in hall.windows]
        weights = [3.0 if hall is self.city_hall else 1.0 for hall, _ in windows]
        days = sorted(self._pick_day(rng, "office") for _ in range(n_visit))
        batch = []
        for day_index in days:
            hall, window = rng.choices(windows, weights=weights)[0]
            staff_id, staff_q = rng.choice(window.staff)
            dept = self.dept_by_id[window.dept_id]
            level = self._level(rng, dept, Channel.TABLET, window.q * staff_q, day_index)
            content = self._content(rng, level, Channel.TABLET, "", window.number)
            ident = self._applicant(rng, "p") if rng.random() < 0.55 else ("",) * 8
            rating = self._rating_row(
                rng,
                case_id=None,
                kind=Rating.Kind.FIRST,
                first_id=None,
                dept_id=window.dept_id,
                hall_id=hall.obj.pk,
                window_id=window.id,
                staff_id=staff_id,
                item_id=None,
                region_id=hall.region_id,
                level=level,
                content=content,
                channel=Channel.TABLET,
                ident=ident,
                rated_at=self._office_time(rng, self.days[day_index]),
                device=f"PJQ-{window.code}",
            )
            rating["source_id"] = self.client.pk
            rating["_ident"] = ident
            batch.append(rating)
            if len(batch) >= BATCH:
                self._insert_first(batch)
                batch = []
        self._insert_first(batch)
        self.n_visit = n_visit

    # ------------------------------------------------------------------ 追评 and replies
    def _follow_ups(self):
        rng = self.rng("follow-ups")
        latest = self.anchor - timedelta(days=2)
        weight = {Level.BASICALLY_SATISFIED: 4.0, Level.DISSATISFIED: 12.0, Level.VERY_DISSATISFIED: 12.0}
        keyed = []
        for index, rec in enumerate(self.first_ratings):
            u = rng.random()
            if rec[1] is None or rec[2] >= latest:
                continue
            keyed.append((u ** (1.0 / weight.get(rec[3], 1.0)), index))
        keyed.sort(reverse=True)
        chosen = sorted(index for _, index in keyed[: self.n_follow_target])
        batch = []
        for index in chosen:
            (
                pk,
                case_id,
                first_at,
                first_level,
                first_channel,
                dept,
                hall,
                window,
                staff,
                item,
                region,
                ident,
                *_,
            ) = self.first_ratings[index]
            room = (self.anchor - first_at).total_seconds() - 3600
            rated_at = first_at + timedelta(seconds=int(rng.uniform(86400, min(10 * 86400, room))))
            if first_channel in (Channel.PC, Channel.MOBILE, Channel.SMS):
                channel = Channel(first_channel)
            else:
                channel = rng.choice((Channel.MOBILE, Channel.MOBILE, Channel.SMS, Channel.QRCODE))
            comment_pool = texts.FOLLOW_UP_GOOD
            if first_level in BAD_LEVELS:
                if rng.random() < 0.7:
                    level = rng.choice((Level.SATISFIED, Level.SATISFIED, Level.VERY_SATISFIED))
                    comment_pool = texts.FOLLOW_UP_RESOLVED
                else:
                    level = first_level
                    comment_pool = texts.FOLLOW_UP_UNRESOLVED
            elif first_level == Level.BASICALLY_SATISFIED:
                level = rng.choice((Level.BASICALLY_SATISFIED, Level.SATISFIED, Level.VERY_SATISFIED))
                if level != Level.BASICALLY_SATISFIED:
                    comment_pool = texts.FOLLOW_UP_RESOLVED
            else:
                level = Level.VERY_SATISFIED if rng.random() < 0.85 else Level.SATISFIED
            iset, levels, reasons, _comment = self._content(rng, level, channel, "", "")
            if level in BAD_LEVELS and not reasons:
                reasons = [iset.reasons[level][0]]
            comment = rng.choice(comment_pool) if (rng.random() < 0.85 or level in BAD_LEVELS) else ""
            batch.append(
                self._rating_row(
                    rng,
                    case_id=case_id,
                    kind=Rating.Kind.FOLLOW_UP,
                    first_id=pk,
                    dept_id=dept,
                    hall_id=hall,
                    window_id=window,
                    staff_id=staff,
                    item_id=item,
                    region_id=region,
                    level=level,
                    content=(iset, levels, reasons, comment),
                    channel=channel,
                    ident=ident,
                    rated_at=rated_at,
                )
            )
            self.level_counts[level] += 1
        self.rating_writer.write(batch)
        self.n_follow = len(batch)

    def _replies(self):
        rng = self.rng("replies")
        writer = _RowWriter(RatingReply)
        replies = []
        handler = self.users["handler"]
        scjg_id = self.depts["city", "scjg"].id
        for rec in self.first_ratings:
            pk, _case, rated_at, level, _channel, dept, hall, *_rest = rec
            reasons, set_code = rec[12], rec[13]
            r = rng.random()
            if level in BAD_LEVELS:
                if r >= 0.9:
                    continue
                issue = (
                    self.sets[set_code].reason_text.get(reasons[0], "服务体验不佳")
                    if reasons
                    else "服务体验不佳"
                )
                text = rng.choice(texts.REPLY_BAD)
                delay = rng.uniform(2 * 3600, 2 * 86400)
            elif level == Level.BASICALLY_SATISFIED:
                if r >= 0.15:
                    continue
                issue, text, delay = "", rng.choice(texts.REPLY_BASIC), rng.uniform(3600, 5 * 86400)
            else:
                if r >= 0.004:
                    continue
                issue, text, delay = "", rng.choice(texts.REPLY_GOOD), rng.uniform(3600, 5 * 86400)
            department_id = dept or hall
            name = self.dept_by_id[department_id].name if department_id in self.dept_by_id else ""
            created = rated_at + timedelta(seconds=int(delay))
            if created >= self.anchor:
                created = (rated_at + (self.anchor - rated_at) * rng.uniform(0.1, 0.9)).replace(microsecond=0)
            replies.append(
                {
                    "id": writer.new_id(),
                    "rating_id": pk,
                    "department_id": department_id,
                    "text": text.format(dept=name, issue=issue),
                    "author_id": handler.pk if department_id == scjg_id else None,
                    "author_label": handler.get_username() if department_id == scjg_id else name,
                    "created_at": created,
                }
            )
        writer.write(replies)
        self.n_replies = len(replies)

    def _reset_sequences(self):
        """Rows were written with explicit ids: move the id sequences past them (PostgreSQL; a no-op on SQLite)."""
        statements = connection.ops.sequence_reset_sql(no_style(), [Case, Rating, RatingReply])
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)

    # ------------------------------------------------------------------ summary
    @property
    def region_codes(self):
        if not hasattr(self, "_region_codes"):
            self._region_codes = dict(Region.objects.values_list("pk", "code"))
        return self._region_codes

    @property
    def dept_by_id(self):
        if not hasattr(self, "_dept_by_id"):
            self._dept_by_id = {d.id: d for d in self.depts.values()}
        return self._dept_by_id

    def _count(self):
        c = self.result.counts
        c["regions"] = Region.objects.count()
        c["streets"] = self.n_streets
        c["departments"] = Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT).count()
        c["halls"] = Organisation.objects.filter(kind__in=Organisation.HALL_KINDS).count()
        c["windows"] = Window.objects.count()
        c["staff"] = Staff.objects.count()
        c["items"] = ServiceItem.objects.count()
        c["cases"] = Case.objects.count()
        c["cases_open"] = self.n_open
        c["cases_unrated"] = Case.objects.filter(status=Case.Status.FINISHED, ratings__isnull=True).count()
        c["ratings"] = Rating.objects.count()
        c["follow_ups"] = self.n_follow
        c["visit_ratings"] = self.n_visit
        c["bad"] = Rating.objects.filter(is_bad=True).count()
        c["replies"] = self.n_replies
        c["users"] = User.objects.count()
        self.result.levels = {level: self.level_counts[level] for level in ORDERED}
        rows = Rating.objects.values("channel").annotate(n=Count("id")).values_list("channel", "n")
        self.result.channels = dict(sorted(rows))


def good_share(levels: dict) -> float:
    total = sum(levels.values()) or 1
    return sum(n for level, n in levels.items() if level in GOOD_LEVELS) / total


def bad_share(levels: dict) -> float:
    total = sum(levels.values()) or 1
    return sum(n for level, n in levels.items() if level in BAD_LEVELS) / total


def fingerprint() -> str:
    """A digest of the demo data by natural keys, leaving out ciphertexts and password hashes (salted)."""
    digest = hashlib.sha256()

    def feed(rows):
        for row in rows:
            digest.update(repr(row).encode())
            digest.update(b"\n")

    feed(Region.objects.order_by("code").values_list("code", "name", "level", "path"))
    feed(
        Organisation.objects.order_by("kind", "name", "region__code").values_list(
            "name", "short_name", "kind", "credit_code", "region__code", "parent__name", "address", "phone"
        )
    )
    feed(
        Window.objects.order_by("code").values_list(
            "code", "number", "name", "hall__name", "department__name"
        )
    )
    feed(
        Staff.objects.order_by("staff_no", "windows__code").values_list(
            "staff_no", "name", "title", "department__name", "windows__code", "user__username"
        )
    )
    feed(
        ServiceItem.objects.order_by("code").values_list(
            "code", "name", "item_type", "department__name", "region__code", "handling_kind", "promised_days",
            "legal_days",
        )
    )  # fmt: skip
    feed(
        Case.objects.order_by("case_no").values_list(
            "case_no", "item__code", "department__name", "region__code", "hall__name", "window__code",
            "staff__staff_no", "applicant_type", "applicant_name", "applicant_id_hash", "applicant_id_masked",
            "applicant_phone_hash", "applicant_phone_masked", "apply_channel", "status", "accepted_at",
            "finished_at", "promised_at", "created_at", "updated_at",
        )
    )  # fmt: skip
    feed(
        Rating.objects.order_by("public_id").values_list(
            "public_id", "case__case_no", "kind", "first_rating__public_id", "department__name", "hall__name",
            "window__code", "staff__staff_no", "item__code", "region__code", "level", "is_bad",
            "indicator_levels", "reason_codes", "comment", "indicator_set__code", "channel", "evaluator_type",
            "evaluator_name", "evaluator_id_hash", "evaluator_id_masked", "evaluator_phone_hash",
            "evaluator_phone_masked", "rated_at", "received_at", "client_ip", "device_id", "source__name",
            "recorded_by__username", "is_valid",
        )
    )  # fmt: skip
    feed(
        RatingReply.objects.order_by("rating__public_id").values_list(
            "rating__public_id", "department__name", "text", "author__username", "author_label", "created_at"
        )
    )
    feed(
        User.objects.order_by("username").values_list("username", "display_name", "is_staff", "is_superuser")
    )
    feed(
        RoleAssignment.objects.order_by("user__username", "role").values_list(
            "user__username", "role", "region__code", "organisation__name"
        )
    )
    feed(ApiClient.objects.order_by("name").values_list("name", "key_prefix", "key_hash", "scopes"))
    return digest.hexdigest()
