"""/public/ with a city's worth of departments (issue 13.17): searched by name and paged, ranks those of the
whole ranking, every unit's figures still there."""

import re

import pytest
from django.test import Client

from tests.public_listing_helpers import many_departments

pytestmark = pytest.mark.django_db


def _rows(html: str) -> list[tuple[str, str]]:
    table = html.split('id="public-departments"')[1].split("</table>")[0]
    return re.findall(r'<td class="rank"[^>]*>([^<]*)</td><td class="name"[^>]*><a [^>]*>([^<]*)</a>', table)


def test_the_departments_are_paged_twenty_at_a_time(cast):
    many_departments(cast)  # 45 with ratings (the cast's two have none and are not listed)
    first = Client().get("/public/").content.decode()
    rows = _rows(first)
    assert len(rows) == 20 and [rank for rank, _ in rows[:3]] == ["1", "2", "3"]
    assert "共 45 个部门，第 1/3 页" in first and 'page=2#departments">下一页' in first
    third = Client().get("/public/", {"page": 3}).content.decode()
    assert len(_rows(third)) == 5 and "上一页" in third
    names = {n for p in (1, 2, 3) for _, n in _rows(Client().get("/public/", {"page": p}).content.decode())}
    assert len(names) == 45  # every department on one of the pages


def test_search_finds_departments_by_name_with_their_rank_in_the_whole_ranking(cast):
    many_departments(cast)
    whole = {
        n: r for p in (1, 2, 3) for r, n in _rows(Client().get("/public/", {"page": p}).content.decode())
    }
    html = Client().get("/public/", {"q": "管理局"}).content.decode()
    found = _rows(html)
    expected = sorted(n for n in whole if "管理局" in n)
    assert sorted(n for _, n in found) == expected and len(expected) > 3
    assert all(whole[n] == r for r, n in found)  # the rank of the whole ranking, not of the search
    assert f"“管理局”：找到 {len(expected)} 个部门（共 45 个）" in html
    none = Client().get("/public/", {"q": "不存在的部门"}).content.decode()
    assert "找到 0 个部门" in none and "暂无数据" in none
