"""The landing page and the health check."""

from django.db import connection
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render

from haocha.catalogue.models import Case, ServiceItem
from haocha.evaluations.models import Rating
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
    # A level mix over all valid ratings; the analytics issue moves this onto rollup tables.
    mix = dict(Rating.objects.filter(is_valid=True).values_list("level").annotate(n=Count("id")))
    total = sum(mix.values())
    good = mix.get("very_satisfied", 0) + mix.get("satisfied", 0)
    bad = mix.get("dissatisfied", 0) + mix.get("very_dissatisfied", 0)
    context = {
        "city": city,
        "districts": districts,
        "counts": counts,
        "mix": mix,
        "ratings_total": total,
        "good_rate": f"{good / total:.2%}" if total else "—",
        "bad_rate": f"{bad / total:.2%}" if total else "—",
    }
    return render(request, "haocha/home.html", context)


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
