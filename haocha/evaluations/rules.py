"""The rating rule book: every rule a rating must pass, written once, as pure functions.

A caller (the intake behind every channel, the importer, the default-rating sweep, the flags of an appeal)
reads what a submission says into a `RatingInput`, loads a `Context` (the case as a snapshot, the policy of
its region, the active indicator set, the case's earlier ratings, and whether times are arrival times or
times recorded elsewhere) and asks `first_rating`, `follow_up` or `default_rating`. The answer is the fields
of the row to write, or `Replay(prior)` when the submission repeats one already stored; a refusal is a
`RuleError` with its stable code, HTTP status and Chinese message (the table `RULES`).

Nothing here reads or writes the database, so the same context gives the same answer on every path.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, NoReturn

from haocha.catalogue.models import ApplicantType
from haocha.core import identity
from haocha.core.errors import DomainError
from haocha.core.text import strip_invisible
from haocha.evaluations.channels import SYSTEM_ONLY_CHANNELS, Channel
from haocha.evaluations.levels import (
    BAD_LEVELS,
    Level,
    UnknownLevel,
    from_gbt39046,
    from_satisfaction,
    parse_level,
)
from haocha.evaluations.models import DEFAULT_RATING_LEVELS, Rating, RatingFlag

CLOCK_SKEW = timedelta(minutes=5)  # a sender's clock may run this much ahead
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # no rating is older
MAX_COMMENT = 1000
FIRST, FOLLOW_UP = int(Rating.Kind.FIRST), int(Rating.Kind.FOLLOW_UP)
DEFAULT_LEVELS = frozenset(DEFAULT_RATING_LEVELS)  # never a 差评: a 差评 needs the citizen's reason

# code -> (HTTP status, Chinese message; {names} are filled in by `refuse`)
RULES: dict[str, tuple[int, str]] = {
    # the level as sent
    "level_required": (422, "须提供满意度：level、satisfaction（5 非常满意 … 1 非常不满意）或 gbt_code 之一"),
    "unknown_level": (422, "无法识别的满意度等级：{value}"),
    "level_mismatch": (422, "同时提供的几种满意度表示不一致：{values}"),
    # channel and what is rated
    "unknown_channel": (422, "未知的评价渠道：{channel}"),
    "hotline_order_no_not_allowed": (422, "12345工单编号只能随12345热线渠道（hotline_12345）的评价提交"),
    "invalid_hotline_order_no": (422, "12345工单编号应为1至40位字母、数字或短横线"),
    "channel_not_allowed": (422, "系统默认评价只能由系统生成"),
    "case_or_window_required": (422, "须提供办件编号，或在“一次一评”时提供窗口编码"),
    "case_not_found": (404, "办件 {case_no} 不存在或无权访问"),
    "window_not_found": (404, "窗口 {window_code} 不存在、已停用或无权访问"),
    "visit_ratings_disabled": (409, "本地区未开通“一次一评”窗口评价，请提供办件编号"),
    "region_not_found": (404, "行政区划代码 {region_code} 不存在"),
    "region_mismatch": (422, "评价区划 {region_code} 不在 {region} 范围内"),
    "staff_not_found": (404, "工号 {staff_no} 不存在"),
    "staff_mismatch": (422, "工号 {staff_no} 不属于被评部门或窗口"),
    # who rates
    "invalid_evaluator_type": (422, "评价人类型 {type} 不在 GB/T 39046 A.4 代码表中"),
    "invalid_id_number": (422, "评价人身份证号码格式或校验位不正确"),
    "invalid_phone": (422, "评价人手机号码格式不正确"),
    "not_applicant": (403, "评价人与办件申请人不一致，“一事一评”只能由申请人本人评价"),
    "not_first_evaluator": (403, "追评只能由首次评价人提交"),
    # one rating and one 追评 per case; a repeat is a repeat only when it says the same
    "idempotency_key_reused": (422, "该幂等键已用于另一笔内容不同的评价"),
    "already_rated": (409, "该办件已评价，每笔办件只能评价一次（一事一评）"),
    "already_followed_up": (409, "该办件已追评，每笔办件只能追评一次"),
    "no_first_rating": (409, "该办件尚无首次评价，不能追评"),
    # times
    "invalid_time": (422, "评价时间不合理（早于2000年）"),
    "rated_at_in_future": (422, "评价时间晚于当前时间"),
    "case_not_finished": (409, "办件尚未办结，办结后方可评价"),
    "rated_before_finished": (422, "评价时间早于办件办结时间"),
    "rating_period_over": (409, "已超过办结后{days}天的评价期限"),
    "rated_before_first": (422, "追评时间早于首次评价时间"),
    "follow_up_window_closed": (409, "已超过首次评价后{days}天的追评期限"),
    # content
    "indicator_set_missing": (503, "评价指标体系尚未配置"),
    "unknown_indicator": (422, "指标 {code} 不属于{set_name}（v{version}）"),
    "overall_mismatch": (422, "整体满意度与分项中的整体满意度不一致"),
    "unknown_reason": (422, "评价内容选项 {code} 不存在"),
    "reason_level_mismatch": (422, "评价内容选项 {code} 与所选等级不符"),
    "comment_too_long": (422, f"文字评价不能超过{MAX_COMMENT}字"),
    "bad_rating_needs_reason": (422, "差评须选择至少一项评价内容或填写文字评价"),
    # what a rating rests on
    "case_rated": (409, "办件已评价，评价所依据的信息不能再修改：{fields}"),
    # system default ratings
    "default_level_not_allowed": (422, "默认评价等级不能是差评：{level}"),
    # correction flags (an upheld appeal is one)
    "unknown_flag": (422, "未知的标记类型：{kind}"),
    "flag_reason_required": (422, "标记须说明原因"),
    "already_invalid": (409, "该评价已是无效状态"),
    "already_valid": (409, "该评价本就有效"),
}


class RuleError(DomainError):
    """A rating refused by a rule of the book: `code`, `status` and the Chinese `message` from RULES."""

    def __init__(self, rule: str, /, details=None, **values):
        status, template = RULES[rule]
        super().__init__(template.format(**values), code=rule, status=status, details=details)


def refuse(rule: str, /, details=None, **values) -> NoReturn:
    raise RuleError(rule, details=details, **values)


# --- what a submission says --------------------------------------------------------------------------


@dataclass(slots=True)
class EvaluatorInput:
    type: str = ""
    name: str = ""
    id_number: str = ""
    phone: str = ""


@dataclass(slots=True)
class RatingInput:
    """A submission as read at its edge (API body, form, tablet, SMS reply, import line)."""

    channel: str
    level: Level
    case_no: str = ""
    window_code: str = ""
    staff_no: str = ""
    indicators: dict = field(default_factory=dict)  # indicator code -> level (a Level or its word)
    reasons: list = field(default_factory=list)
    comment: str = ""
    evaluator: EvaluatorInput | None = None
    rated_at: datetime | None = None  # None: the time it arrives
    region_code: str = ""
    client_ip: str | None = None
    device_id: str = ""
    idempotency_key: str = ""
    hotline_order_no: str = ""  # the 12345 order of a hotline rating


# --- the context a caller loads ----------------------------------------------------------------------


class Person(NamedTuple):
    """An applicant or evaluator as stored: type, name, and hash, mask and ciphertext of ID and phone."""

    type: str = ""
    name: str = ""
    id_hash: str = ""
    id_masked: str = ""
    id_enc: str = ""
    phone_hash: str = ""
    phone_masked: str = ""
    phone_enc: str = ""


NOBODY = Person()


class RegionSnapshot(NamedTuple):
    id: int
    code: str
    path: str
    name: str


class CaseSnapshot(NamedTuple):
    id: int
    case_no: str
    finished: bool  # status 已办结 with a finish time
    finished_at: datetime | None
    department_id: int
    hall_id: int | None  # the case's hall, or its window's
    window_id: int | None
    staff_id: int | None
    item_id: int
    region: RegionSnapshot
    applicant: Person


class WindowSnapshot(NamedTuple):
    id: int
    hall_id: int
    department_id: int | None
    region: RegionSnapshot  # the hall's


class StaffSnapshot(NamedTuple):
    id: int
    department_id: int | None
    window_ids: frozenset


class PriorRating(NamedTuple):
    """A rating already stored (or made earlier in the same import batch: id None until written)."""

    id: int | None
    case_id: int | None
    kind: int
    window_id: int | None
    rated_at: datetime
    evaluator: Person
    where: tuple  # (department_id, hall_id, window_id, staff_id, item_id, region_id)
    level: str
    indicator_levels: dict
    reason_codes: list
    comment: str
    channel: str
    key: str


class Replay(NamedTuple):
    """The submission repeats `prior` (same key, or no key and the same case, evaluator and content)."""

    prior: PriorRating


class Context:
    """What the rules need besides the submission. `arrival`: rating times are times of arrival (the live
    intake), so time limits count from `now`; otherwise (an import of history) from the rating's own time.
    `priors_loaded` False: the caller has not looked up earlier ratings (the intake skips that look-up when
    the unique constraints will tell), and the rules take it that there are none."""

    __slots__ = (
        "arrival",
        "case",
        "first",
        "follow_up",
        "indicator_set",
        "keyed",
        "now",
        "place",
        "policy",
        "priors_loaded",
        "staff",
        "window",
    )

    def __init__(
        self,
        *,
        now: datetime,
        arrival: bool,
        policy,
        indicator_set=None,
        case: CaseSnapshot | None = None,
        window: WindowSnapshot | None = None,
        staff: StaffSnapshot | None = None,
        place: RegionSnapshot | None = None,
        first: PriorRating | None = None,
        follow_up: PriorRating | None = None,
        keyed: PriorRating | None = None,
        priors_loaded: bool = True,
    ):
        self.now = now
        self.arrival = arrival
        self.policy = policy  # evaluations.policy.EffectivePolicy of the rated region
        self.indicator_set = indicator_set  # evaluations.policy.ActiveSet of the channel, or None
        self.case = case
        self.window = window  # the window named by the submission (visible to the submitter), or None
        self.staff = staff  # the staff member named by the submission, or None
        self.place = place  # the region named by the submission's region_code, or None
        self.first = first  # the case's first rating
        self.follow_up = follow_up  # the case's 追评
        self.keyed = keyed  # the rating stored under the submission's idempotency key (in its scope)
        self.priors_loaded = priors_loaded


# --- single rules ------------------------------------------------------------------------------------


def level_of(*, level=None, satisfaction=None, gbt_code=None) -> Level:
    """The level from whichever of its forms were sent (a meaning or word, the interface's `satisfaction`,
    GB/T 39046 A.8): at least one, and all that were sent must agree. `satisfaction` is an integer (or its
    digits as text): true/false are not levels."""
    given = []
    try:
        if level not in (None, ""):
            given.append(parse_level(level))
        if satisfaction not in (None, ""):
            if isinstance(satisfaction, bool) or not isinstance(satisfaction, int | str):
                raise UnknownLevel(satisfaction)
            given.append(from_satisfaction(satisfaction))
        if gbt_code not in (None, ""):
            given.append(from_gbt39046(gbt_code))
    except UnknownLevel as exc:
        refuse("unknown_level", value=exc)
    if not given:
        refuse("level_required")
    if any(g != given[0] for g in given):
        refuse("level_mismatch", values="、".join(g.label for g in given))
    return given[0]


def check_channel(channel: str) -> None:
    if channel not in _CHANNELS:
        refuse("unknown_channel", channel=channel)
    if channel in SYSTEM_ONLY_CHANNELS:
        refuse("channel_not_allowed")


_CHANNELS = frozenset(Channel.values)
_HOTLINE_ORDER_NO = re.compile(r"[0-9A-Za-z-]{1,40}")


def hotline_order_of(data: RatingInput) -> str:
    """The 12345 order a hotline rating names (blank: none); only the hotline channel names one."""
    value = strip_invisible(data.hotline_order_no or "").strip()
    if not value:
        return ""
    if data.channel != Channel.HOTLINE_12345:
        refuse("hotline_order_no_not_allowed")
    if not _HOTLINE_ORDER_NO.fullmatch(value):
        refuse("invalid_hotline_order_no")
    return value


def _with_hotline_order(fields: dict, hotline_no: str) -> dict:
    if hotline_no:
        fields["hotline_order_no"] = hotline_no
    return fields


_APPLICANT_TYPES = frozenset(ApplicantType.values)
_PERSON = ApplicantType.PERSON.value


def evaluator_of(given: EvaluatorInput | None, applicant: Person | None) -> Person:
    """Who rates: the case's applicant unless the submission names someone; one named must be the applicant
    (by ID number) where the case has one. The applicant's stored identity is reused, not computed again."""
    if given is None or not (given.name or given.id_number or given.phone):
        return applicant or NOBODY
    ev_type = given.type or (applicant.type if applicant else _PERSON)
    if ev_type not in _APPLICANT_TYPES:
        refuse("invalid_evaluator_type", type=ev_type)
    id_number = identity.normalise_id_number(given.id_number)
    phone = identity.normalise_phone(given.phone)
    id_hash = identity.keyed_hash("id", id_number)
    phone_hash = identity.keyed_hash("phone", phone)
    applicant = applicant or NOBODY
    # The applicant's own number and phone were checked when the case was registered.
    same_id = bool(id_hash) and id_hash == applicant.id_hash and ev_type == applicant.type
    if id_number and ev_type == _PERSON and not same_id and not identity.is_valid_resident_id(id_number):
        refuse("invalid_id_number")
    same_phone = bool(phone_hash) and phone_hash == applicant.phone_hash
    if phone and not same_phone and not identity.is_valid_phone(phone):
        refuse("invalid_phone")
    if id_hash and applicant.id_hash and id_hash != applicant.id_hash:
        refuse("not_applicant")
    if not id_hash:
        id_cols = ("", "", "")
    elif id_hash == applicant.id_hash:
        id_cols = (id_hash, applicant.id_masked, applicant.id_enc)
    else:
        id_cols = (id_hash, identity.mask_id_number(id_number), identity.encrypt(id_number))
    if not phone_hash:
        phone_cols = ("", "", "")
    elif same_phone:
        phone_cols = (phone_hash, applicant.phone_masked, applicant.phone_enc)
    else:
        phone_cols = (phone_hash, identity.mask_phone(phone), identity.encrypt(phone))
    return Person(ev_type, (given.name or "").strip()[:100], *id_cols, *phone_cols)


def rating_time(rated_at: datetime | None, now: datetime) -> datetime:
    """When the rating was given: as sent, or the time it arrives."""
    if rated_at is None:
        return now
    if rated_at < EARLIEST:  # (every edge reads a time without an offset as Beijing time)
        refuse("invalid_time")
    if rated_at > now + CLOCK_SKEW:
        refuse("rated_at_in_future")
    return rated_at


def _level(value) -> Level:
    try:
        return parse_level(value)
    except UnknownLevel as exc:
        refuse("unknown_level", value=exc)


class Content(NamedTuple):
    levels: dict  # indicator code -> level value, the overall one included
    reasons: list
    comment: str
    bad: bool  # a 差评 (overall level), as the row stores it


def content_of(data: RatingInput, aset) -> Content:
    """Indicators and reasons against the channel's active indicator set; a 差评 needs a reason or a comment
    that shows something (white space and zero-width characters are no comment)."""
    if aset is None:
        refuse("indicator_set_missing")
    level = data.level
    level_value = level.value if level.__class__ is Level else Level(level).value
    levels = {}
    for code, value in (data.indicators or {}).items():
        if code not in aset.indicator_codes:
            refuse(
                "unknown_indicator",
                code=code,
                set_name=aset.indicator_set.name,
                version=aset.indicator_set.version,
            )
        levels[code] = _level(value).value
    overall = levels.get(aset.overall_code)
    if overall is not None and overall != level:
        refuse("overall_mismatch")
    levels[aset.overall_code] = level_value
    allowed = set(levels.values())
    reasons = list(dict.fromkeys(data.reasons)) if data.reasons else []
    for code in reasons:
        reason_level = aset.reason_levels.get(code)
        if reason_level is None:
            refuse("unknown_reason", code=code)
        if reason_level not in allowed:
            refuse("reason_level_mismatch", code=code)
    comment = strip_invisible(data.comment or "")
    if len(comment) > MAX_COMMENT:
        refuse("comment_too_long")
    if not reasons and not comment and not allowed.isdisjoint(_BAD):
        refuse("bad_rating_needs_reason")
    return Content(levels, reasons, comment, level_value in _BAD)


_BAD = frozenset(level.value for level in BAD_LEVELS)


def _says_the_same(prior: PriorRating, data: RatingInput, evaluator: Person) -> bool:
    """Whether a submission says what `prior` says: channel, level, indicators, reasons, comment and who
    (its time, address and device are not compared: a resend is sent later, from wherever it is)."""
    if (
        prior.channel != data.channel
        or prior.level != data.level
        or prior.evaluator.id_hash != evaluator.id_hash
        or prior.evaluator.phone_hash != evaluator.phone_hash
        or prior.comment != strip_invisible(data.comment or "")
        or list(prior.reason_codes or ()) != list(dict.fromkeys(data.reasons or ()))
    ):
        return False
    stored = prior.indicator_levels or {}
    given = {}
    for code, value in (data.indicators or {}).items():
        try:
            given[code] = parse_level(value).value
        except UnknownLevel:
            return False
    # what was not sent is the overall level, which the row holds under the set's overall code
    return all(stored.get(code) == value for code, value in given.items()) and all(
        value == prior.level for code, value in stored.items() if code not in given
    )


def _repeat(ctx: Context, data: RatingInput, evaluator: Person, kind: int, prior: PriorRating | None):
    """Replay of an earlier submission, or a refusal because the case has this kind of rating already."""
    key = data.idempotency_key
    keyed = ctx.keyed
    if key and keyed is not None:
        case, window = ctx.case, ctx.window
        same_subject = keyed.case_id == (case.id if case else None) and (
            case is not None or (window is not None and keyed.window_id == window.id)
        )
        if not (same_subject and keyed.kind == kind and _says_the_same(keyed, data, evaluator)):
            refuse("idempotency_key_reused")
        return Replay(keyed)
    if prior is None:
        return None
    # A submission with a key of its own is another submission; one without a key repeats the earlier
    # rating if it says the same (a caller retrying without keys).
    if not key and _says_the_same(prior, data, evaluator):
        return Replay(prior)
    refuse("already_rated" if kind == FIRST else "already_followed_up")


def open_for_rating(case: CaseSnapshot, policy, at: datetime) -> None:
    """A case takes its first rating once finished and, where the policy limits it, until N days after."""
    if not case.finished:
        refuse("case_not_finished")
    days = policy.rating_window_days
    if days and at > case.finished_at + timedelta(days=days):
        refuse("rating_period_over", days=days)


def follow_up_until(first_rated_at: datetime, policy) -> datetime:
    """The end of the 追评 period: the policy's days after the first rating."""
    return first_rated_at + timedelta(days=policy.follow_up_days)


# --- whole ratings -----------------------------------------------------------------------------------

WHERE_FIELDS = ("department_id", "hall_id", "window_id", "staff_id", "item_id", "region_id")


def _fields(kind, case_id, first_id, where, content: Content, aset, channel, evaluator, rated_at) -> dict:
    department_id, hall_id, window_id, staff_id, item_id, region_id = where
    return {
        "case_id": case_id,
        "kind": kind,
        "first_rating_id": first_id,
        "department_id": department_id,
        "hall_id": hall_id,
        "window_id": window_id,
        "staff_id": staff_id,
        "item_id": item_id,
        "region_id": region_id,
        "level": content.levels[aset.overall_code],
        "is_bad": content.bad,
        "indicator_levels": content.levels,
        "reason_codes": content.reasons,
        "comment": content.comment,
        "indicator_set_id": aset.indicator_set.pk,
        "channel": channel,
        "evaluator_type": evaluator[0],
        "evaluator_name": evaluator[1],
        "evaluator_id_hash": evaluator[2],
        "evaluator_id_masked": evaluator[3],
        "evaluator_id_enc": evaluator[4],
        "evaluator_phone_hash": evaluator[5],
        "evaluator_phone_masked": evaluator[6],
        "evaluator_phone_enc": evaluator[7],
        "rated_at": rated_at,
    }


def first_rating(ctx: Context, data: RatingInput) -> dict | Replay:
    """一事一评 (a case) or 一次一评 (a window visit, no case): the fields of the row, or a Replay."""
    check_channel(data.channel)
    hotline_no = hotline_order_of(data)
    case = ctx.case
    if data.case_no:
        if case is None:
            refuse("case_not_found", case_no=data.case_no)
    elif not data.window_code:
        refuse("case_or_window_required")
    evaluator = evaluator_of(data.evaluator, case.applicant if case else None)
    replay = _repeat(ctx, data, evaluator, FIRST, ctx.first)
    if replay is not None:
        return replay
    rated_at = rating_time(data.rated_at, ctx.now)
    window = ctx.window
    if data.window_code and window is None:
        refuse("window_not_found", window_code=data.window_code)
    policy = ctx.policy
    if case is not None:
        # Live, the limit counts from arrival: a back-dated rated_at cannot reopen it.
        open_for_rating(case, policy, ctx.now if ctx.arrival else rated_at)
        if rated_at < case.finished_at - CLOCK_SKEW:
            refuse("rated_before_finished")
        region = case.region
        department_id = case.department_id
    else:
        if not policy.allow_visit_ratings:
            refuse("visit_ratings_disabled")
        region = window.region
        department_id = window.department_id
    if data.region_code and data.region_code != region.code:
        # Where the rating was made: the case's (or hall's) region or a place inside it, e.g. a street.
        place = ctx.place
        if place is None:
            refuse("region_not_found", region_code=data.region_code)
        if not place.path.startswith(region.path):
            refuse("region_mismatch", region_code=data.region_code, region=region.name)
        region = place
    if data.staff_no:
        staff = ctx.staff
        if staff is None:
            refuse("staff_not_found", staff_no=data.staff_no)
        if staff.department_id != department_id and (window is None or window.id not in staff.window_ids):
            refuse("staff_mismatch", staff_no=data.staff_no)
        staff_id = staff.id
    else:
        staff_id = case.staff_id if case else None
    content = content_of(data, ctx.indicator_set)
    if case is not None:
        where = (
            department_id,
            case.hall_id or (window.hall_id if window else None),
            window.id if window else case.window_id,
            staff_id,
            case.item_id,
            region.id,
        )
    else:
        where = (department_id, window.hall_id, window.id, staff_id, None, region.id)
    fields = _fields(
        FIRST,
        case.id if case else None,
        None,
        where,
        content,
        ctx.indicator_set,
        data.channel,
        evaluator,
        rated_at,
    )
    return _with_hotline_order(fields, hotline_no)


def follow_up(ctx: Context, data: RatingInput) -> dict | Replay:
    """追评: the one follow-up a case allows, by its first evaluator, within the policy's days after it."""
    check_channel(data.channel)
    hotline_no = hotline_order_of(data)
    case = ctx.case
    if case is None:
        refuse("case_not_found", case_no=data.case_no)
    first = ctx.first
    if first is None:
        refuse("no_first_rating")
    evaluator = evaluator_of(data.evaluator, case.applicant)
    if first.evaluator.id_hash and evaluator.id_hash and evaluator.id_hash != first.evaluator.id_hash:
        refuse("not_first_evaluator")
    if not (evaluator.id_hash or evaluator.phone_hash):
        evaluator = first.evaluator
    replay = _repeat(ctx, data, evaluator, FOLLOW_UP, ctx.follow_up)
    if replay is not None:
        return replay
    rated_at = rating_time(data.rated_at, ctx.now)
    if rated_at < first.rated_at:
        refuse("rated_before_first")
    arrived = max(rated_at, ctx.now) if ctx.arrival else rated_at
    if arrived > follow_up_until(first.rated_at, ctx.policy):
        refuse("follow_up_window_closed", days=ctx.policy.follow_up_days)
    content = content_of(data, ctx.indicator_set)
    fields = _fields(
        FOLLOW_UP,
        case.id,
        first.id,
        first.where,
        content,
        ctx.indicator_set,
        data.channel,
        evaluator,
        rated_at,
    )
    return _with_hotline_order(fields, hotline_no)


def default_rating(ctx: Context, level: str, rated_at: datetime) -> dict:
    """系统默认评价 of a finished case its applicant left unrated: the policy's level, never a 差评, in the
    applicant's name (the interface needs userName/certKey) and marked as a default."""
    if level not in DEFAULT_LEVELS:
        refuse("default_level_not_allowed", level=level)
    case = ctx.case
    if not case.finished:
        refuse("case_not_finished")
    aset = ctx.indicator_set
    if aset is None:
        refuse("indicator_set_missing")
    where = (case.department_id, case.hall_id, case.window_id, case.staff_id, case.item_id, case.region.id)
    content = Content({aset.overall_code: Level(level).value}, [], "", False)
    fields = _fields(FIRST, case.id, None, where, content, aset, Channel.DEFAULT, case.applicant, rated_at)
    fields["is_default"] = True
    return fields


# --- the rated case -----------------------------------------------------------------------------------

# What a rating rests on, by the case's field (attname), with the name a caller reads.
RATED_CASE_FIELDS = {
    "item_id": "事项",
    "department_id": "办理部门",
    "applicant_type": "申请人类型",
    "applicant_name": "申请人姓名",
    "applicant_id_hash": "申请人证件号码",
    "applicant_phone_hash": "申请人手机号码",
    "status": "办件状态",
    "finished_at": "办结时间",
}


def rated_case_rewrite(stored: dict, given: dict) -> None:
    """A rated case keeps what its ratings rest on: the item, department, applicant and the finished status
    and time; a rewrite that changes any of them is refused, naming them (other fields may change)."""
    changed = [name for name in RATED_CASE_FIELDS if name in given and given[name] != stored[name]]
    if changed:
        refuse(
            "case_rated",
            details={"fields": changed},
            fields="、".join(RATED_CASE_FIELDS[name] for name in changed),
        )


# --- correction flags --------------------------------------------------------------------------------

FLAG_KINDS = frozenset(RatingFlag.Kind.values)


def check_flag(kind: str, reason: str) -> None:
    if kind not in FLAG_KINDS:
        refuse("unknown_flag", kind=kind)
    if not strip_invisible(reason or ""):
        refuse("flag_reason_required")


def flag_change(*, kind: str, reason: str, is_valid: bool) -> dict:
    """The change a correction flag makes to a rating (never an edit of what was said): invalid, restored,
    text hidden, or a note; every flag says why."""
    check_flag(kind, reason)
    if kind == RatingFlag.Kind.INVALID:
        if not is_valid:
            refuse("already_invalid")
        return {"is_valid": False, "invalid_reason": strip_invisible(reason)[:255]}
    if kind == RatingFlag.Kind.RESTORE:
        if is_valid:
            refuse("already_valid")
        return {"is_valid": True, "invalid_reason": ""}
    if kind == RatingFlag.Kind.HIDE_TEXT:
        return {"is_hidden": True}
    return {}
