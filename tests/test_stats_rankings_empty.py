"""The rankings page opens on a tab that has data and says why a table is empty (issue 13.14): the walk found it
on 窗口排名 with "本期暂无数据" and empty 服务明星, 办事能手 and 约谈 tables, and nothing saying why."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from haocha.analytics.models import Dim
from tests.test_stats_rankings import month_rows
from tests.workorder_helpers import frozen

pytestmark = pytest.mark.django_db

DEC_2 = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _page(cast, **params) -> str:
    c = Client()
    c.force_login(cast.supervisor)
    with frozen(DEC_2):
        return c.get("/stats/rankings/", params).content.decode()


def _on(html: str) -> str:
    tabs = html.split('id="rank-tabs"')[1].split("</div>")[0]
    return re.search(r'class="on">([^<]+)<', tabs).group(1)


def _reason(html: str, section: str) -> str:
    part = html.split(f'id="{section}"')[1].split("</table>")[0]
    return re.sub(r"\s+", " ", re.search(r'class="muted empty-reason">(.*?)</td>', part, re.S).group(1))


def test_it_opens_on_the_first_tab_with_a_ranking_in_the_last_full_month(cast):
    month_rows(Dim.DEPARTMENT, cast.dept_a.pk, 2026, 11, vs=30, s=5)
    month_rows(Dim.DEPARTMENT, cast.dept_b.pk, 2026, 11, vs=20, s=20)
    month_rows(Dim.WINDOW, cast.window_a.pk, 2026, 11, vs=12)  # windows below the minimum sample
    html = _page(cast)
    assert _on(html) == "部门排名" and "2026年11月 部门排名" in html
    ranked = html.split('id="ranked"')[1].split("</table>")[0]
    assert "长沙市市场监督管理局" in ranked and "长沙市人力资源和社会保障局" in ranked
    assert "本期暂无数据" not in html


def test_it_opens_on_windows_when_only_windows_reach_the_minimum_sample(cast):
    month_rows(Dim.DEPARTMENT, cast.dept_a.pk, 2026, 11, vs=10)
    month_rows(Dim.HALL, cast.hall.pk, 2026, 11, vs=10)
    month_rows(Dim.WINDOW, cast.window_a.pk, 2026, 11, vs=31)
    assert _on(_page(cast)) == "窗口排名"
    assert _on(_page(cast, dim="department")) == "部门排名"  # a tab asked for is kept


def test_an_empty_ranking_says_why(cast):
    html = _page(cast)
    assert _on(html) == "部门排名"  # nothing anywhere: the first tab
    assert _reason(html, "ranked") == "本期没有部门的评价。"
    assert 'data-empty="本期没有部门的评价"' in html  # the chart's placeholder says it too
    month_rows(Dim.WINDOW, cast.window_a.pk, 2026, 11, vs=12)
    month_rows(Dim.WINDOW, cast.window_b.pk, 2026, 11, vs=7)
    html = _page(cast, dim="window")
    reason = _reason(html, "ranked")
    assert "本期有 2 个窗口有评价，但评价数都少于最少评价数 30 条（最多的 12 条），不参加排名" in reason
    assert "评分与排名规则" in reason


def test_empty_award_and_interview_tables_say_why(cast):
    month_rows(Dim.STAFF, cast.staff_a.pk, 2026, 11, vs=10)
    html = _page(cast)
    assert _reason(html, "stars") == (
        "本期无服务明星候选：本期有 1 名工作人员有评价，但评价数都少于最少评价数 30 条（最多的 10 条），"
        "不参加排名，列在“样本不足”中（最少评价数见管理后台“评分与排名规则”）。"
    )
    assert _reason(html, "able").startswith("本期无办事能手候选：本期有 1 名工作人员有评价")
    assert _reason(html, "interviews") == ("无约谈候选：本月没有参加排名的窗口：本期没有窗口的评价。")


def test_stars_missing_because_everyone_ranked_had_a_bad_rating_and_interviews_missing_a_month(cast):
    month_rows(Dim.STAFF, cast.staff_a.pk, 2026, 11, vs=30, d=1)
    month_rows(Dim.WINDOW, cast.window_a.pk, 2026, 11, vs=30, d=3)
    html = _page(cast)
    assert _reason(html, "stars") == "本期无服务明星候选：参加排名的 1 名工作人员本期都有差评。"
    assert "李娜" in html.split('id="able"')[1].split("</table>")[0]  # 办事能手 does not exclude 差评
    assert _reason(html, "interviews") == (
        "无约谈候选：2026年10月没有参加排名的窗口，无法判断是否连续两个月排名靠后。"
    )
    month_rows(Dim.WINDOW, cast.window_a.pk, 2026, 10, vs=30)
    month_rows(Dim.WINDOW, cast.window_b.pk, 2026, 10, vs=25, d=5)
    month_rows(Dim.WINDOW, cast.window_b.pk, 2026, 11, vs=40)
    html = _page(cast)
    assert _reason(html, "interviews") == "无约谈候选：没有连续两个月都排在后 10% 的窗口。"
