"""What cannot be seen does not count (issue 12, hole 7): a 差评 whose comment is only zero-width characters has
no comment; `"satisfaction": true` is no level; a case number is one case however many spaces or zero-width
characters surround it, on every path; a "/" in a case number under /api/ gets the JSON error."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from haocha.catalogue.models import Case
from haocha.evaluations.models import Rating
from tests.factories import finished_case
from tests.test_cases_api import case_body

pytestmark = pytest.mark.django_db

INVISIBLE = ["\u200b\u200b\u200b", " \ufeff ", "\u200c\u200d\u2060", "\u3000\u00ad", "\u3164\u2800"]


def import_one(tmp_path, record: dict, kind: str = "ratings") -> dict:
    path = tmp_path / f"{kind}.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    out = StringIO()
    call_command("import", str(path), kind=kind, json=True, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("blank", INVISIBLE)
def test_a_bad_rating_with_only_invisible_characters_has_no_comment(cast, api_for, tmp_path, blank):
    finished_case(cast, "ZW-1")
    body = {"case_no": "ZW-1", "channel": "pc", "level": "very_dissatisfied", "comment": blank}
    r = api_for(cast.key_a).post("/ratings", body)
    assert r.status_code == 422 and r.json()["code"] == "bad_rating_needs_reason", r.content
    r = api_for(cast.key_a).post("/channels/cases/ZW-1/rating", {"level": "dissatisfied", "comment": blank})
    assert r.status_code == 422 and r.json()["code"] == "bad_rating_needs_reason", r.content
    record = {"projectNo": "ZW-1", "pf": "1", "satisfaction": 1, "writingEvaluation": blank}
    record["assessTime"] = timezone.localtime(timezone.now() - timedelta(minutes=5)).isoformat()
    summary = import_one(tmp_path, record)
    assert summary["reject_codes"] == {"bad_rating_needs_reason": 1}
    assert not Rating.objects.exists()


def test_a_comment_keeps_its_text_without_the_invisible_ends(cast, api_for):
    finished_case(cast, "ZW-2")
    body = {
        "case_no": "ZW-2",
        "channel": "pc",
        "level": "dissatisfied",
        "comment": "\u200b 等了两小时\ufeff ",
    }
    r = api_for(cast.key_a).post("/ratings", body)
    assert r.status_code == 201 and r.json()["comment"] == "等了两小时"


@pytest.mark.parametrize("value", [True, False, 4.0, "4"])
def test_satisfaction_is_an_integer_not_a_boolean_float_or_text(cast, api_for, value):
    finished_case(cast, "ZW-3")
    r = api_for(cast.key_a).post("/ratings", {"case_no": "ZW-3", "channel": "pc", "satisfaction": value})
    assert r.status_code == 422 and r.json()["code"] == "invalid_input", r.content
    assert r.json()["details"][0]["field"] == "satisfaction"
    assert not Rating.objects.exists()
    r = api_for(cast.key_a).post("/ratings", {"case_no": "ZW-3", "channel": "pc", "satisfaction": 4})
    assert r.status_code == 201 and r.json()["level"] == "satisfied"


def test_a_case_number_is_one_case_whatever_invisible_characters_surround_it(cast, api_for, tmp_path):
    api = api_for(cast.key_a)
    r = api.put("/cases/%20ZW-4%E2%80%8B", case_body(cast))  # " ZW-4\u200b" as the path segment
    assert r.status_code == 201 and r.json()["case_no"] == "ZW-4", r.content
    r = api.post("/cases/bulk", {"cases": [{"case_no": "\ufeffZW-4 ", **case_body(cast)}]})
    assert r.json()["results"][0]["result"] == "updated"  # the same case, not a second one
    assert list(Case.objects.values_list("case_no", flat=True)) == ["ZW-4"]
    assert api.get("/cases/ZW-4\u200b").status_code == 200
    r = api.post("/ratings", {"case_no": " ZW-4\u2060", "channel": "pc", "level": "satisfied"})
    assert r.status_code == 201 and r.json()["case_no"] == "ZW-4", r.content
    r = api.post("/ratings", {"case_no": "ZW-4", "channel": "pc", "level": "satisfied"})
    assert r.status_code == 201 and r.headers["Idempotent-Replayed"] == "true"
    record = {"projectNo": "\u200bZW-4", "pf": "1", "satisfaction": 4}
    record["assessTime"] = timezone.localtime(timezone.now() - timedelta(minutes=5)).isoformat()
    assert import_one(tmp_path, record)["duplicates"] == 1
    assert Rating.objects.count() == 1


@pytest.mark.parametrize("case_no", ["ZW 5", "ZW-5\t6", "ZW/5", "\u200b"])
def test_a_case_number_with_inner_spaces_or_a_slash_is_refused_at_registration(cast, api_for, case_no):
    r = api_for(cast.key_a).post("/cases/bulk", {"cases": [{"case_no": case_no, **case_body(cast)}]})
    assert r.status_code == 200, r.content
    assert r.json()["results"][0]["code"] == "invalid_case_no"
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/channels/cases/ZW/5/state"),
        ("put", "/api/cases/ZW/5"),
        ("get", "/api/cases/ZW/5"),
        ("post", "/api/channels/cases/ZW/5/rating"),
    ],
)
def test_a_slash_in_a_case_number_under_the_api_gets_the_json_error(cast, client, method, path):
    r = getattr(client, method)(path, {}, content_type="application/json", headers={"X-Api-Key": cast.key_a})
    assert r.status_code == 404 and r["Content-Type"].startswith("application/json"), r.content[:200]
    assert r.json()["code"] == "not_found" and r.json()["message"]
