"""The one rating intake every channel uses, plus 追评, replies and correction flags (identity reveal:
evaluations/disclosure.py)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.accounts.models import ApiClient, Role
from haocha.catalogue.models import ApplicantType, Case
from haocha.catalogue.selectors import get_case_for_actor, get_case_for_rating
from haocha.core import identity
from haocha.core.audit import audit_record
from haocha.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from haocha.core.models import AuditLog
from haocha.core.rawrows import insert_new
from haocha.evaluations import access
from haocha.evaluations.channels import (
    STAFF_RECORDED_CHANNELS,
    SYSTEM_ONLY_CHANNELS,
    Channel,
    indicator_set_code,
)
from haocha.evaluations.levels import Level, is_bad
from haocha.evaluations.models import Rating, RatingFlag, RatingReply
from haocha.evaluations.policy import active_set, policy_for_region
from haocha.organisations.models import Region, Staff, Window
from haocha.workorders.creation import work_order_for_rating

CLOCK_SKEW = timedelta(minutes=5)
MAX_COMMENT = 1000
RECORDING_ROLES = (Role.OPERATOR_12345, Role.SUPERVISOR)


@dataclass
class EvaluatorInput:
    type: str = ""
    name: str = ""
    id_number: str = ""
    phone: str = ""


@dataclass
class RatingInput:
    channel: str
    level: Level
    case_no: str = ""
    window_code: str = ""
    staff_no: str = ""
    indicators: dict = field(default_factory=dict)
    reasons: list = field(default_factory=list)
    comment: str = ""
    evaluator: EvaluatorInput | None = None
    rated_at: datetime | None = None
    region_code: str = ""
    client_ip: str | None = None
    device_id: str = ""
    idempotency_key: str = ""


@dataclass
class _Evaluator:
    type: str = ""
    name: str = ""
    id_hash: str = ""
    id_masked: str = ""
    id_enc: str = ""
    phone_hash: str = ""
    phone_masked: str = ""
    phone_enc: str = ""

    @property
    def key(self) -> str:
        return self.id_hash or self.phone_hash


_CHANNELS = frozenset(Channel.values)  # Channel.values builds a new list at every use


def _check_may_submit(actor: Actor, channel: str) -> None:
    if channel not in _CHANNELS:
        raise InvalidInput(f"未知的评价渠道：{channel}", code="unknown_channel")
    if channel in SYSTEM_ONLY_CHANNELS:
        raise InvalidInput("系统默认评价只能由系统生成", code="channel_not_allowed")
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


def _evaluator_from(data: EvaluatorInput | None, case: Case | None) -> _Evaluator:
    if data is None or not (data.name or data.id_number or data.phone):
        if case is None:
            return _Evaluator()
        return _Evaluator(
            type=case.applicant_type,
            name=case.applicant_name,
            id_hash=case.applicant_id_hash,
            id_masked=case.applicant_id_masked,
            id_enc=case.applicant_id_enc,
            phone_hash=case.applicant_phone_hash,
            phone_masked=case.applicant_phone_masked,
            phone_enc=case.applicant_phone_enc,
        )
    ev_type = data.type or (case.applicant_type if case else ApplicantType.PERSON)
    if ev_type not in ApplicantType.values:
        raise InvalidInput(
            f"评价人类型 {ev_type} 不在 GB/T 39046 A.4 代码表中", code="invalid_evaluator_type"
        )
    if (
        data.id_number
        and ev_type == ApplicantType.PERSON
        and not identity.is_valid_resident_id(data.id_number)
    ):
        raise InvalidInput("评价人身份证号码格式或校验位不正确", code="invalid_id_number")
    if data.phone and not identity.is_valid_phone(data.phone):
        raise InvalidInput("评价人手机号码格式不正确", code="invalid_phone")
    ident = identity.Identity(name=data.name, id_number=data.id_number, phone=data.phone)
    evaluator = _Evaluator(
        type=ev_type,
        name=ident.name[:100],
        id_hash=ident.id_hash,
        id_masked=ident.id_masked,
        id_enc=ident.id_enc,
        phone_hash=ident.phone_hash,
        phone_masked=ident.phone_masked,
        phone_enc=ident.phone_enc,
    )
    if (
        case is not None
        and case.applicant_id_hash
        and evaluator.id_hash
        and evaluator.id_hash != case.applicant_id_hash
    ):
        raise Forbidden("评价人与办件申请人不一致，“一事一评”只能由申请人本人评价", code="not_applicant")
    return evaluator


def _validate_content(data: RatingInput, channel: str) -> tuple:
    """Check indicators and reasons against the channel's active set; return (set, indicator levels)."""
    aset = active_set(indicator_set_code(channel))
    if aset is None:
        raise DomainError("评价指标体系尚未配置", code="indicator_set_missing", status=503)
    levels = {}
    for code, value in (data.indicators or {}).items():
        if code not in aset.indicator_codes:
            raise InvalidInput(
                f"指标 {code} 不属于{aset.indicator_set.name}（v{aset.indicator_set.version}）",
                code="unknown_indicator",
            )
        levels[code] = Level(value)
    overall = levels.get(aset.overall_code)
    if overall is not None and overall != data.level:
        raise InvalidInput("整体满意度与分项中的整体满意度不一致", code="overall_mismatch")
    levels[aset.overall_code] = data.level
    allowed_levels = set(levels.values())
    reasons = list(dict.fromkeys(data.reasons or []))
    for code in reasons:
        reason_level = aset.reason_levels.get(code)
        if reason_level is None:
            raise InvalidInput(f"评价内容选项 {code} 不存在", code="unknown_reason")
        if reason_level not in allowed_levels:
            raise InvalidInput(f"评价内容选项 {code} 与所选等级不符", code="reason_level_mismatch")
    comment = (data.comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"文字评价不能超过{MAX_COMMENT}字", code="comment_too_long")
    bad = is_bad(data.level) or any(is_bad(v) for v in levels.values())
    if bad and not reasons and not comment:
        raise InvalidInput("差评须选择至少一项评价内容或填写文字评价", code="bad_rating_needs_reason")
    return aset, {k: str(v) for k, v in levels.items()}, reasons, comment


def _rated_at(data: RatingInput, now: datetime) -> datetime:
    rated_at = data.rated_at or now
    if timezone.is_naive(rated_at):
        raise InvalidInput("评价时间须带时区", code="naive_datetime")
    if rated_at.year < 2000:
        raise InvalidInput("评价时间不合理", code="invalid_time")
    if rated_at > now + CLOCK_SKEW:
        raise InvalidInput("评价时间晚于当前时间", code="rated_at_in_future")
    return rated_at


def _find_replay(
    actor: Actor, key: str, case: Case | None, kind: int, evaluator: _Evaluator
) -> Rating | None:
    """An earlier rating this submission repeats (same idempotency key, or same case, kind and evaluator)."""
    if key:
        # The unique index is partial (WHERE NOT key = ''): repeat its condition so SQLite can use it
        # (without it this is a full scan of the ratings table); a unique key needs no ORDER BY.
        existing = next(
            iter(
                Rating.objects.filter(idempotency_scope=actor.idempotency_scope, idempotency_key=key)
                .exclude(idempotency_key="")
                .order_by()[:1]
            ),
            None,
        )
        if existing is not None:
            if (case is not None and existing.case_id != case.pk) or existing.kind != kind:
                raise Conflict("该幂等键已用于另一笔评价", code="idempotency_key_reused")
            return existing
    if case is not None:
        existing = next(iter(Rating.objects.filter(case=case, kind=kind).order_by()[:1]), None)
        if existing is not None:
            if (
                existing.evaluator_id_hash == evaluator.id_hash
                and existing.evaluator_phone_hash == evaluator.phone_hash
            ):
                return existing
            if kind == Rating.Kind.FIRST:
                raise Conflict("该办件已评价，每笔办件只能评价一次（一事一评）", code="already_rated")
            raise Conflict("该办件已追评，每笔办件只能追评一次", code="already_followed_up")
    return None


def _insert(actor: Actor, key: str, case: Case | None, kind: int, evaluator: _Evaluator, fields: dict):
    rating = Rating(**fields)
    try:
        with transaction.atomic():
            insert_new(rating)
            work_order_for_rating(
                rating=rating, actor=actor
            )  # a 差评 becomes a work order in this transaction
        return rating, True
    except IntegrityError:
        existing = _find_replay(actor, key, case, kind, evaluator)
        if existing is None:
            raise
        return existing, False


def rating_submit(*, actor: Actor, data: RatingInput) -> tuple[Rating, bool]:
    """Accept a first rating from any channel. Returns (rating, created); a retry returns the original."""
    _check_may_submit(actor, data.channel)
    now = timezone.now()
    key = (data.idempotency_key or "").strip()[:64]
    case = None
    if data.case_no:
        case = get_case_for_rating(actor, data.case_no)
        access.check_may_record(actor, case.department_id, case.hall_id)
    elif not data.window_code:
        raise InvalidInput("须提供办件编号，或在“一次一评”时提供窗口编码", code="case_or_window_required")
    evaluator = _evaluator_from(data.evaluator, case)
    # No look-up for a repeat before the insert (one query less per rating): the unique constraints
    # catch it and _insert answers with the original. A repeat that a check would now refuse (say the
    # rating period has closed since) still gets the original, looked up on that rare path only.
    try:
        fields = _first_rating_fields(actor, data, case, evaluator, key, now)
    except DomainError:
        replay = _find_replay(actor, key, case, Rating.Kind.FIRST, evaluator)
        if replay is not None:
            return replay, False
        raise
    return _insert(actor, key, case, Rating.Kind.FIRST, evaluator, fields)


def _first_rating_fields(
    actor: Actor, data: RatingInput, case: Case | None, evaluator: _Evaluator, key: str, now: datetime
) -> dict:
    window = None
    if data.window_code:
        window = (
            Window.objects.select_related("hall__region")
            .filter(code=data.window_code, is_active=True)
            .first()
        )
        if window is None or not (
            actor.can_see_org(window.hall_id) or actor.can_see_org(window.department_id)
        ):
            raise NotFound(f"窗口 {data.window_code} 不存在或无权访问", code="window_not_found")
        access.check_may_record(actor, window.department_id, window.hall_id)
    elif case is not None:
        window = case.window
    region = case.region if case is not None else window.hall.region
    policy = policy_for_region(region)
    if data.region_code and data.region_code != region.code:
        # Where the rating was made: the case's (or hall's) region or a place inside it, e.g. a street.
        inner = Region.objects.filter(code=data.region_code).first()
        if inner is None:
            raise NotFound(f"行政区划代码 {data.region_code} 不存在", code="region_not_found")
        if not inner.path.startswith(region.path):
            raise InvalidInput(
                f"评价区划 {data.region_code} 不在 {region.name} 范围内", code="region_mismatch"
            )
        region = inner
    rated_at = _rated_at(data, now)
    if case is not None:
        if not case.is_finished:
            raise Conflict("办件尚未办结，办结后方可评价", code="case_not_finished")
        if rated_at < case.finished_at - CLOCK_SKEW:
            raise InvalidInput("评价时间早于办件办结时间", code="rated_before_finished")
        # Time limits count from when the rating arrives: a back-dated rated_at cannot reopen them.
        if policy.rating_window_days and now > case.finished_at + timedelta(days=policy.rating_window_days):
            raise Conflict(f"已超过办结后{policy.rating_window_days}天的评价期限", code="rating_period_over")
    elif not policy.allow_visit_ratings:
        raise Conflict("本地区未开通“一次一评”窗口评价，请提供办件编号", code="visit_ratings_disabled")

    staff = None
    if data.staff_no:
        staff = Staff.objects.filter(staff_no=data.staff_no).first()
        if staff is None:
            raise NotFound(f"工号 {data.staff_no} 不存在", code="staff_not_found")
        department_id = case.department_id if case else window.department_id
        serves_window = window is not None and staff.windows.filter(pk=window.pk).exists()
        if staff.department_id != department_id and not serves_window:
            raise InvalidInput(f"工号 {data.staff_no} 不属于被评部门或窗口", code="staff_mismatch")
    elif case is not None:
        staff = case.staff
    aset, levels, reasons, comment = _validate_content(data, data.channel)

    fields = dict(
        case=case,
        kind=Rating.Kind.FIRST,
        department_id=case.department_id if case else window.department_id,
        hall_id=case.hall_id if case and case.hall_id else (window.hall_id if window else None),
        window=window,
        staff=staff,
        item_id=case.item_id if case else None,
        region=region,
        level=data.level,
        is_bad=is_bad(data.level),
        indicator_levels=levels,
        reason_codes=reasons,
        comment=comment,
        indicator_set=aset.indicator_set,
        channel=data.channel,
        **_evaluator_fields(evaluator),
        rated_at=rated_at,
        client_ip=data.client_ip or None,
        device_id=(data.device_id or "")[:64],
        source=actor.client,
        recorded_by=actor.user,
        idempotency_scope=actor.idempotency_scope,
        idempotency_key=key,
    )
    return fields


def _evaluator_fields(ev: _Evaluator) -> dict:
    return dict(
        evaluator_type=ev.type,
        evaluator_name=ev.name,
        evaluator_id_hash=ev.id_hash,
        evaluator_id_masked=ev.id_masked,
        evaluator_id_enc=ev.id_enc,
        evaluator_phone_hash=ev.phone_hash,
        evaluator_phone_masked=ev.phone_masked,
        evaluator_phone_enc=ev.phone_enc,
    )


def rating_follow_up(*, actor: Actor, case_no: str, data: RatingInput) -> tuple[Rating, bool]:
    """追评: the one follow-up rating a case allows, within the policy window after the first rating."""
    _check_may_submit(actor, data.channel)
    now = timezone.now()
    key = (data.idempotency_key or "").strip()[:64]
    case = get_case_for_actor(actor, case_no)
    access.check_may_record(actor, case.department_id, case.hall_id)
    first = Rating.objects.filter(case=case, kind=Rating.Kind.FIRST).first()
    if first is None:
        raise Conflict("该办件尚无首次评价，不能追评", code="no_first_rating")
    evaluator = _evaluator_from(data.evaluator, case)
    if first.evaluator_id_hash and evaluator.id_hash and evaluator.id_hash != first.evaluator_id_hash:
        raise Forbidden("追评只能由首次评价人提交", code="not_first_evaluator")
    if not evaluator.key:
        evaluator = _Evaluator(
            type=first.evaluator_type,
            name=first.evaluator_name,
            id_hash=first.evaluator_id_hash,
            id_masked=first.evaluator_id_masked,
            id_enc=first.evaluator_id_enc,
            phone_hash=first.evaluator_phone_hash,
            phone_masked=first.evaluator_phone_masked,
            phone_enc=first.evaluator_phone_enc,
        )
    replay = _find_replay(actor, key, case, Rating.Kind.FOLLOW_UP, evaluator)
    if replay is not None:
        return replay, False
    policy = policy_for_region(case.region)
    rated_at = _rated_at(data, now)
    if rated_at < first.rated_at:
        raise InvalidInput("追评时间早于首次评价时间", code="rated_before_first")
    if max(rated_at, now) > first.rated_at + timedelta(days=policy.follow_up_days):
        raise Conflict(f"已超过首次评价后{policy.follow_up_days}天的追评期限", code="follow_up_window_closed")
    aset, levels, reasons, comment = _validate_content(data, data.channel)
    fields = dict(
        case=case,
        kind=Rating.Kind.FOLLOW_UP,
        first_rating=first,
        department_id=first.department_id,
        hall_id=first.hall_id,
        window_id=first.window_id,
        staff_id=first.staff_id,
        item_id=first.item_id,
        region_id=first.region_id,
        level=data.level,
        is_bad=is_bad(data.level),
        indicator_levels=levels,
        reason_codes=reasons,
        comment=comment,
        indicator_set=aset.indicator_set,
        channel=data.channel,
        **_evaluator_fields(evaluator),
        rated_at=rated_at,
        client_ip=data.client_ip or None,
        device_id=(data.device_id or "")[:64],
        source=actor.client,
        recorded_by=actor.user,
        idempotency_scope=actor.idempotency_scope,
        idempotency_key=key,
    )
    return _insert(actor, key, case, Rating.Kind.FOLLOW_UP, evaluator, fields)


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
    reason = (reason or "").strip()
    if kind not in RatingFlag.Kind.values:
        raise InvalidInput(f"未知的标记类型：{kind}", code="unknown_flag")
    if not reason:
        raise InvalidInput("标记须说明原因", code="flag_reason_required")
    access.check(actor, access.FLAG, rating)
    with transaction.atomic():
        if kind == RatingFlag.Kind.INVALID:
            changed = Rating.objects.filter(pk=rating.pk, is_valid=True).update(
                is_valid=False, invalid_reason=reason[:255]
            )
            if not changed:
                raise Conflict("该评价已是无效状态", code="already_invalid")
        elif kind == RatingFlag.Kind.RESTORE:
            changed = Rating.objects.filter(pk=rating.pk, is_valid=False).update(
                is_valid=True, invalid_reason=""
            )
            if not changed:
                raise Conflict("该评价本就有效", code="already_valid")
        elif kind == RatingFlag.Kind.HIDE_TEXT:
            Rating.objects.filter(pk=rating.pk).update(is_hidden=True)
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
