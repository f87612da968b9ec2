"""The docking page: what this system owes its parent (with 重新上报 of refused records), and the monitor of
every child system (全数据监测) with a page per child."""

import orjson
from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from haocha.accounts.menu import check_page, page_view
from haocha.accounts.models import Role, RoleAssignment
from haocha.core.errors import DomainError, Forbidden, NotFound
from haocha.integrations.docking import monitor, upload
from haocha.integrations.docking.client import configured
from haocha.integrations.docking.models import RecordKind, Upload

S = Upload.Status
LIST = 50


def _upload_state() -> dict:
    counts = {
        (k, s): n
        for k, s, n in Upload.objects.values_list("kind", "status").annotate(n=Count("pk")).order_by()
    }
    rows = [
        {"label": label, "cells": [counts.get((kind, status), 0) for status, _ in S.choices]}
        for kind, label in RecordKind.choices
    ]
    problems = Upload.objects.filter(status__in=(S.REJECTED, S.RETRYING)).exclude(reject_code="superseded")
    return {
        "configured": configured(),
        "parent_url": settings.HAOCHA_PARENT_URL,
        "app_id": settings.HAOCHA_PARENT_APP_ID,
        "statuses": [label for _, label in S.choices],
        "rows": rows,
        "problems": list(problems.order_by("-pk")[:LIST]),
        "problem_count": problems.count(),
        "rejected_count": Upload.objects.filter(status=S.REJECTED).exclude(reject_code="superseded").count(),
    }


def manages_upload(request, actor) -> bool:
    """This system's own uploads (every record it owes its parent) are for its administrators and the
    supervisors of its whole region (HAOCHA_REGION_CODE), not for one department's or district's."""
    if actor.all_access:
        return True
    return RoleAssignment.objects.filter(
        user=request.user, role=Role.SUPERVISOR, region__code=settings.HAOCHA_REGION_CODE
    ).exists()


@page_view("docking")
def index(request):
    actor = check_page(request, "docking")
    children = [monitor.child_figures(child) for child in monitor.children_for(actor)]
    return render(
        request,
        "docking/index.html",
        {
            "region_code": settings.HAOCHA_REGION_CODE,
            "up": _upload_state() if manages_upload(request, actor) else None,
            "children": children,
            "chart": orjson.dumps(
                {
                    "names": [f["child"].name for f in children],
                    "lag": [f["lag_p95_seconds"] for f in children],
                    "accepted": [f["accepted_24h"] for f in children],
                    "rejected": [f["rejected_24h"] for f in children],
                }
            ).decode(),
        },
    )


@page_view("docking")
def child_detail(request, pk: int):
    actor = check_page(request, "docking")
    child = monitor.child_for(actor, pk)
    figures = monitor.child_figures(child)
    days = monitor.per_day(child, 14)
    chart = {
        "days": [f"{d['day']:%m-%d}" for d in days],
        "received": [d["received"] for d in days],
        "reported": [d["reported"] for d in days],
    }
    return render(
        request,
        "docking/child.html",
        {"f": figures, "child": child, "days": days, "chart": orjson.dumps(chart).decode()},
    )


@page_view("docking")
def case_lookup(request, number: str):
    """反查办件: the case of a 差评 order a child handles, asked of that child now (its service record, ratings
    and orders' handling data as it holds them), beside the read-only copy here."""
    from haocha.integrations.docking.dispatch import fetch_case
    from haocha.workorders.access import get_work_order_for_actor

    actor = check_page(request, "docking")
    order = get_work_order_for_actor(actor, number)
    child = (
        monitor.children_for(actor).filter(client_id=order.handled_by_id).first() if order.case_id else None
    )
    if child is None:
        raise NotFound("该工单不由下级系统办理，或不在您的监测范围", code="not_handled_by_child")
    found, error = None, None
    try:
        found = fetch_case(child, order.case.case_no)
    except DomainError as exc:
        error = f"{exc.message or '下级系统拒绝了查询'}（{exc.code}）"
    except (OSError, ValueError) as exc:
        error = f"下级系统无应答：{exc}"
    return render(
        request,
        "docking/lookup.html",
        {"order": order, "child": child, "found": found, "error": error},
        status=200 if found is not None else 502,
    )


@require_POST
@page_view("docking")
def requeue(request):
    if not manages_upload(request, check_page(request, "docking")):
        raise Forbidden("只有系统管理员或本级监管人员可以重新上报", code="forbidden")
    ids = [int(v) for v in request.POST.getlist("id") if v.isdigit()]
    if request.POST.get("all") == "1":
        n = upload.requeue()
    elif ids:
        n = upload.requeue(ids)
    else:
        messages.error(request, "请选择要重新上报的记录")
        return redirect("docking:index")
    messages.success(request, f"已重新排队 {n} 条记录，后台任务将立即上报")
    return redirect("docking:index")
