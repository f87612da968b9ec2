"""The landing page, the health check and the 500 answer."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults

from haocha.analytics.models import Dim
from haocha.analytics.selectors import all_time, weights_for
from haocha.catalogue.models import Case, ServiceItem
from haocha.organisations.models import Organisation, Region, Window


def home(request):
    city = Region.objects.filter(level=Region.Level.CITY).order_by("code").first()
    districts = list(city.children.order_by("code")) if city else []
    counts = {
        "departments": Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT).count(),
        "halls": Organisation.objects.filter(kind__in=Organisation.HALL_KINDS).count(),
        "windows": Window.objects.count(),
        "items": ServiceItem.objects.count(),
        "cases": Case.objects.count(),
    }
    # Running totals of the city from the month rollups (never a scan of the ratings table).
    totals = all_time(Dim.REGION, city.pk, weights=weights_for(city)[0]) if city else None
    levels = totals.level_counts if totals else (0, 0, 0, 0, 0)
    keys = ("very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied")
    mix = dict(zip(keys, levels, strict=True))
    total = totals.n if totals else 0
    good_rate = totals.good_rate if totals else None
    bad_rate = totals.bad_rate if totals else None
    context = {
        "city": city,
        "districts": districts,
        "counts": counts,
        "mix": mix,
        "ratings_total": total,
        "good_rate": f"{good_rate:.2%}" if good_rate is not None else "—",
        "bad_rate": f"{bad_rate:.2%}" if bad_rate is not None else "—",
    }
    return render(request, "haocha/home.html", context)


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


def server_error(request):
    """handler500: a call to the API gets the API's error body, a page Django's plain 500 page."""
    if request.path.startswith("/api/"):
        body = {"code": "server_error", "message": "服务器内部错误，请稍后重试"}
        return JsonResponse(body, status=500, json_dumps_params={"ensure_ascii": False})
    return defaults.server_error(request)
