"""What a citizen sees and does for one case, whatever brought them (QR code, SMS link, 我的办件, app, terminal):
its rating state, the first rating, the 追评, the department's replies and a 差评's work order."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from haocha.catalogue.models import Case
from haocha.channels.links import actor_for_case
from haocha.core.errors import DomainError, InvalidInput
from haocha.evaluations import rules
from haocha.evaluations.channels import Channel, indicator_set_code
from haocha.evaluations.levels import ORDERED, Level
from haocha.evaluations.models import IndicatorSet, Rating, ReasonOption
from haocha.evaluations.policy import policy_for_region
from haocha.evaluations.rules import RatingInput
from haocha.evaluations.services import case_snapshot, rating_follow_up, rating_submit

# Channels a signed link or a citizen page may rate through.
CITIZEN_CHANNELS = frozenset({Channel.QRCODE, Channel.SMS, Channel.MOBILE, Channel.PC, Channel.TERMINAL})
LEVEL_WORDS = [(level.value, level.label) for level in ORDERED]


@dataclass
class FormSpec:
    """The channel's active indicator set as a form: indicators (overall first) and reasons per level."""

    indicator_set: IndicatorSet
    overall: str
    indicators: list  # [(code, name)] without the overall one
    reasons: dict  # level -> [(code, text)]
    reason_text: dict  # code -> text

    def groups(self, values: dict | None = None) -> list:
        """Reasons per level for a template, with what was ticked: [(level, word, [(code, text, on)])]."""
        ticked = set((values or {}).get("reasons", []))
        return [
            (level, label, [(code, text, code in ticked) for code, text in self.reasons.get(level, [])])
            for level, label in LEVEL_WORDS
        ]

    def rows(self, values: dict | None = None) -> list:
        """Sub-indicators with the level chosen for each: [(code, name, level)]."""
        chosen = (values or {}).get("indicators", {})
        return [(code, name, chosen.get(code, "")) for code, name in self.indicators]


def form_spec(channel: str) -> FormSpec:
    ind_set = IndicatorSet.objects.filter(code=indicator_set_code(channel), is_active=True).first()
    if ind_set is None:
        raise DomainError("评价指标体系尚未配置", code="indicator_set_missing", status=503)
    indicators = list(ind_set.indicators.order_by("order", "code"))
    overall = next((i.code for i in indicators if i.is_overall), "overall")
    reasons: dict = {level.value: [] for level in ORDERED}
    text = {}
    for r in ind_set.reasons.order_by("order", "code"):
        reasons.setdefault(r.level, []).append((r.code, r.text))
        text[r.code] = r.text
    return FormSpec(
        indicator_set=ind_set,
        overall=overall,
        indicators=[(i.code, i.name) for i in indicators if not i.is_overall],
        reasons=reasons,
        reason_text=text,
    )


@dataclass
class RatingForm:
    level: Level
    indicators: dict = field(default_factory=dict)
    reasons: list = field(default_factory=list)
    comment: str = ""
    key: str = ""


def form_values(post) -> dict:
    """What a submitted form held, to show it again after a refusal."""
    return {
        "level": post.get("level", ""),
        "indicators": {k[4:]: v for k, v in post.items() if k.startswith("ind_")},
        "reasons": post.getlist("reasons"),
        "comment": post.get("comment", ""),
        "key": post.get("key", ""),
    }


def parse_rating_form(post, spec: FormSpec | None = None) -> RatingForm:
    """Read a submitted rating form (plain HTML or htmx): level, optional sub-indicators, reasons, comment."""
    level = rules.level_of(level=(post.get("level") or "").strip())
    indicators = {}
    for code, _name in spec.indicators if spec else []:
        value = (post.get(f"ind_{code}") or "").strip()
        if value:
            indicators[code] = value  # read by the rule book with the level
    reasons = [r for r in post.getlist("reasons") if r]
    comment = (post.get("comment") or "").strip()
    key = (post.get("key") or "").strip()[:40]
    return RatingForm(level=level, indicators=indicators, reasons=reasons, comment=comment, key=key)


@dataclass
class CaseState:
    case: Case
    first: Rating | None
    follow_up: Rating | None
    can_rate: bool
    can_follow_up: bool
    follow_up_until: datetime | None
    not_rateable: str  # why the case cannot be rated now ('' if it can, or is rated)
    orders: list  # work orders of this case's 差评, oldest first

    @property
    def replies(self) -> list:
        return [r.reply for r in (self.first, self.follow_up) if r is not None and hasattr(r, "reply")]


def case_state(case: Case) -> CaseState:
    ratings = {
        r.kind: r
        for r in Rating.objects.filter(case=case).select_related("reply", "work_order", "indicator_set")
    }
    first = ratings.get(Rating.Kind.FIRST)
    follow_up = ratings.get(Rating.Kind.FOLLOW_UP)
    policy = policy_for_region(case.region)
    now = timezone.now()
    not_rateable = ""
    if first is None:
        try:
            rules.open_for_rating(case_snapshot(case), policy, now)
        except rules.RuleError as exc:
            not_rateable = exc.message
    until = rules.follow_up_until(first.rated_at, policy) if first else None
    orders = [
        r.work_order
        for r in (first, follow_up)
        if r is not None and getattr(r, "work_order", None) is not None
    ]
    return CaseState(
        case=case,
        first=first,
        follow_up=follow_up,
        can_rate=first is None and not not_rateable,
        can_follow_up=first is not None and follow_up is None and until is not None and now <= until,
        follow_up_until=until,
        not_rateable=not_rateable,
        orders=orders,
    )


def _input(
    channel: str, form: RatingForm, client_ip: str | None, device_id: str, key_prefix: str
) -> RatingInput:
    return RatingInput(
        channel=channel,
        level=form.level,
        indicators=form.indicators,
        reasons=form.reasons,
        comment=form.comment,
        client_ip=client_ip,
        device_id=device_id,
        # A form without its key (an old page, a bare API call) gets one: a second submission is then refused
        # as a second rating by the rule book, whatever it says.
        idempotency_key=f"{key_prefix}:{form.key or uuid.uuid4()}",
    )


def citizen_rate(
    *, case: Case, channel: str, form: RatingForm, client_ip: str | None, device_id: str = "", label: str
) -> tuple[Rating, bool]:
    """The first rating of a case by its applicant (the evaluator defaults to the case's applicant)."""
    if channel not in CITIZEN_CHANNELS:
        raise InvalidInput("该渠道不能通过此页面评价", code="channel_not_allowed")
    data = _input(channel, form, client_ip, device_id, "c")
    data.case_no = case.case_no
    return rating_submit(actor=actor_for_case(case, label=label), data=data)


def citizen_follow_up(
    *, case: Case, channel: str, form: RatingForm, client_ip: str | None, device_id: str = "", label: str
) -> tuple[Rating, bool]:
    if channel not in CITIZEN_CHANNELS:
        raise InvalidInput("该渠道不能通过此页面评价", code="channel_not_allowed")
    data = _input(channel, form, client_ip, device_id, "f")
    return rating_follow_up(actor=actor_for_case(case, label=label), case_no=case.case_no, data=data)


def reason_texts(rating: Rating) -> list[str]:
    texts = dict(ReasonOption.objects.filter(code__in=rating.reason_codes).values_list("code", "text"))
    return [texts.get(code, code) for code in rating.reason_codes]
