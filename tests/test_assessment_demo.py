"""`haocha demo` gives a usable assessment for the demo year: the city's rule, every department and district
scored from the demo's ratings and its replayed 差评 loop (appeals decided both ways, 回访 that said 未解决)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from haocha.accounts.models import User
from haocha.workorders.models import Appeal, Transition
from tests.workorder_helpers import staff

pytestmark = pytest.mark.django_db


def test_the_demo_year_has_an_assessment_with_its_rule(client):
    call_command("demo", "--ratings", "20000", "--seed", "2026", stdout=StringIO())
    year = timezone.localdate().year
    assert Transition.objects.filter(action="callback", data__solved=False).exists()
    assert Appeal.objects.filter(status__in=("upheld", "rejected")).exists()
    supervisor = staff(User.objects.get(username="supervisor"))
    body = supervisor.get(f"/api/assessment?year={year}&dim=department").json()
    assert body["rule"]["text"].startswith("长沙市年度目标考核规则：满分 100 分")
    assert len(body["ranked"]) >= 30
    totals = [r["total"] for r in body["ranked"]]
    assert max(totals) - min(totals) > 10  # the rule tells units apart
    assert any(r["measures"]["truthfulness"] not in (None, 1.0) for r in body["ranked"])
    districts = supervisor.get(f"/api/assessment?year={year}&dim=district").json()
    assert len(districts["ranked"]) == 9
    page = supervisor.get(f"/assessment/?year={year}")
    assert page.status_code == 200 and body["rule"]["text"] in page.content.decode()
