"""The self-service terminal (自助服务终端): find one's case by 办件编号, by ID number (typed or read from the
ID card) and an SMS code, or by scanning the QR code of the 办结通知, then rate it. The terminal is a
registered device shown as a kiosk (docs/terminal.md); the citizen's session on it is short, and it is
cleared at the end, after a timeout without a touch (the page posts to reset) and on the server after
HAOCHA_TERMINAL_SESSION_SECONDS."""

import time
import uuid

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from haocha.catalogue.models import Case
from haocha.channels import citizen, lookup, scan, verification
from haocha.channels.devices import device_from_request
from haocha.channels.models import Device, VerificationCode
from haocha.channels.views import client_ip, registered_device_page
from haocha.core.errors import DomainError, NotFound
from haocha.core.identity import mask_name
from haocha.evaluations.channels import Channel
from haocha.evaluations.models import Rating

SESSION = "terminal"
CHALLENGE = "terminal_challenge"
LABEL = "办事群众（自助终端）"


def _session_seconds() -> int:
    """How long the server keeps an untouched terminal session: never shorter than the page's own timeout."""
    return max(settings.HAOCHA_TERMINAL_SESSION_SECONDS, settings.HAOCHA_TERMINAL_IDLE_SECONDS)


def _device(request) -> Device:
    return device_from_request(request, kind=Device.Kind.TERMINAL)


def _scope(request, device) -> dict | None:
    """The citizen's terminal session: whose cases (verified ID or a looked-up case), while not idle."""
    data = request.session.get(SESSION)
    if not data or data.get("device") != device.code or time.time() - data.get("at", 0) > _session_seconds():
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
    context.setdefault("idle_seconds", settings.HAOCHA_TERMINAL_IDLE_SECONDS)
    context.setdefault("countdown_seconds", settings.HAOCHA_TERMINAL_COUNTDOWN_SECONDS)
    context.setdefault("session_seconds", _session_seconds())
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
                _open_cases(request, device, [case.case_no])
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
    return _start_page(request, device, error, status)


def _start_page(request, device, error=None, status=200):
    request.session.pop(SESSION, None)
    context = {"error": error, "idcard_agent": settings.HAOCHA_TERMINAL_IDCARD_AGENT_URL}
    return _page(request, "channels/terminal_start.html", context, status, device)


def _open_cases(request, device, case_nos: list) -> None:
    """A new citizen session on this terminal for the cases found (a fresh session key: nothing carries over)."""
    request.session.cycle_key()
    request.session.pop(CHALLENGE, None)
    request.session[SESSION] = {"device": device.code, "cases": case_nos, "at": time.time()}


@never_cache
@registered_device_page("自助服务终端")
def scan_code(request):
    """What a QR scanner typed at the terminal (the scan field's form): the 办结通知's signed rating link opens
    that case's rating; anything else, the start page with the reason."""
    device = _device(request)
    if request.method != "POST":
        return redirect("channels:terminal")
    try:
        case = scan.case_from_scan(request.POST.get("payload", ""), requester=f"dev:{device.code}")
    except DomainError as exc:
        return _start_page(request, device, exc.message, exc.status)
    _open_cases(request, device, [case.case_no])
    return redirect("channels:terminal_rate", case_no=case.case_no)


@never_cache
@require_POST
@registered_device_page("自助服务终端")
def reset(request):
    """The page's inactivity timeout (and the thanks page) posts here: everything the citizen left in this
    browser's session goes, the session row included; the device stays activated (its own cookie)."""
    _device(request)
    request.session.flush()
    return redirect("channels:terminal")


@never_cache
@require_POST
@registered_device_page("自助服务终端")
def alive(request):
    """The page posts here while the citizen is touching it (typing a comment, say): their session is kept
    as long as they are there. An expired session is not brought back."""
    scope = _scope(request, _device(request))
    return HttpResponse(status=204 if scope is not None else 205)


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
    request.session.pop(CHALLENGE, None)
    context = {"idle_seconds": settings.HAOCHA_TERMINAL_DONE_SECONDS}
    return _page(request, "channels/terminal_done.html", context, 200, device)
