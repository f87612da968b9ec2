"""The clerk's own screen: sign in and out of a window, set the case being served, see that a rating
arrived (never which button was pressed)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from haocha.accounts.access import actor_for_user
from haocha.channels import duty
from haocha.channels.models import Device, ServedCase
from haocha.core.errors import DomainError, InvalidInput
from haocha.evaluations.models import Rating

FEED_SIZE = 8


def _context(request, staff, error=None):
    on_duty = duty.current_duty(staff)
    context = {
        "staff": staff,
        "on_duty": on_duty,
        "windows": staff.windows.filter(is_active=True).select_related("hall").order_by("hall_id", "number"),
        "error": error,
        "title": "窗口上岗",
    }
    if on_duty is not None:
        window = on_duty.window
        context.update(
            served=duty.served_now(window),
            tablet=Device.objects.filter(window=window, kind=Device.Kind.TABLET, is_active=True).first(),
            feed=_feed(on_duty),
        )
    return context


def _feed(on_duty) -> list:
    """When ratings of this window arrived during this duty: times only, no level, no channel."""
    return list(
        Rating.objects.filter(window=on_duty.window, received_at__gte=on_duty.started_at)
        .order_by("-received_at")
        .values_list("received_at", flat=True)[:FEED_SIZE]
    )


@login_required
def desk(request):
    staff = duty.staff_for_user(request.user)
    return render(request, "channels/desk.html", _context(request, staff))


@login_required
def desk_feed(request):
    staff = duty.staff_for_user(request.user)
    on_duty = duty.current_duty(staff)
    return render(
        request, "channels/_desk_feed.html", {"feed": _feed(on_duty) if on_duty else [], "on_duty": on_duty}
    )


def _act(request, fn):
    staff = duty.staff_for_user(request.user)
    try:
        fn(staff)
    except DomainError as exc:
        return render(
            request, "channels/desk.html", _context(request, staff, error=exc.message), status=exc.status
        )
    return redirect("channels:desk")


@login_required
@require_POST
def desk_duty(request):
    label = request.user.get_username()

    def act(staff):
        if request.POST.get("action") == "end":
            duty.duty_end(staff=staff, label=label)
            return
        window = staff.windows.filter(code=request.POST.get("window", ""), is_active=True).first()
        if window is None:
            raise InvalidInput("请选择您服务的窗口", code="window_required")
        duty.duty_start(staff=staff, window=window, label=label)

    return _act(request, act)


@login_required
@require_POST
def desk_serving(request):
    actor = actor_for_user(request.user)

    def act(staff):
        on_duty = duty.current_duty(staff)
        if on_duty is None:
            raise InvalidInput("请先上岗再设置在办办件", code="not_on_duty")
        if request.POST.get("action") == "clear":
            duty.served_clear(window=on_duty.window)
            return
        case_no = (request.POST.get("case_no") or "").strip()
        if not case_no:
            raise InvalidInput("请输入办件编号", code="case_no_required")
        duty.served_set(actor=actor, window=on_duty.window, case_no=case_no, source=ServedCase.Source.CLERK)

    return _act(request, act)
