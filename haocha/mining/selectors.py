"""Reads of the mining tables: comment totals, themes with their monthly trend and emerging ones, keywords and
phrases, counts by department and item, and the comments behind a figure (click-through and export)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, Sum
from django.utils import timezone

from haocha.analytics.selectors import Period
from haocha.catalogue.models import ServiceItem
from haocha.core.anonymise import anonymise
from haocha.evaluations.models import Rating
from haocha.mining.models import MinedComment, MinedTheme, TermCount, ThemeCount
from haocha.mining.taxonomy import THEME_BY_CODE
from haocha.mining.themes import theme_names
from haocha.organisations.models import Organisation
from haocha.workorders.models import WorkOrder

UNTHEMED = "-"  # the click-through's code for the comments no theme was found for
EMERGING_MIN = 3  # comments in the latest full month before a rise counts
EMERGING_FACTOR = 2.0  # … and at least this many times the average of the months before it
EMERGING_BASE_MONTHS = 3


@dataclass(frozen=True)
class Scope:
    """Which mined comments a read covers: some departments (None: all), optionally one item or hall."""

    department_ids: tuple | None = None
    item_id: int | None = None
    hall_id: int | None = None

    def filter(self, qs):
        if self.department_ids is not None:
            qs = qs.filter(department_id__in=list(self.department_ids))
        if self.item_id is not None:
            qs = qs.filter(item_id=self.item_id)
        if self.hall_id is not None:
            qs = qs.filter(hall_id=self.hall_id)
        return qs


def _scope(department_ids=None, scope: Scope | None = None) -> Scope:
    if scope is not None:
        return scope
    return Scope(None if department_ids is None else tuple(department_ids))


def _month_end(m: date) -> date:
    return Period.month(m.year, m.month).end


def month_axis(period: Period) -> list[dict]:
    """The months a period touches, each marked partial when the period or today cuts it short."""
    today = timezone.localdate()
    out = []
    for m in period.months():
        end = _month_end(m)
        partial = period.start > m or period.end < end or today < end
        out.append({"month": m, "label": m.strftime("%Y-%m"), "partial": partial})
    return out


def emerging(trend: list[int], axis: list[dict]) -> dict | None:
    """A theme rising in the latest full month against the months before it, or None."""
    full = [i for i, a in enumerate(axis) if not a["partial"]]
    if len(full) < 2:
        return None
    last = full[-1]
    base = [trend[i] for i in full[:-1]][-EMERGING_BASE_MONTHS:]
    average = sum(base) / len(base)
    now = trend[last]
    if now >= EMERGING_MIN and now >= EMERGING_FACTOR * max(average, 1.0):
        return {"month": axis[last]["label"], "n": now, "before": round(average, 1)}
    return None


def themes_summary(
    *, period: Period, department_ids=None, scope: Scope | None = None, top: int = 20, examples: int = 3
) -> dict:
    """Mining results over the months a period touches: comment totals (each comment once), the unthemed
    count, per theme the comments carrying it and those with it as main theme, its monthly trend and whether
    it is emerging, examples chosen by confidence, and keywords and phrases."""
    scope = _scope(department_ids, scope)
    axis = month_axis(period)
    months = [a["month"] for a in axis]
    names = theme_names()
    comments = scope.filter(MinedComment.objects.filter(month__in=months))
    total = comments.count()
    unthemed_qs = comments.filter(themes="")
    unthemed = unthemed_qs.count()
    by_theme: dict[str, dict] = {}
    for row in (
        scope.filter(ThemeCount.objects.filter(month__in=months))
        .values("theme", "month")
        .annotate(n=Sum("n"), n_main=Sum("n_main"))
        .order_by()
    ):
        entry = by_theme.setdefault(row["theme"], {"months": {}, "n_main": 0})
        entry["months"][row["month"]] = row["n"]
        entry["n_main"] += row["n_main"]
    themes = []
    for code, entry in by_theme.items():
        n = sum(entry["months"].values())
        if n <= 0:
            continue
        trend = [entry["months"].get(m, 0) for m in months]
        theme = THEME_BY_CODE.get(code)
        themes.append(
            {
                "code": code,
                "name": names.get(code, code),
                "definition": theme.definition if theme else "",
                "n": n,
                "n_main": entry["n_main"],
                "share": n / total if total else 0.0,
                "trend": trend,
                "emerging": emerging(trend, axis),
            }
        )
    themes.sort(key=lambda t: (-t["n_main"], -t["n"], t["code"]))
    themes = themes[:top]
    for theme in themes:
        rows = (
            scope.filter(MinedTheme.objects.filter(theme=theme["code"], month__in=months))
            .select_related("comment")
            .order_by("-is_main", "-confidence", "-comment__rated_at")[:examples]
        )
        theme["examples"] = [r.comment for r in rows]
    terms = scope.filter(TermCount.objects.filter(month__in=months))

    def top_terms(kind, n):
        rows = terms.filter(kind=kind).values("term").annotate(n=Sum("n")).order_by("-n", "term")[: n + 20]
        return [r for r in rows if is_publishable_term(r["term"])][:n]

    return {
        "months": months,
        "axis": axis,
        "total": total,
        "unthemed": unthemed,
        "themed": total - unthemed,
        "unthemed_share": unthemed / total if total else 0.0,
        "unthemed_sample": list(unthemed_qs.order_by("-rated_at")[:examples]),
        "themes": themes,
        "emerging": [t for t in themes if t["emerging"]],
        "keywords": top_terms(TermCount.Kind.WORD, 20),
        "phrases": top_terms(TermCount.Kind.PHRASE, 10),
    }


def counts_by_unit(*, period: Period, scope: Scope, dim: str, top: int = 15) -> list[dict]:
    """Comments per department or item (dim "department" / "item"), with each unit's three main themes."""
    field = f"{dim}_id"
    months = period.months()
    comments = scope.filter(MinedComment.objects.filter(month__in=months))
    rows = list(
        comments.values(field)
        .annotate(n=Count("pk"), unthemed=Count("pk", filter=Q(themes="")))
        .order_by("-n", field)[:top]
    )
    ids = [r[field] for r in rows]
    model = Organisation if dim == "department" else ServiceItem
    unit_names = dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))
    names = theme_names()
    mains: dict = {}
    for t in (
        scope.filter(ThemeCount.objects.filter(month__in=months, **{f"{field}__in": ids}))
        .values(field, "theme")
        .annotate(n=Sum("n_main"))
        .order_by("-n", "theme")
    ):
        if t["n"] > 0:
            mains.setdefault(t[field], []).append(
                {"code": t["theme"], "name": names.get(t["theme"]), "n": t["n"]}
            )
    return [
        {
            "id": r[field],
            "name": unit_names.get(r[field], "（未指定）"),
            "n": r["n"],
            "unthemed": r["unthemed"],
            "themes": mains.get(r[field], [])[:3],
        }
        for r in rows
    ]


def theme_comments(*, period: Period, scope: Scope, theme: str, offset: int = 0, limit: int = 20) -> dict:
    """The comments behind a theme's figure (anonymised text, rating level, order status), most confident
    first; `theme` UNTHEMED gives the comments without a theme."""
    months = period.months()
    if theme == UNTHEMED:
        qs = scope.filter(MinedComment.objects.filter(month__in=months, themes=""))
        total = qs.count()
        comments = list(qs.order_by("-rated_at", "-pk")[offset : offset + limit])
    else:
        rows = scope.filter(MinedTheme.objects.filter(month__in=months, theme=theme))
        total = rows.count()
        comments = [
            r.comment
            for r in rows.select_related("comment").order_by(
                "-is_main", "-confidence", "-comment__rated_at", "-pk"
            )[offset : offset + limit]
        ]
    return {"total": total, "comments": _with_handling(comments), "offset": offset, "limit": limit}


def _with_handling(comments: list[MinedComment]) -> list[dict]:
    ids = [c.rating_id for c in comments]
    levels = dict(Rating.objects.filter(pk__in=ids).values_list("pk", "level"))
    orders = {
        o["rating_id"]: o
        for o in WorkOrder.objects.filter(rating_id__in=ids).values("rating_id", "number", "status")
    }
    level_names = dict(Rating._meta.get_field("level").choices)
    status_names = dict(WorkOrder._meta.get_field("status").choices)
    department_names = dict(
        Organisation.objects.filter(pk__in={c.department_id for c in comments}).values_list("pk", "name")
    )
    names = theme_names()
    out = []
    for c in comments:
        order = orders.get(c.rating_id)
        out.append(
            {
                "comment": c,
                "themes": [names.get(t, t) for t in filter(None, c.themes.split(","))],
                "level": level_names.get(levels.get(c.rating_id), ""),
                "order_number": order["number"] if order else "",
                "order_status": status_names.get(order["status"], order["status"]) if order else "无工单",
                "department": department_names.get(c.department_id, ""),
            }
        )
    return out


def is_publishable_term(term: str) -> bool:
    """A keyword or phrase (a·b) that is no personal data: counted before the anonymiser knew a handle
    such as wangyj or a name, a term would otherwise stay in the tables until `haocha mining refresh --full`."""
    return not any(anonymise(part).masked for part in term.split("·"))


def reply_addresses(reply: str, theme_code: str) -> bool:
    """Whether a department's reply deals with a theme: it uses the theme's reply words (增开窗口 for queuing,
    批评教育 for attitude…) or the classifier finds the theme in it."""
    theme = THEME_BY_CODE.get(theme_code)
    if theme is None:  # a region's own theme has no reply words: judged by the classifier alone
        return False
    return any(term in reply for term in theme.reply_terms)


def reply_check(*, period: Period, scope: Scope, limit: int = 50) -> dict:
    """The handling-quality check: for each closed 差评 order of the period, is the reply (处理结果 and 整改措施)
    about the complaint's themes? The replies that address none of them are flagged for review, with the
    figures per department."""
    from haocha.mining.classifier import classify_many

    months = period.months()
    comments = {
        c.rating_id: c for c in scope.filter(MinedComment.objects.filter(month__in=months).exclude(themes=""))
    }
    orders = list(
        WorkOrder.objects.filter(rating_id__in=list(comments), status="closed")
        .order_by("-closed_at", "-pk")
        .values("rating_id", "number", "department_id", "result", "measures")
    )
    replies = [f"{o['result']}\n{o['measures']}" for o in orders]
    found = classify_many([(r, ()) for r in replies], fallback=False)
    names = theme_names()
    department_names = dict(
        Organisation.objects.filter(pk__in={o["department_id"] for o in orders}).values_list("pk", "name")
    )
    per_department: dict = {}
    flagged = []
    for o, reply, reply_result in zip(orders, replies, found, strict=True):
        c = comments[o["rating_id"]]
        complaint = [t for t in c.themes.split(",") if t]
        addressed = [t for t in complaint if t in reply_result.themes or reply_addresses(reply, t)]
        figures = per_department.setdefault(
            o["department_id"],
            {"name": department_names.get(o["department_id"], ""), "closed": 0, "flagged": 0},
        )
        figures["closed"] += 1
        if not addressed:
            figures["flagged"] += 1
            if len(flagged) < limit:
                flagged.append(
                    {
                        "number": o["number"],
                        "department": figures["name"],
                        "comment": c,
                        "themes": [names.get(t, t) for t in complaint],
                        "reply": anonymise(o["result"]).text,
                        "measures": anonymise(o["measures"]).text,
                    }
                )
    departments = sorted(per_department.values(), key=lambda d: (-d["flagged"], d["name"]))
    for d in departments:
        d["share"] = d["flagged"] / d["closed"] if d["closed"] else 0.0
    return {
        "closed": len(orders),
        "flagged_total": sum(d["flagged"] for d in departments),
        "departments": departments,
        "flagged": flagged,
    }
