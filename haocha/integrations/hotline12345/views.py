"""The 12345 page: per platform the push states, and what needs a look — orders not yet pushed or stuck
(with 重新推送), callbacks waiting for an earlier one or that could not be applied. Each user sees the orders
they may see (workorders.access)."""

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from haocha.accounts.menu import check_page, page_view
from haocha.integrations.hotline12345 import push as pushing
from haocha.integrations.hotline12345.models import HotlinePlatform, PlatformEvent, PlatformOrder
from haocha.workorders.access import work_orders_visible_to

S = PlatformOrder.State
E = PlatformEvent.State
LIST = 50


@page_view("hotline12345")
def index(request):
    actor = check_page(request, "hotline12345")
    visible = work_orders_visible_to(actor).values("pk")
    pushes = PlatformOrder.objects.filter(order__in=visible)
    platforms = []
    shown = HotlinePlatform.objects.select_related("region").order_by("region__code")
    if not actor.all_access:  # a platform with none of the user's orders is not theirs to see
        shown = shown.filter(orders__in=pushes).distinct()
    for platform in shown:
        mine = pushes.filter(platform=platform)
        platforms.append(
            {
                "platform": platform,
                "states": [(label, mine.filter(state=state).count()) for state, label in S.choices],
                "waiting": PlatformEvent.objects.filter(
                    order__in=visible, platform=platform, state=E.WAITING
                ).count(),
                "failed": PlatformEvent.objects.filter(
                    order__in=visible, platform=platform, state=E.FAILED
                ).count(),
            }
        )
    problems = pushes.filter(Q(state__in=(S.QUEUED, S.STUCK)) | ~Q(last_error="")).select_related(
        "order", "platform"
    )
    events = PlatformEvent.objects.filter(order__in=visible, state__in=(E.WAITING, E.FAILED)).select_related(
        "order"
    )
    recent = pushes.select_related("order", "platform").order_by("-queued_at")[:LIST]
    return render(
        request,
        "hotline12345/index.html",
        {
            "platforms": platforms,
            "problems": list(problems.order_by("-queued_at")[:LIST]),
            "events": list(events.order_by("-received_at")[:LIST]),
            "recent": list(recent),
        },
    )


@require_POST
@page_view("hotline12345")
def requeue(request):
    actor = check_page(request, "hotline12345")
    ids = [int(v) for v in request.POST.getlist("id") if v.isascii() and v.isdigit() and len(v) < 12]
    rows = PlatformOrder.objects.filter(
        pk__in=ids, order__in=work_orders_visible_to(actor).values("pk")
    ).filter(Q(state__in=(S.QUEUED, S.STUCK)) | ~Q(last_error=""))
    n = 0
    for push in rows:
        pushing.requeue(push)
        n += 1
    if n:
        messages.success(request, f"已重新排队 {n} 张工单，后台任务将立即推送")
    else:
        messages.error(request, "请选择待推送或推送失败的工单")
    return redirect("hotline12345:index")
