"""Every figure the statistics API and pages show equals an independent count of the fixture's rows.

The fixture has first ratings, 追评 (one a 差评), a system default rating, invalid (flagged) ratings, one
flagged and restored, window-visit ratings (一次一评, no case), a case finished days before it was rated,
a finished case never rated, and work orders in every state. The expected figures come from
`tests/stats_expected.py` (Python over the raw rows), never from the rollups or their SQL.
"""

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.template.defaultfilters import floatformat
from django.test import Client
from django.utils import timezone

from haocha.analytics.models import ScorePolicy
from haocha.analytics.templatetags.stats import pct
from haocha.evaluations.defaults import default_ratings_sweep
from haocha.evaluations.models import Rating, RatingPolicy
from haocha.publication.selectors import fmt
from haocha.workorders.models import WorkOrder
from tests.factories import finished_case
from tests.stats_expected import (
    LEVELS,
    expected_counts,
    expected_figures,
    ratio,
    rounded,
    smoothed,
)

WEIGHTS = (10, 8, 6, 3, 0)  # the city's policy (Shanwei's weights): the default 100/80/60/40/20 would hide a
# figure that ignores the policy
PRIOR_WEIGHT = 5


class World:
    """The cast, its API clients and the fixture's ratings by name."""


def _apply():
    call_command("rollups", "apply", stdout=StringIO())


@pytest.fixture
def world(cast, api_for):
    w = World()
    w.cast = cast
    w.system = api_for(key=cast.key_city)
    w.supervisor = api_for(user=cast.supervisor)
    ScorePolicy.objects.create(
        region=cast.city,
        weight_vs=WEIGHTS[0],
        weight_s=WEIGHTS[1],
        weight_b=WEIGHTS[2],
        weight_d=WEIGHTS[3],
        weight_vd=WEIGHTS[4],
        min_sample=3,
        prior_weight=PRIOR_WEIGHT,
    )
    w.ratings = {}

    def rate(name, level, *, item, window=None, channel="pc", comment="", finished_ago=timedelta(hours=2)):
        finished_case(cast, name, seq=len(w.ratings), item=item, window=window, finished_ago=finished_ago)
        body = {"case_no": name, "channel": channel, "level": level}
        if level in LEVELS[3:] or comment:
            body["comment"] = comment or "材料要求前后不一致，跑了三次"
        if window == cast.window_a:
            body["staff_no"] = cast.staff_a.staff_no
        r = w.system.post("/ratings", body)
        assert r.status_code == 201, r.content
        w.ratings[name] = r.json()["id"]

    def follow_up(name, level):
        body = {"case_no": name, "channel": "pc", "level": level}
        if level in LEVELS[3:]:
            body["comment"] = "问题还是没有解决"
        r = w.system.post("/ratings/follow-up", body)
        assert r.status_code == 201, r.content
        w.ratings[name + "/追评"] = r.json()["id"]

    def visit(name, level, window, channel="tablet"):
        body = {"window_code": window.code, "channel": channel, "level": level}
        if level in LEVELS[3:]:
            body["comment"] = "窗口人员态度差"
        r = w.system.post("/ratings", body)
        assert r.status_code == 201, r.content
        w.ratings[name] = r.json()["id"]

    w.flag = lambda name, kind: _flag(w, name, kind)
    a, b = cast.item_a, cast.item_b
    # department A: first ratings at window A01 (tablet) and online, a 差评 each way
    for i, level in enumerate(["very_satisfied", "satisfied", "basically_satisfied", "very_satisfied"]):
        rate(
            f"FA-{i}",
            level,
            item=a,
            window=cast.window_a if i % 2 else None,
            channel="tablet" if i % 2 else "pc",
        )
    rate("FA-BAD", "dissatisfied", item=a, window=cast.window_a, channel="tablet")
    rate("FA-LATE", "very_dissatisfied", item=a)  # its work order stays open past its deadline
    rate("FA-MERGED", "dissatisfied", item=a)  # its work order is merged into FA-LATE's
    rate("FA-INVALID", "very_dissatisfied", item=a)  # flagged invalid: in no figure
    rate("FA-OLD", "satisfied", item=a, finished_ago=timedelta(days=5))  # finished 5 days before rating
    follow_up("FA-0", "dissatisfied")  # a 追评 差评: not a 差评 of the first ratings
    follow_up("FA-1", "satisfied")
    visit("FA-VISIT-1", "satisfied", cast.window_a)  # 一次一评: a rating without a case
    visit("FA-VISIT-2", "very_satisfied", cast.window_a, channel="qrcode")
    finished_case(cast, "FA-UNRATED", seq=80, item=a)
    finished_case(cast, "FA-DEFAULT", seq=81, item=a, finished_ago=timedelta(days=8))
    RatingPolicy.objects.create(
        region=cast.city,
        default_rating_enabled=True,
        default_rating_days=7,
        default_rating_level="basically_satisfied",
    )
    assert default_ratings_sweep()["created"] == 1  # FA-DEFAULT, a day ago
    # department B
    rate("FB-0", "very_satisfied", item=b, window=cast.window_b, channel="tablet")
    rate("FB-1", "basically_satisfied", item=b)
    rate("FB-BAD", "very_dissatisfied", item=b, window=cast.window_b, channel="tablet")
    rate("FB-RESTORED", "satisfied", item=b)  # flagged invalid, then restored: counted
    follow_up("FB-0", "very_dissatisfied")
    visit("FB-VISIT", "dissatisfied", cast.window_b)
    w.flag("FA-INVALID", "invalid")
    w.flag("FB-RESTORED", "invalid")
    w.flag("FB-RESTORED", "restore")
    _orders(w)
    _apply()
    return w


def _flag(w, name, kind):
    reason = "申诉成立：恶意差评" if kind == "invalid" else "复核后恢复有效"
    r = w.supervisor.post(f"/ratings/{w.ratings[name]}/flags", {"kind": kind, "reason": reason})
    assert r.status_code == 201, r.content


def _orders(w):
    """Work orders in every state the figures tell apart (set directly: this file tests the figures, not
    the work-order flow)."""
    now = timezone.now()

    def order(name):
        return WorkOrder.objects.filter(rating__public_id=w.ratings[name])

    # every 差评 has one: first ratings with or without a case, and the two 追评 差评 (left pending)
    assert WorkOrder.objects.count() == 8
    order("FA-BAD").update(
        status="closed",
        closed_at=now,
        contact_minutes=45,
        finish_minutes=600,
        finish_over_minutes=0,
        callback_satisfaction="satisfied",
    )
    order("FB-BAD").update(
        status="closed",
        closed_at=now,
        contact_minutes=200,
        finish_minutes=9000,
        finish_over_minutes=90,
        callback_satisfaction="dissatisfied",
        reopen_count=1,
    )
    order("FA-LATE").update(status="handling", due_at=now - timedelta(hours=1), contact_minutes=1500)
    order("FA-MERGED").update(status="merged", merged_into=order("FA-LATE").get())
    order("FA-INVALID").update(status="invalid", closed_at=now)
    order("FB-VISIT").update(status="handling", due_at=now + timedelta(days=3))


def units(cast) -> list[tuple[str, object]]:
    return [
        ("region", cast.city),
        ("department", cast.dept_a),
        ("department", cast.dept_b),
        ("hall", cast.hall),
        ("window", cast.window_a),
        ("window", cast.window_b),
        ("staff", cast.staff_a),
        ("item", cast.item_a),
        ("item", cast.item_b),
    ]


def periods():
    today = timezone.localdate()
    return [
        (today - timedelta(days=10), today),
        (today - timedelta(days=1), today),  # FA-OLD was rated in it, its case finished before it
        (today, today),
    ]


def _api_figures(w, dim, unit, start, end, channel=""):
    params = {"dim": dim, "member": unit.pk, "start": start.isoformat(), "end": end.isoformat()}
    if channel:
        params["channel"] = channel
    r = w.supervisor.get("/stats/figures", **params)
    assert r.status_code == 200, r.content
    return r.json()["figures"]


def _same(got: dict, want: dict, label: str) -> None:
    want = rounded(want)
    missing = set(want) - set(got)
    assert not missing, f"{label}: the API does not send {sorted(missing)}"
    diff = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
    assert not diff, f"{label}: (API, independent count) differ: {diff}"


def _check_api(w):
    for dim, unit in units(w.cast):
        for start, end in periods():
            for channel in ("", "tablet", "pc"):
                got = _api_figures(w, dim, unit, start, end, channel)
                want = expected_figures(dim, unit, start, end, channel=channel, weights=WEIGHTS)
                _same(got, want, f"{dim} {unit} {start}–{end} {channel or '全部渠道'}")


def test_the_fixture_has_every_kind_of_rating(world):
    """The comparisons below mean something only if the raw rows hold what the fixture says."""
    cast = world.cast
    start, end = periods()[0]
    mine = Rating.objects.filter(department=cast.dept_a)
    assert mine.filter(kind=2).count() == 2 and mine.filter(kind=2, is_bad=True).count() == 1
    assert mine.filter(is_default=True).count() == 1
    assert mine.filter(is_valid=False).count() == 1
    assert mine.filter(case__isnull=True).count() == 2
    assert Rating.objects.get(public_id=world.ratings["FB-RESTORED"]).is_valid
    a = expected_counts("department", cast.dept_a, start, end)
    # 4 + 3 差评 + FA-OLD + 2 visits + the default; FA-INVALID and the two 追评 are not among them
    assert a["n"] == 11 and a["n_default"] == 1 and a["n_follow"] == 2
    assert a["n_finished"] == 11 and a["n_rated"] == 9  # FA-UNRATED unrated, FA-INVALID's rating invalid
    assert len(a["orders"]) == 5


def test_figures_equal_independent_counts_for_every_unit_period_and_channel(world):
    _check_api(world)


def test_a_rating_made_invalid_after_being_counted_leaves_every_figure_and_comes_back(world):
    before = _api_figures(world, "department", world.cast.dept_a, *periods()[0])
    world.flag("FA-2", "invalid")
    _apply()
    _check_api(world)
    after = _api_figures(world, "department", world.cast.dept_a, *periods()[0])
    assert after["n"] == before["n"] - 1 and after["levels"][2] == before["levels"][2] - 1
    world.flag("FA-2", "restore")
    _apply()
    _check_api(world)
    assert _api_figures(world, "department", world.cast.dept_a, *periods()[0]) == before


def test_a_rebuild_from_the_raw_tables_gives_the_same_figures(world):
    call_command("rollups", "rebuild", stdout=StringIO())
    _check_api(world)


def test_breakdowns_equal_independent_counts(world):
    cast = world.cast
    start, end = periods()[0]
    members = {
        "department": [cast.dept_a, cast.dept_b, cast.dept_yuelu],
        "hall": [cast.hall],
        "window": [cast.window_a, cast.window_b],
        "staff": [cast.staff_a],
        "item": [cast.item_a, cast.item_b, cast.item_yuelu],
        "region": [cast.city, cast.furong, cast.yuelu],
    }
    for dim, unit_list in members.items():
        for channel in ("", "tablet"):
            params = {"dim": dim, "start": start.isoformat(), "end": end.isoformat()}
            if channel:
                params["channel"] = channel
            r = world.supervisor.get("/stats/breakdown", **params)
            assert r.status_code == 200, r.content
            got = {item["member"]: item["figures"] for item in r.json()["items"]}
            for unit in unit_list:
                want = expected_figures(dim, unit, start, end, channel=channel, weights=WEIGHTS)
                if unit.pk not in got:
                    assert want["n"] == want["n_follow"] == want["n_finished"] == want["n_orders"] == 0, unit
                    continue
                _same(got[unit.pk], want, f"breakdown {dim} {unit} {channel}")
            counted = [i["member"] for i in r.json()["items"] if i["figures"]["n"]]
            ns = [got[m]["n"] for m in counted]
            assert ns == sorted(ns, reverse=True)


def test_trends_equal_independent_counts_per_day_and_month(world):
    cast = world.cast
    today = timezone.localdate()
    start = today - timedelta(days=12)
    for dim, unit in units(cast):
        for grain in ("day", "month"):
            r = world.supervisor.get(
                "/stats/trend",
                dim=dim,
                member=unit.pk,
                start=start.isoformat(),
                end=today.isoformat(),
                grain=grain,
            )
            assert r.status_code == 200, r.content
            points = {p["period"]: p for p in r.json()["points"]}
            days = [start + timedelta(days=i) for i in range(13)]
            if grain == "month":
                firsts = sorted({d.replace(day=1) for d in days})
                spans = [
                    (m, (m.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1))
                    for m in firsts
                ]
            else:
                spans = [(d, d) for d in days]
            for lo, hi in spans:
                want = expected_counts(dim, unit, lo, hi)
                got = points.get(lo.isoformat(), {"n": 0, "bad": 0, "levels": [0] * 5})
                assert (got["n"], got["bad"], got["levels"]) == (
                    want["n"],
                    want["levels"][3] + want["levels"][4],
                    want["levels"],
                ), f"trend {dim} {unit} {grain} {lo}"


def test_rankings_equal_independent_counts_and_the_smoothing_rule(world):
    cast = world.cast
    today = timezone.localdate()
    start = today.replace(day=1)
    end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    members = {
        "department": [cast.dept_a, cast.dept_b],
        "window": [cast.window_a, cast.window_b],
        "item": [cast.item_a, cast.item_b],
        "hall": [cast.hall],
        "staff": [cast.staff_a],
    }
    for dim, unit_list in members.items():
        r = world.supervisor.get("/stats/rankings", dim=dim, year=today.year, month=today.month)
        assert r.status_code == 200, r.content
        body = r.json()
        rows = {row["member"]: row for row in body["ranked"] + body["insufficient"]}
        want = {u.pk: expected_figures(dim, u, start, end, weights=WEIGHTS) for u in unit_list}
        want = {pk: f for pk, f in want.items() if f["n"]}
        assert set(rows) == set(want), dim
        ranked = {pk: f for pk, f in want.items() if f["n"] >= 3}
        assert {row["member"] for row in body["ranked"]} == set(ranked)
        mean = sum(f["score"] for f in ranked.values()) / len(ranked) if ranked else None
        assert body["prior_mean"] == (None if mean is None else round(mean, 6))
        for pk, f in want.items():
            row = rows[pk]
            for key in ("n", "bad", "score", "bad_rate", "good_rate", "rating_rate"):
                assert row[key] == rounded(f)[key], (dim, pk, key)
            for key in ("rectify_rate", "on_time_rate", "callback_rate"):
                assert row[key] == rounded(f)[key], (dim, pk, key)
            if pk in ranked:
                assert row["smoothed"] == round(smoothed(f["n"], f["score"], mean, PRIOR_WEIGHT), 6)
            else:
                assert row["smoothed"] is None and row["rank"] is None
        order = [row["smoothed"] for row in body["ranked"]]
        assert order == sorted(order, reverse=True)


# --- pages ---------------------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Cells of every table (by id or data-table), the cards (<b>value</b><span>label</span>) and the
    facts (<dt>label</dt><dd>value</dd>)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[dict]] = {}
        self.pairs: list[tuple[str, str, str]] = []
        self._table = None
        self._row = None
        self._cell = None
        self._text: list[str] = []
        self._tag = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id") or a.get("data-table") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = {"key": a.get("data-key"), "cells": []}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag in ("b", "span", "dt", "dd"):
            self._tag, self._text = tag, []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row["cells"].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row["cells"] and self._table is not None:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag in ("b", "span", "dt", "dd") and self._tag == tag:
            self.pairs.append((tag, "".join(self._text).strip(), ""))
            self._tag = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._tag is not None:
            self._text.append(data)

    def cards(self) -> dict[str, str]:
        out = {}
        for (t1, v, _), (t2, label, _) in zip(self.pairs, self.pairs[1:], strict=False):
            if (t1, t2) in (("b", "span"), ("dt", "dd")):
                out[label if t1 == "b" else v] = v if t1 == "b" else label
        return out


def _parse(html: str) -> _Tables:
    p = _Tables()
    p.feed(html)
    return p


def _score(value) -> str:
    return "—" if value is None else floatformat(value, 2)


def _hours(value) -> str:
    return "—" if value is None else f"{floatformat(value, 1)} 小时"


def test_the_dashboard_shows_the_independent_figures(world):
    cast = world.cast
    c = Client()
    c.force_login(cast.supervisor)
    for start, end in periods():
        for param, dim, unit in [
            ("region", "region", cast.city),
            ("department", "department", cast.dept_a),
            ("department", "department", cast.dept_b),
            ("hall", "hall", cast.hall),
            ("window", "window", cast.window_a),
        ]:
            value = unit.code if param == "region" else unit.pk
            r = c.get("/stats/", {"period": "custom", "start": start, "end": end, param: value})
            assert r.status_code == 200
            page = _parse(r.content.decode())
            f = expected_figures(dim, unit, start, end, weights=WEIGHTS)
            shown = page.cards()
            label = f"/stats/ {dim} {unit} {start}–{end}"
            assert shown["评价数"] == str(f["n"]), label
            assert shown["差评数"] == str(f["bad"]), label
            for key, name in [
                ("good_rate", "好评率"),
                ("bad_rate", "差评率"),
                ("rating_rate", "评价率"),
                ("active_rate", "主动评价率"),
                ("rectify_rate", "整改率"),
                ("on_time_rate", "按时整改率"),
                ("callback_rate", "回访满意率"),
                ("callback_solved_rate", "回访解决率"),
            ]:
                assert shown[name] == pct(f[key]), (label, name)
            assert shown["满意度得分"] == _score(f["score"]), label
            assert shown["平均联系用时"] == _hours(f["contact_hours"]), label
            assert shown["平均办结用时"] == _hours(f["close_hours"]), label
            to_rectify = sum(1 for o in expected_counts(dim, unit, start, end)["orders"])
            to_rectify -= sum(
                1
                for o in expected_counts(dim, unit, start, end)["orders"]
                if o.status in ("invalid", "merged")
            )
            assert shown["差评工单"] == (
                f"{f['n_orders']} 件（应整改 {to_rectify} 件，办理中 {f['n_open']} 件，"
                f"逾期未办结 {f['n_open_late']} 件）"
            ), label
            # the drill-down tables: every row's figures
            for title, rows in page.tables.items():
                if title not in ("部门", "政务大厅", "窗口", "下级区划"):
                    continue
                row_dim = {"部门": "department", "政务大厅": "hall", "窗口": "window", "下级区划": "region"}[
                    title
                ]
                for row in rows[1:]:
                    if len(row["cells"]) < 6:
                        continue  # 本期无评价
                    sub = _unit_named(cast, row_dim, row["cells"][0])
                    g = expected_figures(row_dim, sub, start, end, weights=WEIGHTS)
                    assert row["cells"][1:6] == [
                        str(g["n"]),
                        str(g["bad"]),
                        pct(g["bad_rate"]),
                        pct(g["good_rate"]),
                        _score(g["score"]),
                    ], (label, title, row["cells"][0])


def _unit_named(cast, dim, name):
    from haocha.analytics.selectors import member_names

    candidates = {
        "department": [cast.dept_a, cast.dept_b, cast.dept_yuelu],
        "hall": [cast.hall],
        "window": [cast.window_a, cast.window_b],
        "region": [cast.city, cast.furong, cast.yuelu],
    }[dim]
    dim_no = {"department": 2, "hall": 3, "window": 4, "region": 1}[dim]
    names = member_names(dim_no, [u.pk for u in candidates])
    [unit] = [u for u in candidates if names[u.pk] == name]
    return unit


def _figure_rows(page: _Tables) -> dict[str, str]:
    return {row["key"]: row["cells"][1] for row in page.tables["figures"] if row["key"]}


PUBLIC_KINDS = {
    "n": "int",
    "bad": "int",
    "bad_rate": "pct",
    "good_rate": "pct",
    "score": "score",
    "rating_rate": "pct",
    "active_rate": "pct",
    "rectify_rate": "pct",
    "on_time_rate": "pct",
    "callback_rate": "pct",
}


def _public_start():
    first = timezone.localdate().replace(day=1)
    for _ in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def test_the_public_pages_and_the_notice_show_the_independent_figures(world, client):
    cast = world.cast
    today = timezone.localdate()
    start = _public_start()
    cases = [
        ("/public/", "region", cast.city, start, today),
        (f"/public/departments/{cast.dept_a.pk}/", "department", cast.dept_a, start, today),
        (f"/public/departments/{cast.dept_b.pk}/", "department", cast.dept_b, start, today),
    ]
    for url, dim, unit, lo, hi in cases:
        r = client.get(url)
        assert r.status_code == 200, url
        shown = _figure_rows(_parse(r.content.decode()))
        f = expected_figures(dim, unit, lo, hi, weights=WEIGHTS)
        assert shown == {k: fmt(f[k], kind) for k, kind in PUBLIC_KINDS.items()}, url
    # the public department ranking: figures of each row
    page = _parse(client.get("/public/").content.decode())
    for row in page.tables["public-departments"][1:]:
        unit = _unit_named(cast, "department", re.sub(r"\s+", "", row["cells"][1]))
        f = expected_figures("department", unit, start, today, weights=WEIGHTS)
        assert row["cells"][2:6] == [
            str(f["n"]),
            str(f["bad"]),
            fmt(f["bad_rate"], "pct"),
            fmt(f["score"], "score"),
        ]
        assert row["cells"][7:9] == [fmt(f["rectify_rate"], "pct"), fmt(f["on_time_rate"], "pct")]
    # the staff's monthly notice of this month, with last month beside it
    month = today.replace(day=1)
    month_end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    staff = Client()
    staff.force_login(cast.supervisor)
    r = staff.get(f"/notices/{cast.city.code}/{month:%Y-%m}/")
    assert r.status_code == 200
    page = _parse(r.content.decode())
    rows = {row["key"]: row["cells"] for row in page.tables["figures"] if row["key"]}
    f = expected_figures("region", cast.city, month, month_end, weights=WEIGHTS)
    prev_end = month - timedelta(days=1)
    p = expected_figures("region", cast.city, prev_end.replace(day=1), prev_end, weights=WEIGHTS)
    assert {k: cells[1:3] for k, cells in rows.items()} == {
        k: [fmt(f[k], kind), fmt(p[k], kind)] for k, kind in PUBLIC_KINDS.items()
    }


def test_the_home_page_shows_the_city_totals(world, client):
    """Over the period /public/ reports on: the last twelve months, this one to today (issue 13.21)."""
    page = _parse(client.get("/").content.decode()).cards()
    today = timezone.localdate()
    months = today.year * 12 + today.month - 1 - 11
    start = datetime(months // 12, months % 12 + 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    first = Rating.objects.filter(kind=1, is_valid=True, rated_at__gte=start)
    n = first.count()
    assert page["评价数"] == str(n)
    assert page["好评率"] == f"{ratio(first.filter(level__in=LEVELS[:2]).count(), n):.2%}"
    assert page["差评率"] == f"{ratio(first.filter(level__in=LEVELS[3:]).count(), n):.2%}"
