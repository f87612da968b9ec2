"""Mining 差评 comments into small tables, incrementally (the worker calls `mining_refresh` each loop)
and from scratch (`mining_rebuild`). Eligibility is always judged on a rating's current state: a valid,
unhidden 差评 with a comment. A later flag (invalid, restored, text hidden) takes the comment out or
puts it back, so an incremental pass and a rebuild end in the same tables."""

from collections import Counter
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from haocha.core.anonymise import anonymise
from haocha.evaluations.models import Rating, RatingFlag, ReasonOption
from haocha.mining.classifier import classify_many
from haocha.mining.models import MinedComment, MinedTheme, MiningState, TermCount, ThemeCount
from haocha.mining.text import content_words, phrases
from haocha.mining.themes import active_rows, themes_for_region

BATCH = 5000
# A rating committed out of id order (PostgreSQL, concurrent writers) is still seen by a later pass.
LOOKBACK = 1000
_FIELDS = (
    "id",
    "comment",
    "rated_at",
    "department_id",
    "item_id",
    "hall_id",
    "evaluator_name",
    "staff__name",
    "reason_codes",
    "indicator_set_id",
    "region__path",
)


def _month(value) -> date:
    return timezone.localtime(value).date().replace(day=1)


def _eligible():
    return Rating.objects.filter(is_bad=True, is_valid=True, is_hidden=False).exclude(comment="")


def _terms(text: str) -> tuple[set, set]:
    words = content_words(text)
    return set(words), set(phrases(words))


def _upsert_counts(model, key_fields: tuple, delta: dict) -> None:
    """Add `delta` ({key: {count field: change}}) to the count rows, creating and dropping rows as needed."""
    delta = {k: v for k, v in delta.items() if any(v.values())}
    if not delta:
        return
    months = {k[0] for k in delta}
    departments = {k[1] for k in delta}
    last = key_fields[-1]
    existing = {
        tuple(getattr(row, f) for f in key_fields): row
        for row in model.objects.filter(
            month__in=months, department_id__in=departments, **{f"{last}__in": {k[-1] for k in delta}}
        )
    }
    new = []
    for key, changes in delta.items():
        row = existing.get(key)
        if row is None:
            new.append(model(**dict(zip(key_fields, key, strict=True)), **changes))
        else:
            model.objects.filter(pk=row.pk).update(**{f: F(f) + d for f, d in changes.items()})
    model.objects.bulk_create(new, batch_size=2000)
    model.objects.filter(n__lte=0, month__in=months).delete()


def _count(comments: list[MinedComment], sign: int) -> None:
    terms: dict = {}
    themes: dict = {}
    for c in comments:
        unit = (c.month, c.department_id, c.item_id, c.hall_id)
        words, pairs = _terms(c.text)
        for kind, values in ((TermCount.Kind.WORD, words), (TermCount.Kind.PHRASE, pairs)):
            for term in values:
                terms.setdefault((*unit, kind, term), Counter())["n"] += sign
        for i, t in enumerate(filter(None, c.themes.split(","))):
            counts = themes.setdefault((*unit, t), Counter())
            counts["n"] += sign
            counts["n_main"] += sign if i == 0 else 0
    _upsert_counts(TermCount, ("month", "department_id", "item_id", "hall_id", "kind", "term"), terms)
    _upsert_counts(ThemeCount, ("month", "department_id", "item_id", "hall_id", "theme"), themes)


def _reason_texts(rows: list[dict]) -> dict:
    sets = {r["indicator_set_id"] for r in rows if r["reason_codes"]}
    return {
        (o["indicator_set_id"], o["code"]): o["text"]
        for o in ReasonOption.objects.filter(indicator_set_id__in=sets).values(
            "indicator_set_id", "code", "text"
        )
    }


def _classified(rows: list[dict]) -> dict:
    """{rating id: classifier Result}, on the citizen's own words (before anonymising), with the reasons
    ticked and the themes the rating's region adds."""
    reason_text = _reason_texts(rows)
    region_rows = active_rows()
    by_themes: dict[tuple, list[dict]] = {}
    for r in rows:
        by_themes.setdefault(themes_for_region(r["region__path"] or "", rows=region_rows), []).append(r)
    out = {}
    for themes, group in by_themes.items():
        items = [
            (r["comment"], [reason_text.get((r["indicator_set_id"], c), c) for c in r["reason_codes"] or ()])
            for r in group
        ]
        for r, result in zip(group, classify_many(items, themes=themes), strict=True):
            out[r["id"]] = result
    return out


def _add(rows: list[dict]) -> int:
    if not rows:
        return 0
    known = set(
        MinedComment.objects.filter(rating_id__in=[r["id"] for r in rows]).values_list("rating_id", flat=True)
    )
    rows = [r for r in rows if r["id"] not in known]
    if not rows:
        return 0
    results = _classified(rows)
    comments = []
    for r in rows:
        result = results[r["id"]]
        public = anonymise(r["comment"], names=(r["evaluator_name"], r["staff__name"]))
        comments.append(
            MinedComment(
                rating_id=r["id"],
                month=_month(r["rated_at"]),
                department_id=r["department_id"] or 0,
                item_id=r["item_id"] or 0,
                hall_id=r["hall_id"] or 0,
                rated_at=r["rated_at"],
                text=public.text[:500],
                masked=",".join(sorted(public.kinds)),
                # themes are judged on the citizen's own words; only the public text is stored
                themes=",".join(result.themes),
                confidence=result.confidence,
                source=result.source,
            )
        )
    MinedComment.objects.bulk_create(comments, batch_size=1000)
    saved = {
        c.rating_id: c for c in MinedComment.objects.filter(rating_id__in=[c.rating_id for c in comments])
    }
    MinedTheme.objects.bulk_create(
        [
            MinedTheme(
                comment=c,
                theme=t,
                is_main=i == 0,
                confidence=c.confidence,
                month=c.month,
                department_id=c.department_id,
                item_id=c.item_id,
                hall_id=c.hall_id,
            )
            for c in saved.values()
            for i, t in enumerate(filter(None, c.themes.split(",")))
        ],
        batch_size=2000,
    )
    _count(list(saved.values()), +1)
    return len(comments)


def _remove(rating_ids) -> int:
    gone = list(MinedComment.objects.filter(rating_id__in=list(rating_ids)))
    _count(gone, -1)
    MinedComment.objects.filter(pk__in=[c.pk for c in gone]).delete()
    return len(gone)


def mining_refresh(*, batch: int = BATCH) -> dict:
    """Mine the next batch of new ratings and re-judge the ratings flagged since the last pass."""
    with transaction.atomic():
        MiningState.objects.get_or_create(pk=1)
        state = MiningState.objects.select_for_update().get(pk=1)
        flags = list(
            RatingFlag.objects.filter(pk__gt=state.last_flag_id)
            .order_by("pk")
            .values_list("pk", "rating_id")[:batch]
        )
        affected = {rid for _, rid in flags if rid <= state.last_rating_id}
        removed = added = 0
        if affected:
            removed = _remove(affected)
            added += _add(list(_eligible().filter(pk__in=affected).values(*_FIELDS)))
        low = max(0, state.last_rating_id - LOOKBACK)
        ids = list(
            Rating.objects.filter(pk__gt=state.last_rating_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        high = ids[-1] if ids else state.last_rating_id
        if high > low:
            added += _add(list(_eligible().filter(pk__gt=low, pk__lte=high).order_by("pk").values(*_FIELDS)))
        state.last_rating_id = high
        if flags:
            state.last_flag_id = flags[-1][0]
        state.last_run_at = timezone.now()
        state.save()
    return {"ratings": len(ids), "added": added, "removed": removed, "flags": len(flags)}


def mining_refresh_all(*, batch: int = BATCH) -> dict:
    total = Counter()
    while True:
        done = mining_refresh(batch=batch)
        total.update(done)
        if done["ratings"] < batch and done["flags"] < batch:
            return dict(total)


def mining_rebuild() -> dict:
    """Empty the mining tables and mine every rating again."""
    with transaction.atomic():
        for model in (MinedTheme, MinedComment, TermCount, ThemeCount, MiningState):
            model.objects.all().delete()
        last_flag = RatingFlag.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        MiningState.objects.create(pk=1, last_flag_id=last_flag)
    return mining_refresh_all(batch=20000)
