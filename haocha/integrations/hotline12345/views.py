"""The 12345 page: per platform the push states, and what needs a look — orders not yet pushed or stuck
(with 重新推送), callbacks waiting for an earlier one or that could not be applied. Each user sees the orders
they may see (workorders.access)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from haocha.accounts.menu import check_page, page_view
from haocha.integrations.hotline12345 import push as pushing
from haocha.integrations.hotline12345 import selectors
from haocha.integrations.hotline12345.models import PlatformEvent
from haocha.workorders.access import work_orders_visible_to

E = PlatformEvent.State
LIST = 50


@page_view("hotline12345")
def index(request):
    actor = check_page(request, "hotline12345")
    visible = None if actor.all_access else work_orders_visible_to(actor).values("pk")
    pushes = selectors.pushes_of(visible).select_related("order", "platform")
    events = selectors.events_of(visible).filter(state__in=(E.WAITING, E.FAILED)).select_related("order")
    return render(
        request,
        "hotline12345/index.html",
        {
            "platforms": selectors.platform_summary(visible),
            "problems": list(pushes.filter(selectors.NEEDS_LOOK).order_by("-queued_at")[:LIST]),
            "events": list(events.order_by("-received_at")[:LIST]),
            "recent": list(pushes.order_by("-queued_at")[:LIST]),
        },
    )


@require_POST
@page_view("hotline12345")
def requeue(request):
    actor = check_page(request, "hotline12345")
    ids = [int(v) for v in request.POST.getlist("id") if v.isascii() and v.isdigit() and len(v) < 12]
    visible = work_orders_visible_to(actor).values("pk")
    rows = selectors.pushes_of(visible).filter(pk__in=ids).filter(selectors.NEEDS_LOOK)
    n = 0
    for push in rows:
        pushing.requeue(push)
        n += 1
    if n:
        messages.success(request, f"已重新排队 {n} 张工单，后台任务将立即推送")
    else:
        messages.error(request, "请选择待推送或推送失败的工单")
    return redirect("hotline12345:index")
