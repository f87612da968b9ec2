"""The one rating intake every channel uses, plus 追评, replies and correction flags (identity reveal:
evaluations/disclosure.py)."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.accounts.models import ApiClient, Role
from haocha.catalogue.models import Case
from haocha.catalogue.selectors import find_case_for_actor, find_case_for_rating
from haocha.core.audit import audit_record
from haocha.core.errors import Conflict, Forbidden, InvalidInput
from haocha.core.models import AuditLog
from haocha.core.rawrows import insert_new
from haocha.core.text import strip_invisible
from haocha.evaluations import access, rules
from haocha.evaluations.channels import STAFF_RECORDED_CHANNELS, indicator_set_code
from haocha.evaluations.hooks import rating_stored
from haocha.evaluations.models import Rating, RatingFlag, RatingReply
from haocha.evaluations.policy import DEFAULT as DEFAULT_POLICY
from haocha.evaluations.policy import active_set, policy_for_region
from haocha.evaluations.rules import MAX_COMMENT, RatingInput
from haocha.organisations.models import Region, Staff, Window

RECORDING_ROLES = (Role.OPERATOR_12345, Role.SUPERVISOR)


def _check_may_submit(actor: Actor, channel: str) -> None:
    rules.check_channel(channel)
    if actor.client is not None:
        if ApiClient.Scope.RATINGS_WRITE not in actor.scopes:
            raise Forbidden("该接入系统没有提交评价的权限", code="scope_missing")
        return
    if actor.user is not None:
        # Staff may only record what a citizen said through the hotline, a call-back or as a supervisor.
        if channel not in STAFF_RECORDED_CHANNELS or not actor.has_role(*RECORDING_ROLES):
            raise Forbidden("工作人员不得代替办事群众评价", code="staff_cannot_rate")
        return
    # Public channel pages act for one case through a signed link (see the channels issue).
    if not actor.all_access and not actor.org_ids:
        raise Forbidden("无权提交评价", code="forbidden")


# --- the context the rule book reads -----------------------------------------------------------------


def region_snapshot(region: Region) -> rules.RegionSnapshot:
    return rules.RegionSnapshot(region.pk, region.code, region.path, region.name)


def applicant_of(case: Case) -> rules.Person:
    return rules.Person(
        case.applicant_type,
        case.applicant_name,
        case.applicant_id_hash,
        case.applicant_id_masked,
        case.applicant_id_enc,
        case.applicant_phone_hash,
        case.applicant_phone_masked,
        case.applicant_phone_enc,
    )


def case_snapshot(case: Case) -> rules.CaseSnapshot:
    """The case as the rules read it (its region must be loaded with it)."""
    hall_id = case.hall_id
    if hall_id is None and case.window_id is not None:
        hall_id = Window.objects.filter(pk=case.window_id).values_list("hall_id", flat=True).first()
    return rules.CaseSnapshot(
        id=case.pk,
        case_no=case.case_no,
        finished=case.is_finished,
        finished_at=case.finished_at,
        department_id=case.department_id,
        hall_id=hall_id,
        window_id=case.window_id,
        staff_id=case.staff_id,
        item_id=case.item_id,
        region=region_snapshot(case.region),
        applicant=applicant_of(case),
    )


def prior_of(rating: Rating) -> rules.PriorRating:
    return rules.PriorRating(
        id=rating.pk,
        case_id=rating.case_id,
        kind=rating.kind,
        window_id=rating.window_id,
        rated_at=rating.rated_at,
        evaluator=rules.Person(*(getattr(rating, name) for name in _EVALUATOR_FIELDS)),
        where=tuple(getattr(rating, name) for name in rules.WHERE_FIELDS),
        level=rating.level,
        indicator_levels=rating.indicator_levels,
        reason_codes=rating.reason_codes,
        comment=rating.comment,
        channel=rating.channel,
        key=rating.idempotency_key,
    )


_EVALUATOR_FIELDS = tuple(f"evaluator_{name}" for name in rules.Person._fields)
_REPLAY_RELATED = ("case", "window", "staff", "region", "indicator_set", "reply")


class _Loaded:
    """The rules' context and the objects behind it (to answer with, and to attach to the new row)."""

    def __init__(self, ctx: rules.Context, **objects):
        self.ctx = ctx
        self.objects = objects
        self.ratings: dict[int, Rating] = {}

    def load_priors(self, actor: Actor, key: str) -> None:
        """The case's ratings and the one stored under the submission's key, into the context."""
        ctx = self.ctx
        found = []
        if ctx.case is not None:
            found = list(Rating.objects.filter(case_id=ctx.case.id).select_related(*_REPLAY_RELATED))
        if key and not any(
            r.idempotency_key == key and r.idempotency_scope == actor.idempotency_scope for r in found
        ):
            # The unique index is partial (WHERE NOT key = ''): repeat its condition so SQLite can use it.
            found += list(
                Rating.objects.filter(idempotency_scope=actor.idempotency_scope, idempotency_key=key)
                .exclude(idempotency_key="")
                .select_related(*_REPLAY_RELATED)
                .order_by()[:1]
            )
        ctx.first = ctx.follow_up = ctx.keyed = None
        for r in found:
            self.ratings[r.pk] = r
            prior = prior_of(r)
            if ctx.case is not None and r.case_id == ctx.case.id:
                if r.kind == Rating.Kind.FIRST:
                    ctx.first = prior
                else:
                    ctx.follow_up = prior
            if key and r.idempotency_key == key and r.idempotency_scope == actor.idempotency_scope:
                ctx.keyed = prior
        ctx.priors_loaded = True

    def decide(self, rule, actor: Actor, data: RatingInput):
        """The rule's answer; a refusal made without the earlier ratings is made again with them (a repeat
        of a stored rating is answered as a repeat even where a rule would refuse it now)."""
        try:
            return rule(self.ctx, data)
        except rules.RuleError:
            if self.ctx.priors_loaded:
                raise
            self.load_priors(actor, data.idempotency_key)
            return rule(self.ctx, data)


def _first_rating_context(actor: Actor, data: RatingInput, now: datetime) -> _Loaded:
    case = find_case_for_rating(actor, data.case_no) if data.case_no else None
    if case is not None:
        access.check_may_record(actor, case.department_id, case.hall_id)
    window = None
    if data.window_code:
        window = (
            Window.objects.select_related("hall__region")
            .filter(code=data.window_code, is_active=True)
            .first()
        )
        if window is not None and not (
            actor.can_see_org(window.hall_id) or actor.can_see_org(window.department_id)
        ):
            window = None
    if window is not None:
        access.check_may_record(actor, window.department_id, window.hall_id)
    region = case.region if case is not None else (window.hall.region if window is not None else None)
    place = None
    if data.region_code and region is not None and data.region_code != region.code:
        place = Region.objects.filter(code=data.region_code).first()
    staff = None
    if data.staff_no:
        staff = Staff.objects.filter(staff_no=data.staff_no).first()
    ctx = rules.Context(
        now=now,
        arrival=True,
        policy=policy_for_region(region) if region is not None else DEFAULT_POLICY,
        indicator_set=active_set(indicator_set_code(data.channel)),
        case=case_snapshot(case) if case is not None else None,
        window=rules.WindowSnapshot(
            window.pk, window.hall_id, window.department_id, region_snapshot(window.hall.region)
        )
        if window is not None
        else None,
        staff=rules.StaffSnapshot(
            staff.pk, staff.department_id, frozenset(staff.windows.values_list("pk", flat=True))
        )
        if staff is not None
        else None,
        place=region_snapshot(place) if place is not None else None,
        priors_loaded=False,  # the unique constraints tell on insert (one query less per rating)
    )
    regions = {r.pk: r for r in (region, place, window.hall.region if window else None) if r is not None}
    return _Loaded(ctx, case=case, window=window, staff=staff, regions=regions)


def _insert(actor: Actor, data: RatingInput, loaded: _Loaded, fields: dict, rule) -> tuple[Rating, bool]:
    rating = Rating(
        **fields,
        client_ip=data.client_ip or None,
        device_id=(data.device_id or "")[:64],
        source=actor.client,
        recorded_by=actor.user,
        idempotency_scope=actor.idempotency_scope,
        idempotency_key=data.idempotency_key,
    )
    objects = loaded.objects
    if objects.get("case") is not None:
        rating.case = objects["case"]
    if objects.get("window") is not None and rating.window_id == objects["window"].pk:
        rating.window = objects["window"]
    if objects.get("staff") is not None and rating.staff_id == objects["staff"].pk:
        rating.staff = objects["staff"]
    region = objects.get("regions", {}).get(rating.region_id)
    if region is not None:
        rating.region = region
    rating.indicator_set = loaded.ctx.indicator_set.indicator_set
    try:
        with transaction.atomic():
            insert_new(rating)
            rating_stored(rating=rating, actor=actor)  # a 差评 becomes a work order in this transaction
        return rating, True
    except IntegrityError:
        # Stored meanwhile (a retry racing its original, or another submission): the rules say which.
        loaded.load_priors(actor, data.idempotency_key)
        outcome = rule(loaded.ctx, data)
        if isinstance(outcome, rules.Replay):
            return loaded.ratings[outcome.prior.id], False
        raise


def rating_submit(*, actor: Actor, data: RatingInput) -> tuple[Rating, bool]:
    """Accept a first rating from any channel. Returns (rating, created); a repeat returns the original."""
    _check_may_submit(actor, data.channel)
    data.idempotency_key = (data.idempotency_key or "").strip()[:64]
    loaded = _first_rating_context(actor, data, timezone.now())
    outcome = loaded.decide(rules.first_rating, actor, data)
    if isinstance(outcome, rules.Replay):
        return loaded.ratings[outcome.prior.id], False
    return _insert(actor, data, loaded, outcome, rules.first_rating)


def rating_follow_up(*, actor: Actor, case_no: str, data: RatingInput) -> tuple[Rating, bool]:
    """追评: the one follow-up rating a case allows, within the policy window after the first rating."""
    _check_may_submit(actor, data.channel)
    data.idempotency_key = (data.idempotency_key or "").strip()[:64]
    data.case_no = case_no
    case = find_case_for_actor(actor, case_no)
    if case is not None:
        access.check_may_record(actor, case.department_id, case.hall_id)
    ctx = rules.Context(
        now=timezone.now(),
        arrival=True,
        policy=policy_for_region(case.region) if case is not None else DEFAULT_POLICY,
        indicator_set=active_set(indicator_set_code(data.channel)),
        case=case_snapshot(case) if case is not None else None,
    )
    loaded = _Loaded(ctx, case=case)
    if case is not None:
        loaded.load_priors(actor, data.idempotency_key)
    outcome = rules.follow_up(ctx, data)
    if isinstance(outcome, rules.Replay):
        return loaded.ratings[outcome.prior.id], False
    first = loaded.ratings[ctx.first.id]
    rating, created = _insert(actor, data, loaded, outcome, rules.follow_up)
    if created:
        rating.first_rating = first
        for name in ("window", "staff", "region"):
            if getattr(first, f"{name}_id") == getattr(rating, f"{name}_id"):
                setattr(rating, name, getattr(first, name))
    return rating, created


def rating_reply(*, actor: Actor, rating: Rating, text: str) -> RatingReply:
    """A department publishes its one reply to a rating of its own service."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("回复内容不能为空", code="reply_empty")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"回复内容不能超过{MAX_COMMENT}字", code="reply_too_long")
    access.check(actor, access.REPLY, rating)
    department_id = rating.department_id or rating.hall_id
    try:
        with transaction.atomic():
            return RatingReply.objects.create(
                rating=rating,
                department_id=department_id,
                text=text,
                author=actor.user,
                author_label=actor.label,
            )
    except IntegrityError as exc:
        raise Conflict("该评价已有回复，每条评价只能回复一次", code="already_replied") from exc


def rating_flag(*, actor: Actor, rating: Rating, kind: str, reason: str, request=None) -> RatingFlag:
    """Mark a rating (invalid, restored, text hidden, note) with a reason; the rating itself is never edited."""
    rules.check_flag(kind, reason)
    access.check(actor, access.FLAG, rating)
    reason = strip_invisible(reason)
    with transaction.atomic():
        # The row as it is now, locked: a stale copy cannot mark an invalid rating invalid again.
        current = Rating.objects.select_for_update().only("pk", "is_valid").get(pk=rating.pk)
        changes = rules.flag_change(kind=kind, reason=reason, is_valid=current.is_valid)
        if changes:
            Rating.objects.filter(pk=rating.pk).update(**changes)
        flag = RatingFlag.objects.create(
            rating=rating, kind=kind, reason=reason[:500], actor=actor.user, actor_label=actor.label
        )
        audit_record(
            action=AuditLog.Action.RATING_FLAG,
            actor=actor.user,
            actor_label=actor.label,
            obj=rating,
            summary=f"{flag.get_kind_display()}：{reason}"[:500],
            request=request,
        )
    rating.refresh_from_db()
    return flag


def rated_cases_guard(*, changes: list, **_signal) -> dict:
    """Receiver of catalogue's cases_rewriting: the rewrites of rated cases the rule book refuses."""
    rated = set(
        Rating.objects.filter(case_id__in=[case.pk for case, _fields in changes])
        .values_list("case_id", flat=True)
        .distinct()
    )
    refused = {}
    for case, fields in changes:
        if case.pk in rated:
            stored = {name: getattr(case, name) for name in rules.RATED_CASE_FIELDS}
            try:
                rules.rated_case_rewrite(stored, fields)
            except rules.RuleError as exc:
                refused[case.case_no] = exc
    return refused
