"""我的办件: the online platform's page of a citizen's cases, like an online shop's orders, with 去评价 / 追评 /
查看回复. The citizen identifies with an ID number or phone and an SMS code (as the platform would after its
own real-name login); the session then holds only the keyed hash of that identifier, for 30 minutes."""

import time

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from haocha.channels import links, verification
from haocha.channels.citizen import case_state
from haocha.channels.models import VerificationCode
from haocha.channels.views import client_ip
from haocha.core.errors import DomainError
from haocha.evaluations.channels import Channel

SESSION = "my_subject"
CHALLENGE = "my_challenge"
SESSION_SECONDS = 30 * 60
PAGE = 10


def _subject(request) -> verification.Subject | None:
    data = request.session.get(SESSION)
    if not data or time.time() > data.get("exp", 0):
        request.session.pop(SESSION, None)
        return None
    return verification.Subject(kind=data["kind"], hash=data["hash"])


def _private(response):
    response["Cache-Control"] = "no-store"
    return response


@never_cache
def my_cases(request):
    subject = _subject(request)
    if subject is None:
        return redirect("channels:my_login")
    qs = (
        verification.cases_of(subject).select_related("item", "department", "region").order_by("-accepted_at")
    )
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    rows = []
    for case in page.object_list:
        state = case_state(case)
        rows.append(
            {
                "case": case,
                "state": state,
                "has_reply": bool(state.replies),
                "link": links.rating_link_path(case, channel=Channel.PC),
            }
        )
    return _private(render(request, "channels/my_cases.html", {"rows": rows, "page": page}))


@never_cache
def my_login(request):
    error, status, kind = None, 200, request.POST.get("kind", "id")
    if request.method == "POST":
        try:
            row = verification.code_request(
                purpose=VerificationCode.Purpose.MY_CASES,
                kind=kind,
                value=request.POST.get("value", ""),
                requester=f"ip:{client_ip(request)}",
            )
            request.session[CHALLENGE] = str(row.challenge)
            return redirect("channels:my_verify")
        except DomainError as exc:
            error, status = exc.message, exc.status
    return _private(render(request, "channels/my_login.html", {"error": error, "kind": kind}, status=status))


@never_cache
def my_verify(request):
    challenge = request.session.get(CHALLENGE)
    if not challenge:
        return redirect("channels:my_login")
    error, status = None, 200
    if request.method == "POST":
        try:
            subject = verification.code_verify(
                purpose=VerificationCode.Purpose.MY_CASES,
                challenge=challenge,
                code=request.POST.get("code", ""),
            )
            request.session.cycle_key()
            request.session.pop(CHALLENGE, None)
            request.session[SESSION] = {
                "kind": subject.kind,
                "hash": subject.hash,
                "exp": time.time() + SESSION_SECONDS,
            }
            return redirect("channels:my_cases")
        except DomainError as exc:
            error, status = exc.message, exc.status
    return _private(render(request, "channels/my_verify.html", {"error": error}, status=status))


@require_POST
def my_logout(request):
    request.session.pop(SESSION, None)
    request.session.pop(CHALLENGE, None)
    return redirect("channels:my_login")
