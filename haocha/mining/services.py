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
from haocha.evaluations.models import Rating, RatingFlag
from haocha.mining.models import MinedComment, MinedTheme, MiningState, TermCount, ThemeCount
from haocha.mining.text import content_words, phrases, themes_of

BATCH = 5000
# A rating committed out of id order (PostgreSQL, concurrent writers) is still seen by a later pass.
LOOKBACK = 1000
_FIELDS = ("id", "comment", "rated_at", "department_id", "item_id", "evaluator_name", "staff__name")


def _month(value) -> date:
    return timezone.localtime(value).date().replace(day=1)


def _eligible():
    return Rating.objects.filter(is_bad=True, is_valid=True, is_hidden=False).exclude(comment="")


def _terms(text: str) -> tuple[set, set]:
    words = content_words(text)
    return set(words), set(phrases(words))


def _upsert_counts(model, key_fields: tuple, delta: Counter) -> None:
    delta = Counter({k: v for k, v in delta.items() if v})
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
    for key, d in delta.items():
        row = existing.get(key)
        if row is None:
            new.append(model(**dict(zip(key_fields, key, strict=True)), n=d))
        else:
            model.objects.filter(pk=row.pk).update(n=F("n") + d)
    model.objects.bulk_create(new, batch_size=2000)
    model.objects.filter(n__lte=0, month__in=months).delete()


def _count(comments: list[MinedComment], sign: int) -> None:
    terms: Counter = Counter()
    themes: Counter = Counter()
    for c in comments:
        words, pairs = _terms(c.text)
        for w in words:
            terms[(c.month, c.department_id, c.item_id, TermCount.Kind.WORD, w)] += sign
        for p in pairs:
            terms[(c.month, c.department_id, c.item_id, TermCount.Kind.PHRASE, p)] += sign
        for t in filter(None, c.themes.split(",")):
            themes[(c.month, c.department_id, c.item_id, t)] += sign
    _upsert_counts(TermCount, ("month", "department_id", "item_id", "kind", "term"), terms)
    _upsert_counts(ThemeCount, ("month", "department_id", "item_id", "theme"), themes)


def _add(rows: list[dict]) -> int:
    if not rows:
        return 0
    known = set(
        MinedComment.objects.filter(rating_id__in=[r["id"] for r in rows]).values_list("rating_id", flat=True)
    )
    comments = []
    for r in rows:
        if r["id"] in known:
            continue
        public = anonymise(r["comment"], names=(r["evaluator_name"], r["staff__name"]))
        comments.append(
            MinedComment(
                rating_id=r["id"],
                month=_month(r["rated_at"]),
                department_id=r["department_id"] or 0,
                item_id=r["item_id"] or 0,
                rated_at=r["rated_at"],
                text=public.text[:500],
                masked=",".join(sorted(public.kinds)),
                # themes are judged on the citizen's own words; only the public text is stored
                themes=",".join(themes_of(r["comment"])),
            )
        )
    MinedComment.objects.bulk_create(comments, batch_size=1000)
    saved = {
        c.rating_id: c for c in MinedComment.objects.filter(rating_id__in=[c.rating_id for c in comments])
    }
    MinedTheme.objects.bulk_create(
        [
            MinedTheme(comment=c, theme=t, month=c.month, department_id=c.department_id)
            for c in saved.values()
            for t in filter(None, c.themes.split(","))
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
