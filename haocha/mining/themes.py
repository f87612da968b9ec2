"""The themes that apply to a 差评: the fixed taxonomy plus the themes its region (or a region above) adds."""

from functools import lru_cache

from django.core.exceptions import ValidationError

from haocha.mining.taxonomy import THEME_NAMES, THEMES, Rule, Theme, compile_rule


def region_theme(row) -> Theme:
    """A RegionTheme row as a taxonomy Theme (code r<id>)."""
    return Theme(
        code=row.code,
        name=row.name,
        definition=row.definition,
        examples=tuple(e.strip() for e in row.examples.splitlines() if e.strip()),
        rules=tuple(Rule(p.strip()) for p in row.phrases.splitlines() if p.strip()),
    )


def validate_phrases(text: str) -> None:
    for line in filter(None, (p.strip() for p in text.splitlines())):
        try:
            compile_rule(line)
        except Exception as exc:  # re.error: a phrase a region wrote is no valid pattern
            raise ValidationError(f"识别短语“{line}”格式有误：{exc}", code="invalid_phrase") from exc


def active_rows():
    from haocha.mining.models import RegionTheme

    return list(RegionTheme.objects.filter(is_active=True).select_related("region").order_by("pk"))


def themes_for_region(region_path: str, *, rows=None) -> tuple[Theme, ...]:
    """THEMES, then the themes of the regions on `region_path` ("/430000/430100/…/")."""
    rows = active_rows() if rows is None else rows
    extra = tuple(region_theme(r) for r in rows if f"/{r.region.code}/" in region_path)
    return _joined(extra)


@lru_cache(maxsize=64)
def _joined(extra: tuple[Theme, ...]) -> tuple[Theme, ...]:
    # region themes come before 其他 so that they win over the catch-all
    return (*THEMES[:-1], *extra, THEMES[-1])


def theme_names() -> dict[str, str]:
    """{code: name} of the taxonomy and every region theme (for pages and exports)."""
    from haocha.mining.models import RegionTheme

    names = dict(THEME_NAMES)
    names.update({f"r{pk}": name for pk, name in RegionTheme.objects.values_list("pk", "name")})
    return names
