"""Assessment API: GET /api/assessment (the yearly table with its rule) and /api/assessment.xlsx."""

from django.http import HttpResponse
from ninja import Query, Router, Schema

from haocha.analytics.params import parse_year_month
from haocha.assessment import excel
from haocha.assessment import selectors as asel

router = Router(tags=["年度目标考核"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RuleOut(Schema):
    region: str | None
    text: str
    weights: dict[str, int]
    bad_rate_ceiling: float
    min_sample: int


class RowOut(Schema):
    rank: int | None
    member: int
    code: str
    name: str
    n: int
    n_orders: int
    measures: dict[str, float | int | None]
    points: dict[str, float]
    total: float | None
    appeal_rejected_share: float | None
    callback_contradicted_share: float | None


class AssessmentOut(Schema):
    year: int
    dim: str
    region: str
    start: str
    end: str
    rule: RuleOut
    definitions: dict[str, str]
    ranked: list[RowOut]
    insufficient: list[RowOut]


def build(actor, year: int | None, dim: str | None, region: str | None) -> asel.Assessment:
    """The checks every reader of the table goes through (API, page, workbook): who may, which units, which
    year."""
    asel.may_assess(actor)
    dim_key = asel.parse_dim_key(dim)
    period = parse_year_month(year, None)
    scope = asel.scope_region(actor, region)
    return asel.assessment(actor, year=period.start.year, dim_key=dim_key, region=scope)


def as_dict(a: asel.Assessment) -> dict:
    return {
        "year": a.year,
        "dim": a.dim_key,
        "region": a.region.code,
        "start": a.period.start.isoformat(),
        "end": a.period.end.isoformat(),
        "rule": {
            "region": a.rule.region.code if a.rule.region_id else None,
            "text": a.rule_text,
            "weights": a.weights,
            "bad_rate_ceiling": float(a.rule.bad_rate_ceiling),
            "min_sample": a.rule.min_sample,
        },
        "definitions": a.definitions,
        "ranked": [r.as_dict() for r in a.ranked],
        "insufficient": [r.as_dict() for r in a.insufficient],
    }


def xlsx_response(a: asel.Assessment) -> HttpResponse:
    response = HttpResponse(excel.workbook(a), content_type=XLSX)
    name = f"haocha-assessment-{a.dim_key}-{a.region.code}-{a.year}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


YEAR = Query(..., description="考核年度，如 2026")
DIM = Query("department", description="department（部门）或 district（区县）")
REGION = Query(None, description="区划代码（可选）：默认本系统所在区划")


@router.get(
    "/assessment", response=AssessmentOut, summary="年度目标考核结果（各单位指标、得分、排名及考核规则）"
)
def assessment_table(request, year: int = YEAR, dim: str = DIM, region: str | None = REGION):
    return as_dict(build(request.auth, year, dim, region))


@router.get(
    "/assessment.xlsx",
    summary="年度目标考核结果（Excel：考核结果、考核规则与口径说明）",
    response={200: None},
)
def assessment_xlsx(request, year: int = YEAR, dim: str = DIM, region: str | None = REGION):
    return xlsx_response(build(request.auth, year, dim, region))
