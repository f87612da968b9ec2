"""A 差评 becomes a work order, pushed to 12345 for 核实; a 追评 差评 joins its case's open order, or reopens a
finished one at 12345 核实 in a new cycle."""

from collections.abc import Callable
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.accounts.models import Role
from haocha.core import clock
from haocha.core.rawrows import insert_new
from haocha.evaluations.levels import BAD_LEVELS
from haocha.evaluations.models import Rating
from haocha.workorders import machine
from haocha.workorders.access import order_org
from haocha.workorders.clocks import new_cycle
from haocha.workorders.models import Status, Transition, WorkOrder
from haocha.workorders.notifications import notify
from haocha.workorders.policy import OrderPolicy, order_policy
from haocha.workorders.repeats import check_repeats

OPERATOR_ROLES = (Role.OPERATOR_12345,)


def order_number(rating: Rating, now: datetime) -> str:
    return f"HCP{timezone.localtime(now):%Y%m%d}{rating.pk:09d}"


# Who handles a 差评 when it is not this system: docking registers a function that names the lower-level
# system (its ApiClient) a case came from. Such a 差评's order is created here read-only (handled_by) and
# sent down; that system's machine handles it and reports back.
_REMOTE_HANDLERS: list[Callable[[Rating], object | None]] = []


def on_remote_handler(fn: Callable[[Rating], object | None]) -> None:
    if fn not in _REMOTE_HANDLERS:
        _REMOTE_HANDLERS.append(fn)


def remote_handler(rating: Rating):
    for fn in _REMOTE_HANDLERS:
        client = fn(rating)
        if client is not None:
            return client
    return None


# Who verifies and dispatches a 差评's order when the region's 12345 runs its own platform: the hotline12345
# integration registers a function that names that platform (its ApiClient). The order is made here as
# usual, marked with the platform; its 12345 steps arrive by the platform's callbacks (machine.OnPlatform).
_PLATFORMS: list[Callable[[Rating], object | None]] = []


def on_platform(fn: Callable[[Rating], object | None]) -> None:
    if fn not in _PLATFORMS:
        _PLATFORMS.append(fn)


def platform_for(rating: Rating):
    for fn in _PLATFORMS:
        client = fn(rating)
        if client is not None:
            return client
    return None


def same_matter(hotline_order_no: str, source_id: int | None) -> WorkOrder | None:
    """The work order a 12345 order number names: one the sender (an external platform) took in under that
    number — another city's platform may use the same numbers — or, the built-in workbench, this system's own
    order number."""
    return (
        WorkOrder.objects.filter(
            Q(platform_id=source_id, platform_number=hotline_order_no)
            | Q(platform__isnull=True, number=hotline_order_no)
        )
        .exclude(status=Status.MERGED)
        .select_related("rating", "region")
        .order_by("-pk")
        .first()
    )


def may_name(order: WorkOrder, rating: Rating, actor: Actor) -> bool:
    """Who may say a rating is about an order: the order's external platform (its own key), or — the built-in
    workbench — a calling system serving the order's organisation. Anyone else's number is not taken."""
    if order.platform_id:
        return rating.source_id == order.platform_id
    return actor.client is not None and actor.can_see_org(order_org(order))


def _bad_indicator(rating: Rating) -> bool:
    return any(v in BAD_LEVELS for v in (rating.indicator_levels or {}).values())


def may_have_order(rating: Rating) -> bool:
    """Cheap, without the policy: could this rating have a work order? (A 差评, or a bad indicator, which
    makes one where the policy says bad_on_any_indicator.) Hooks that run on every rating ask this first."""
    return rating.level in BAD_LEVELS or _bad_indicator(rating)


def wants_work_order(rating: Rating, policy: OrderPolicy) -> bool:
    return rating.level in BAD_LEVELS or (policy.bad_on_any_indicator and _bad_indicator(rating))


def reopen_changes(order: WorkOrder) -> dict:
    """An order over (办结, or 核实无效) taken up again: a new cycle that starts at 12345 核实, as a new
    order would; its clocks start when it is assigned again."""
    return {
        **new_cycle(order, start=None),
        "reopen_count": order.reopen_count + 1,
        "verified_at": None,
        "assigned_at": None,
        "accepted_at": None,
        "closed_at": None,
        "invalid_reason": "",
        "invalid_note": "",
        "on_the_spot": False,
        "callback_token_used": False,
    }


def work_order_for_rating(*, rating: Rating, actor: Actor) -> WorkOrder | None:
    """Called by the rating intake inside its transaction: a 差评 becomes (or reopens) a work order."""
    policy = order_policy(rating.region)
    if not wants_work_order(rating, policy):
        return None
    now = rating.received_at or clock.now()
    system = Actor(label="系统")
    if rating.hotline_order_no:
        same = same_matter(rating.hotline_order_no, rating.source_id)
        if same is not None and may_name(same, rating, actor):  # the call's 12345 order is one here already
            if not same.is_open or same.handled_by_id:
                return None
            note = f"12345热线评价（12345工单 {rating.hotline_order_no}）：{rating.comment or '（无文字）'}"
            data = {"rating": str(rating.public_id), "hotline_order_no": rating.hotline_order_no}
            return machine.move(same, "follow_up", actor=system, now=now, note=note, data=data)
    if rating.kind == Rating.Kind.FOLLOW_UP and rating.case_id:
        existing = (
            WorkOrder.objects.filter(case_id=rating.case_id)
            .exclude(status=Status.MERGED)
            .select_related("rating", "region")
            .order_by("-pk")
            .first()
        )
        if existing is not None and existing.handled_by_id:
            return None  # handled by the lower-level system the case came from: sent down to it (docking)
        if existing is not None:
            note = f"追评差评：{rating.comment or '（无文字）'}"
            data = {"rating": str(rating.public_id)}
            if existing.is_open:
                return machine.move(existing, "follow_up", actor=system, now=now, note=note, data=data)
            order = machine.move(
                existing,
                "reopen",
                actor=system,
                to=Status.PENDING_VERIFY,
                now=now,
                note=note,
                data=data,
                changes=reopen_changes(existing),
            )
            if order.platform_id:
                return order  # sent to the platform again (hotline12345), which verifies it there
            notify(
                order,
                key=f"reopen{order.reopen_count}",
                title=f"工单 {order.number} 因追评差评重新办理，待核实",
                body=note,
                org_ids=[order_org(order)],
                roles=OPERATOR_ROLES,
            )
            return order
    department_id = rating.department_id or rating.hall_id
    # A 差评 about a lower-level system's case: kept here read-only (handled_by), handled down there.
    remote = remote_handler(rating)
    platform = None if remote is not None else platform_for(rating)
    # Written with insert_new (core/rawrows.py): this runs inside the intake's write transaction, and
    # the ORM's statement compiling was most of the time a 差评 held the database's write lock.
    order = WorkOrder(
        number=order_number(rating, now),
        rating=rating,
        case_id=rating.case_id,
        region_id=rating.case.region_id if rating.case_id else rating.region_id,  # the case's deadlines
        department_id=department_id,
        status=Status.PENDING_VERIFY,
        received_at=now,
        summary=rating.comment or "",
        handled_by=remote,
        platform=platform,
        # A hotline rating on a 12345 order haocha has not seen: that order is this one (no push needed).
        platform_number=rating.hotline_order_no
        if platform is not None and rating.source_id == platform.pk
        else "",
    )
    insert_new(order)
    transition = Transition(
        order=order,
        action="create",
        from_status="",
        to_status=Status.PENDING_VERIFY,
        actor_label="系统",
        at=now,
        note=f"差评涉及下级系统（{remote.name}）的办件，下发至该系统按其处置规则办理"
        if remote is not None
        else f"12345热线差评（12345工单 {rating.hotline_order_no}），由12345平台（{platform.name}）办理"
        if platform is not None and rating.hotline_order_no
        else f"差评自动生成工单，推送12345平台（{platform.name}）核实交办"
        if platform is not None
        else "差评自动生成工单，推送12345",
        data={"rating": str(rating.public_id), "level": rating.level},
    )
    insert_new(transition)
    if remote is not None:
        return order  # its 12345 verifies it and its repeats are counted there
    if platform is not None:
        check_repeats(order, rating, policy, now)
        return order  # pushed to the platform (hotline12345), whose operators verify it there
    notify(
        order,
        key="new",
        title=f"新差评工单 {order.number} 待核实",
        body=order.summary,
        org_ids=[department_id],
        roles=OPERATOR_ROLES,
    )
    check_repeats(order, rating, policy, now)
    return order
