"""The self-service terminal (自助服务终端): find one's case by 办件编号 or by ID number and an SMS code, then
rate it. The terminal is a registered device; the citizen's session on it is short and cleared at the end."""

import time
import uuid

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from haocha.catalogue.models import Case
from haocha.channels import citizen, lookup, verification
from haocha.channels.devices import device_from_request
from haocha.channels.models import Device, VerificationCode
from haocha.channels.views import client_ip, registered_device_page
from haocha.core.errors import DomainError, NotFound
from haocha.core.identity import mask_name
from haocha.evaluations.channels import Channel
from haocha.evaluations.models import Rating

SESSION = "terminal"
CHALLENGE = "terminal_challenge"
IDLE_SECONDS = 180
LABEL = "办事群众（自助终端）"


def _device(request) -> Device:
    return device_from_request(request, kind=Device.Kind.TERMINAL)


def _scope(request, device) -> dict | None:
    """The citizen's terminal session: whose cases (verified ID or a looked-up case), while not idle."""
    data = request.session.get(SESSION)
    if not data or data.get("device") != device.code or time.time() - data.get("at", 0) > IDLE_SECONDS:
        request.session.pop(SESSION, None)
        return None
    data["at"] = time.time()
    request.session[SESSION] = data
    return data


def _cases(scope: dict):
    qs = Case.objects.select_related("item", "department")
    if scope.get("subject"):
        kind, digest = scope["subject"]
        return verification.cases_of(verification.Subject(kind=kind, hash=digest)).select_related(
            "item", "department"
        )
    return qs.filter(case_no__in=scope.get("cases", []))


def _page(request, template, context, status=200, device=None):
    context.setdefault("idle_seconds", IDLE_SECONDS)
    context.setdefault("device", device)
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@registered_device_page("自助服务终端")
def start(request):
    device = _device(request)
    error, status = None, 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "case":
                case = lookup.case_by_number(
                    case_no=request.POST.get("case_no", ""),
                    last4=request.POST.get("last4", ""),
                    requester=f"dev:{device.code}",
                )
                request.session.cycle_key()
                request.session[SESSION] = {"device": device.code, "cases": [case.case_no], "at": time.time()}
                return redirect("channels:terminal_cases")
            row = verification.code_request(
                purpose=VerificationCode.Purpose.TERMINAL,
                kind="id",
                value=request.POST.get("id_number", ""),
                requester=f"dev:{device.code}",
            )
            request.session[CHALLENGE] = str(row.challenge)
            return redirect("channels:terminal_code")
        except DomainError as exc:
            error, status = exc.message, exc.status
    request.session.pop(SESSION, None)
    return _page(request, "channels/terminal_start.html", {"error": error}, status, device)


@never_cache
@registered_device_page("自助服务终端")
def code(request):
    device = _device(request)
    challenge = request.session.get(CHALLENGE)
    if not challenge:
        return redirect("channels:terminal")
    error, status = None, 200
    if request.method == "POST":
        try:
            subject = verification.code_verify(
                purpose=VerificationCode.Purpose.TERMINAL,
                challenge=challenge,
                code=request.POST.get("code", ""),
            )
            request.session.cycle_key()
            request.session.pop(CHALLENGE, None)
            request.session[SESSION] = {
                "device": device.code,
                "subject": [subject.kind, subject.hash],
                "at": time.time(),
            }
            return redirect("channels:terminal_cases")
        except DomainError as exc:
            error, status = exc.message, exc.status
    return _page(request, "channels/terminal_code.html", {"error": error}, status, device)


@never_cache
@registered_device_page("自助服务终端")
def cases(request):
    device = _device(request)
    scope = _scope(request, device)
    if scope is None:
        return redirect("channels:terminal")
    qs = _cases(scope).filter(status=Case.Status.FINISHED).order_by("-finished_at")
    page = Paginator(qs, 8).get_page(request.GET.get("page"))
    rated = set(
        Rating.objects.filter(case__in=page.object_list, kind=Rating.Kind.FIRST).values_list(
            "case_id", flat=True
        )
    )
    rows = [
        {"case": c, "applicant": mask_name(c.applicant_name), "rated": c.pk in rated}
        for c in page.object_list
    ]
    return _page(request, "channels/terminal_cases.html", {"rows": rows, "page": page}, 200, device)


@never_cache
@registered_device_page("自助服务终端")
def rate(request, case_no):
    device = _device(request)
    scope = _scope(request, device)
    if scope is None:
        return redirect("channels:terminal")
    case = _cases(scope).select_related("region", "hall").filter(case_no=case_no).first()
    if case is None:
        raise NotFound("办件不存在或不在本次查询范围内", code="case_not_found")
    spec = citizen.form_spec(Channel.TERMINAL)
    error, status, values = None, 200, None
    if request.method == "POST":
        try:
            form = citizen.parse_rating_form(request.POST, spec)
            citizen.citizen_rate(
                case=case,
                channel=Channel.TERMINAL,
                form=form,
                client_ip=client_ip(request),
                device_id=device.code,
                label=LABEL,
            )
            return redirect("channels:terminal_done")
        except DomainError as exc:
            error, status, values = exc.message, exc.status, citizen.form_values(request.POST)
    state = citizen.case_state(case)
    values = values or {"level": "", "indicators": {}, "reasons": [], "comment": "", "key": str(uuid.uuid4())}
    context = {
        "case": case,
        "state": state,
        "spec": spec,
        "values": values,
        "groups": spec.groups(values),
        "rows": spec.rows(values),
        "levels": citizen.LEVEL_WORDS,
        "error": error,
    }
    return _page(request, "channels/terminal_rate.html", context, status, device)


@never_cache
@registered_device_page("自助服务终端")
def done(request):
    device = _device(request)
    request.session.pop(SESSION, None)  # the next citizen starts afresh
    return _page(request, "channels/terminal_done.html", {}, 200, device)
