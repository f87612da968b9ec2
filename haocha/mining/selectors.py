"""Reads of the mining tables: themes with their monthly trend, keywords, phrases and example comments."""

from django.db.models import Sum

from haocha.analytics.selectors import Period
from haocha.core.anonymise import anonymise
from haocha.mining.models import MinedTheme, TermCount, ThemeCount
from haocha.mining.text import THEME_NAMES


def _scoped(qs, department_ids):
    return qs if department_ids is None else qs.filter(department_id__in=list(department_ids))


def themes_summary(*, period: Period, department_ids=None, top: int = 7, examples: int = 3) -> dict:
    """Mining results over the months a period touches, for some departments (None: all)."""
    months = period.months()
    counts = _scoped(ThemeCount.objects.filter(month__in=months), department_ids)
    by_theme: dict[str, dict] = {}
    for row in counts.values("theme", "month").annotate(n=Sum("n")).order_by():
        by_theme.setdefault(row["theme"], {})[row["month"]] = row["n"]
    themes = []
    for code, per_month in by_theme.items():
        total = sum(per_month.values())
        if total <= 0:
            continue
        themes.append(
            {
                "code": code,
                "name": THEME_NAMES.get(code, code),
                "n": total,
                "trend": [per_month.get(m, 0) for m in months],
            }
        )
    themes.sort(key=lambda t: (-t["n"], t["code"]))
    themes = themes[:top]
    for theme in themes:
        rows = (
            _scoped(MinedTheme.objects.filter(theme=theme["code"], month__in=months), department_ids)
            .select_related("comment")
            .order_by("-comment__rated_at")[:examples]
        )
        theme["examples"] = [r.comment for r in rows]
    terms = _scoped(TermCount.objects.filter(month__in=months), department_ids)

    def top_terms(kind, n):
        rows = terms.filter(kind=kind).values("term").annotate(n=Sum("n")).order_by("-n", "term")[: n + 20]
        return [r for r in rows if is_publishable_term(r["term"])][:n]

    return {
        "months": months,
        "themes": themes,
        "keywords": top_terms(TermCount.Kind.WORD, 20),
        "phrases": top_terms(TermCount.Kind.PHRASE, 10),
    }


def is_publishable_term(term: str) -> bool:
    """A keyword or phrase (a·b) that is no personal data: counted before the anonymiser knew a handle
    such as wangyj or a name, a term would otherwise stay in the tables until `haocha mining refresh --full`."""
    return not any(anonymise(part).masked for part in term.split("·"))
