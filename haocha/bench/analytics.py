"""`haocha bench analytics`: a year of ratings loaded in bulk, the rollups built, then dashboard and ranking
requests over HTTP to the real server, each beside the same answer from a direct SQL aggregation."""

import http.client
import json
import random
import statistics
import time
import uuid
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.db import connection, transaction
from django.utils import timezone

from haocha.accounts.models import ApiClient
from haocha.bench.setup import insert_sql
from haocha.catalogue.models import ServiceItem
from haocha.demo.tables import DISTRICTS
from haocha.evaluations.models import IndicatorSet, Rating
from haocha.organisations.codes import credit_code_check_char
from haocha.organisations.models import Organisation, Region, Staff, Window
from haocha.organisations.services import organisation_save, region_save

LEVELS = [
    ("very_satisfied", 0.80),
    ("satisfied", 0.17),
    ("basically_satisfied", 0.022),
    ("dissatisfied", 0.005),
    ("very_dissatisfied", 0.003),
]
CHANNELS = [
    ("pc", 0.25),
    ("mobile", 0.30),
    ("qrcode", 0.12),
    ("tablet", 0.2),
    ("terminal", 0.04),
    ("sms", 0.06),
    ("hotline_12345", 0.03),
]
BATCH = 50_000


def _credit(seq: int) -> str:
    first17 = f"11430100MB{seq:07d}"
    return first17 + credit_code_check_char(first17)


def build_units(departments: int = 40, windows_per_hall: int = 20, staff_per_window: int = 2) -> dict:
    """City, nine districts, departments, a hall per district plus the city hall, windows, staff, items."""
    with transaction.atomic():
        province = region_save(Region(code="430000", name="湖南省", level=Region.Level.PROVINCE))
        city = region_save(Region(code="430100", name="长沙市", level=Region.Level.CITY, parent=province))
        districts = [
            region_save(Region(code=c, name=n, level=Region.Level.COUNTY, parent=city)) for c, n in DISTRICTS
        ]
        depts = [
            organisation_save(
                Organisation(
                    name=f"压测部门{i:02d}",
                    kind=Organisation.Kind.DEPARTMENT,
                    region=city if i < 20 else districts[i % 9],
                    credit_code=_credit(i),
                )
            )
            for i in range(departments)
        ]
        halls = [
            organisation_save(
                Organisation(name=f"{r.name}政务服务大厅", kind=Organisation.Kind.HALL, region=r)
            )
            for r in [city, *districts]
        ]
        windows, staff = [], []
        for h_i, hall in enumerate(halls):
            for w in range(windows_per_hall):
                dept = depts[(h_i * windows_per_hall + w) % len(depts)]
                window = Window.objects.create(
                    hall=hall,
                    code=f"{hall.region.code}-W{w:03d}",
                    number=f"{w:03d}",
                    name=f"窗口{w}",
                    department=dept,
                )
                windows.append(window)
                for s in range(staff_per_window):
                    person = Staff.objects.create(
                        staff_no=f"B{h_i:02d}{w:03d}{s}", name=f"工作人员{h_i}-{w}-{s}", department=dept
                    )
                    person.windows.add(window)
                    staff.append((window.pk, person.pk))
        items = {}
        for i, dept in enumerate(depts):
            for k in range(8):
                item = ServiceItem.objects.create(
                    code=f"BENCH-{i:02d}-{k}",
                    name=f"压测事项{i}-{k}",
                    item_type="01",
                    department=dept,
                    region=dept.region,
                    handling_kind=ServiceItem.HandlingKind.IMMEDIATE,
                )
                items.setdefault(dept.pk, []).append(item.pk)
        client = ApiClient(name="统计压测", scopes=[s.value for s in ApiClient.Scope])
        key = client.set_new_key()
        client.save()
        client.regions.set([province])
    staff_by_window: dict = {}
    for window_pk, staff_pk in staff:
        staff_by_window.setdefault(window_pk, []).append(staff_pk)
    return {
        "key": key,
        "city": city.pk,
        "windows": [(w.pk, w.hall_id, w.department_id, w.hall.region_id) for w in windows],
        "staff": staff_by_window,
        "items": items,
    }


def load_ratings(units: dict, count: int, *, end: date, seed: int = 2026) -> float:
    """`count` first ratings spread over the 365 days before `end`, in batches of 50,000 (COPY on
    PostgreSQL); returns the seconds taken. The triggers queue each one for the rollups as they land."""
    rng = random.Random(seed)
    fields = [f for f in Rating._meta.concrete_fields if not f.primary_key]
    names = [f.attname for f in fields]
    online = IndicatorSet.objects.get(code="online", is_active=True).pk
    offline = IndicatorSet.objects.get(code="offline", is_active=True).pk
    start = timezone.make_aware(datetime.combine(end - timedelta(days=365), datetime.min.time()))
    seconds_in_year = 365 * 86400
    levels = [lv for lv, _ in LEVELS]
    level_cum = _cum(LEVELS)
    channels = [c for c, _ in CHANNELS]
    channel_cum = _cum(CHANNELS)
    windows = units["windows"]
    fixed = {
        "case_id": None,
        "kind": 1,
        "first_rating_id": None,
        "reason_codes": "[]",
        "evaluator_type": "",
        "evaluator_name": "",
        "evaluator_id_hash": "",
        "evaluator_id_masked": "",
        "evaluator_id_enc": "",
        "evaluator_phone_hash": "",
        "evaluator_phone_masked": "",
        "evaluator_phone_enc": "",
        "client_ip": None,
        "device_id": "",
        "hotline_order_no": "",
        "source_id": None,
        "recorded_by_id": None,
        "idempotency_scope": "",
        "idempotency_key": "",
        "is_default": False,
        "is_valid": True,
        "invalid_reason": "",
        "is_hidden": False,
    }
    adapt = connection.ops.adapt_datetimefield_value
    pg = connection.vendor == "postgresql"
    began = time.perf_counter()
    for offset in range(0, count, BATCH):
        rows = []
        for _ in range(min(BATCH, count - offset)):
            window_pk, hall_pk, dept_pk, region_pk = windows[rng.randrange(len(windows))]
            level = rng.choices(levels, cum_weights=level_cum)[0]
            channel = rng.choices(channels, cum_weights=channel_cum)[0]
            bad = level in ("dissatisfied", "very_dissatisfied")
            rated = start + timedelta(seconds=rng.randrange(seconds_in_year))
            values = {
                **fixed,
                "public_id": uuid.UUID(int=rng.getrandbits(128), version=4) if pg else uuid.uuid4().hex,
                "department_id": dept_pk,
                "hall_id": hall_pk,
                "window_id": window_pk,
                "staff_id": rng.choice(units["staff"][window_pk]),
                "item_id": rng.choice(units["items"][dept_pk]),
                "region_id": region_pk,
                "level": level,
                "is_bad": bad,
                "indicator_levels": '{"overall": "%s"}' % level,  # noqa: UP031
                "comment": "办理时间太长，窗口让我来回跑" if bad else "",
                "indicator_set_id": online if channel in ("pc", "mobile") else offline,
                "channel": channel,
                "rated_at": rated if pg else adapt(rated),
                "received_at": rated if pg else adapt(rated),
            }
            rows.append(tuple(values[n] for n in names))
        with transaction.atomic(), connection.cursor() as cursor:
            if pg:
                cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
                with cursor.cursor.copy(f"COPY evaluations_rating ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(insert_sql(Rating, names), rows)
    return time.perf_counter() - began


def _cum(pairs) -> list[float]:
    out, total = [], 0.0
    for _, w in pairs:
        total += w
        out.append(total)
    return out


# --- the requests and their direct-SQL twins -----------------------------------------------------


def _bounds(start: date, end: date) -> list:
    """UTC instants of local start-of-day `start` and the day after `end`, as the raw table stores them."""
    lo = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    hi = timezone.make_aware(datetime.combine(end + timedelta(days=1), datetime.min.time()))
    adapt = connection.ops.adapt_datetimefield_value
    return [adapt(lo), adapt(hi)]


BAD = "CASE WHEN r.level IN ('dissatisfied', 'very_dissatisfied') THEN 1 ELSE 0 END"


def _sql(query: str, params: list) -> list:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def requests_for(units: dict, end: date) -> list[dict]:
    """The dashboard and ranking requests measured: path, params, and the direct SQL that answers them."""
    year_start = end - timedelta(days=364)
    month_start = end.replace(day=1)
    prev_month_end = month_start - timedelta(days=1)
    prev_month = prev_month_end.replace(day=1)
    months_back = end.year * 12 + end.month - 1 - 11
    trend_start = date(months_back // 12, months_back % 12 + 1, 1)  # twelve whole months
    window = units["windows"][0][0]
    dept = units["windows"][0][2]
    where = "r.kind = 1 AND r.is_valid AND r.rated_at >= %s AND r.rated_at < %s"
    return [
        {
            "name": "city_year_figures",
            "path": "/api/stats/figures",
            "params": {"dim": "region", "member": units["city"], "start": year_start, "end": end},
            "sql": (
                f"SELECT COUNT(*), SUM({BAD}) FROM evaluations_rating r WHERE {where}",
                _bounds(year_start, end),
            ),
            "check": lambda body, rows: (body["figures"]["n"], body["figures"]["bad"]) == tuple(rows[0]),
        },
        {
            "name": "department_month_figures",
            "path": "/api/stats/figures",
            "params": {"dim": "department", "member": dept, "start": prev_month, "end": prev_month_end},
            "sql": (
                f"SELECT COUNT(*), SUM({BAD}) FROM evaluations_rating r WHERE {where} AND r.department_id = %s",
                [*_bounds(prev_month, prev_month_end), dept],
            ),
            "check": lambda body, rows: (body["figures"]["n"], body["figures"]["bad"]) == tuple(rows[0]),
        },
        {
            "name": "departments_year_breakdown",
            "path": "/api/stats/breakdown",
            "params": {"dim": "department", "start": year_start, "end": end},
            "sql": (
                f"SELECT r.department_id, COUNT(*) FROM evaluations_rating r WHERE {where} GROUP BY r.department_id",
                _bounds(year_start, end),
            ),
            "check": lambda body, rows: {i["member"]: i["figures"]["n"] for i in body["items"]} == dict(rows),
        },
        {
            "name": "windows_month_breakdown",
            "path": "/api/stats/breakdown",
            "params": {"dim": "window", "start": prev_month, "end": prev_month_end},
            "sql": (
                f"SELECT r.window_id, COUNT(*) FROM evaluations_rating r WHERE {where} GROUP BY r.window_id",
                _bounds(prev_month, prev_month_end),
            ),
            "check": lambda body, rows: {i["member"]: i["figures"]["n"] for i in body["items"]} == dict(rows),
        },
        {
            "name": "staff_month_breakdown",
            "path": "/api/stats/breakdown",
            "params": {"dim": "staff", "start": prev_month, "end": prev_month_end},
            "sql": (
                f"SELECT r.staff_id, COUNT(*) FROM evaluations_rating r WHERE {where} GROUP BY r.staff_id",
                _bounds(prev_month, prev_month_end),
            ),
            "check": lambda body, rows: {i["member"]: i["figures"]["n"] for i in body["items"]} == dict(rows),
        },
        {
            "name": "city_year_trend",
            "path": "/api/stats/trend",
            "params": {
                "dim": "region",
                "member": units["city"],
                "start": trend_start,
                "end": end,
                "grain": "month",
            },
            "sql": (f"SELECT COUNT(*) FROM evaluations_rating r WHERE {where}", _bounds(trend_start, end)),
            "check": lambda body, rows: sum(p["n"] for p in body["points"]) == rows[0][0],
        },
        {
            "name": "window_30_days_trend",
            "path": "/api/stats/trend",
            "params": {
                "dim": "window",
                "member": window,
                "start": end - timedelta(days=29),
                "end": end,
                "grain": "day",
            },
            "sql": (
                f"SELECT COUNT(*) FROM evaluations_rating r WHERE {where} AND r.window_id = %s",
                [*_bounds(end - timedelta(days=29), end), window],
            ),
            "check": lambda body, rows: sum(p["n"] for p in body["points"]) == rows[0][0],
        },
        {
            "name": "windows_month_ranking",
            "path": "/api/stats/rankings",
            "params": {"dim": "window", "year": prev_month.year, "month": prev_month.month},
            "sql": (
                f"SELECT r.window_id, COUNT(*) FROM evaluations_rating r WHERE {where} GROUP BY r.window_id",
                _bounds(prev_month, prev_month_end),
            ),
            "check": lambda body, rows: (
                {i["member"]: i["n"] for i in body["ranked"] + body["insufficient"]} == dict(rows)
            ),
        },
        {
            "name": "departments_year_ranking",
            "path": "/api/stats/rankings",
            "params": {"dim": "department", "year": prev_month.year},
            "sql": (
                f"SELECT r.department_id, COUNT(*) FROM evaluations_rating r WHERE {where} GROUP BY r.department_id",
                _bounds(date(prev_month.year, 1, 1), date(prev_month.year, 12, 31)),
            ),
            "check": lambda body, rows: (
                {i["member"]: i["n"] for i in body["ranked"] + body["insufficient"]} == dict(rows)
            ),
        },
    ]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _get(base_url: str, conn_box: list, path: str, key: str) -> tuple[float, int, bytes]:
    """One GET on a kept-alive connection, reconnecting once if the server closed it while idle
    (the direct SQL twins can take seconds on 10 million rows)."""
    host, port = base_url.replace("http://", "").split(":")
    for attempt in (1, 2):
        if conn_box[0] is None:
            conn_box[0] = http.client.HTTPConnection(host, int(port), timeout=120)
        try:
            t0 = time.perf_counter()
            conn_box[0].request("GET", path, headers={"X-Api-Key": key})
            resp = conn_box[0].getresponse()
            raw = resp.read()
            return (time.perf_counter() - t0) * 1000, resp.status, raw
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn_box[0].close()
            conn_box[0] = None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def measure(base_url: str, key: str, units: dict, end: date, repeats: int) -> dict:
    conn_box: list = [None]
    out = {}
    for req in requests_for(units, end):
        path = req["path"] + "?" + urlencode({k: str(v) for k, v in req["params"].items()})
        times, body = [], None
        for i in range(repeats + 1):
            elapsed, status, raw = _get(base_url, conn_box, path, key)
            if status != 200:
                raise RuntimeError(f"{path} → {status}: {raw[:300]!r}")
            if i:  # the first request warms the worker
                times.append(elapsed)
            body = json.loads(raw)
        sql, params = req["sql"]
        sql_times, rows = [], None
        for _ in range(3):
            t0 = time.perf_counter()
            rows = _sql(sql, params)
            sql_times.append((time.perf_counter() - t0) * 1000)
        out[req["name"]] = {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(_pct(times, 0.95), 2),
            "direct_sql_ms": round(statistics.median(sql_times), 1),
            "agrees": bool(req["check"](body, rows)),
        }
    if conn_box[0] is not None:
        conn_box[0].close()
    return out
