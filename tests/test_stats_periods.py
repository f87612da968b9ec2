"""Which period the results pages open on, and how a period that is not over is marked (issue 13.13): on
2 December the dashboard and the rankings open on November, not on a single day of December; a period that
includes today is marked on every chart and figure; every rate shown has its definition and lies in 0–100 %."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from haocha.analytics.services import rollups_apply_all
from tests.factories import finished_case
from tests.workorder_helpers import frozen

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEC_2 = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)


def _as(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _rate(cast, case_no, seq, *, finished_ago, level="satisfied"):
    finished_case(cast, case_no, seq=seq, window=cast.window_a, finished_ago=finished_ago)
    body = {"case_no": case_no, "channel": "tablet", "level": level, "staff_no": cast.staff_a.staff_no}
    r = Client().post(
        "/api/ratings", body, content_type="application/json", headers={"X-Api-Key": cast.key_city}
    )
    assert r.status_code == 201, r.content


def _blocks(html: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", html, re.S)


def _cards(html: str) -> list[str]:
    cards = html.split('id="stats-cards"')[1].split("</section>")[0]
    return re.findall(r'<div class="card">(.*?)</div>', cards, re.S)


def _percentages(html: str) -> list[float]:
    body = html.split('id="definitions"')[0]  # the definitions' own text holds no figures
    return [float(x) for x in re.findall(r"(-?\d+(?:\.\d+)?)%", re.sub(r"<[^>]+>", " ", body))]


def test_the_dashboard_opens_on_the_last_full_month_unmarked(cast):
    with frozen(DEC_2):
        html = _as(cast.supervisor).get("/stats/").content.decode()
    assert "2026-11-01 至 2026-11-30" in html
    assert 'id="period-note"' not in html and "截至今日" not in html
    assert '<option value="11" selected>11月</option>' in html


def test_the_dashboard_marks_every_figure_and_chart_of_a_period_that_includes_today(cast):
    with frozen(DEC_2):
        c = _as(cast.supervisor)
        html = c.get("/stats/", {"period": "month", "year": 2026, "month": 12}).content.decode()
        quarter = c.get("/stats/", {"period": "quarter"}).content.decode()
        year = c.get("/stats/", {"period": "year", "year": 2026}).content.decode()
        custom = c.get(
            "/stats/", {"period": "custom", "start": "2026-11-20", "end": "2026-12-02"}
        ).content.decode()
        over = c.get(
            "/stats/", {"period": "custom", "start": "2026-11-01", "end": "2026-12-01"}
        ).content.decode()
    assert "2026-12-01 至 2026-12-31" in html
    note = re.search(r'id="period-note"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert "部分月份" in note and "截至今日（12月2日）" in note
    cards = _cards(html)
    assert len(cards) == 7 and all("部分月份·截至今日" in card for card in cards)
    headings = _blocks(html.split('id="stats-body"')[1].split('id="definitions"')[0], "h2")
    assert len(headings) >= 9  # trend, levels, channels, timeliness, drill-down, three top lists, themes
    assert all("截至今日" in h for h in headings), [h for h in headings if "截至今日" not in h]
    # the quarter opens on the last full one (Q3); a year or custom period that includes today is marked
    assert "2026-07-01 至 2026-09-30" in quarter and "截至今日" not in quarter
    assert "部分年度·截至今日" in year
    assert "截至今日（12月2日）" in custom and "部分月份" not in custom
    assert "截至今日" not in over


def test_the_rankings_open_on_the_last_full_month_and_mark_a_partial_one(cast):
    with frozen(DEC_2):
        c = _as(cast.supervisor)
        default = c.get("/stats/rankings/").content.decode()
        current = c.get("/stats/rankings/", {"dim": "window", "year": 2026, "month": 12}).content.decode()
        year = c.get("/stats/rankings/", {"dim": "window", "scope": "year"}).content.decode()
    h1 = _blocks(default, "h1")[0]
    assert "2026年11月" in h1 and "截至今日" not in default
    assert "2026年12月" in _blocks(current, "h1")[0] and "部分月份·截至今日" in _blocks(current, "h1")[0]
    headings = _blocks(current, "h2")[:-1]  # all but 口径说明
    assert len(headings) == 5 and all("截至今日" in h for h in headings)
    assert "月中排名不作为评优和约谈依据" in current
    assert "2026年1月–12月" in _blocks(year, "h1")[0] and "部分年度·截至今日" in year


def test_every_rate_on_the_pages_has_its_definition(cast):
    with frozen(DEC_2):
        c = _as(cast.supervisor)
        dashboard = c.get("/stats/").content.decode()
        rankings = c.get("/stats/rankings/", {"dim": "window"}).content.decode()
    definitions = " ".join(_blocks(dashboard.split('id="definitions"')[1], "li"))
    for rate in (
        "好评率",
        "差评率",
        "评价率",
        "主动评价率",
        "整改率",
        "按时整改率",
        "回访满意率",
        "满意度得分",
    ):
        assert f"{rate} = " in definitions, rate
    assert "评价率 = 已评价的办结办件数 ÷ 办结办件数" in definitions
    definitions = " ".join(_blocks(rankings.split("口径说明")[1], "li"))
    for rate in ("满意度得分", "排名得分", "差评率", "好评率", "整改率"):
        assert f"{rate} = " in definitions, rate


def test_a_case_finished_last_month_and_rated_this_month_keeps_every_rate_within_100_percent(cast):
    """The walk on 2 December read 评价率 109.65 %: cases finished in November, rated in December, counted in
    December's numerator over December's finished cases."""
    with frozen(DEC_2):
        for i in range(4):
            _rate(cast, f"PER-{i}", i, finished_ago=timedelta(days=5 + i))  # finished 27–24 November
        _rate(cast, "PER-9", 9, finished_ago=timedelta(hours=3))  # finished and rated today
        finished_case(cast, "PER-10", seq=10, window=cast.window_a, finished_ago=timedelta(hours=2))
        rollups_apply_all()
        c = _as(cast.supervisor)
        pages = {
            "december": c.get("/stats/", {"period": "month", "year": 2026, "month": 12}).content.decode(),
            "november": c.get("/stats/").content.decode(),
            "window": c.get("/stats/", {"hall": cast.hall.pk, "window": cast.window_a.pk}).content.decode(),
        }
    for name, html in pages.items():
        values = _percentages(html)
        assert values, name
        assert all(0 <= v <= 100 for v in values), (name, values)
    # December: 2 finished, 1 of them rated → 评价率 50 %; the four November cases count in November (100 %)
    cards = _cards(pages["december"])
    assert "50.00%" in next(card for card in cards if "评价率" in card and "主动" not in card)
    cards = _cards(pages["november"])
    assert "100.00%" in next(card for card in cards if "评价率" in card and "主动" not in card)
