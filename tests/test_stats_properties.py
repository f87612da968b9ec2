"""Properties of the published figures over any sequence of ratings, flags, case changes and rollup passes:
every rate stays within 0–100 % and every score within the policy's weights, and every figure equals an
independent count of the raw rows."""

from datetime import timedelta

from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haocha.accounts.access import actor_for_api_key, actor_for_user
from haocha.analytics.services import rollups_apply_all
from haocha.catalogue.models import Case
from haocha.catalogue.services import CaseInput, cases_upsert
from haocha.evaluations.defaults import default_ratings_sweep
from haocha.evaluations.models import Rating, RatingPolicy
from haocha.evaluations.services import rating_flag
from tests.conftest import Api
from tests.factories import resident_id
from tests.stats_expected import LEVELS, expected_figures, rounded

RATES = (
    "bad_rate",
    "good_rate",
    "rating_rate",
    "active_rate",
    "rectify_rate",
    "on_time_rate",
    "callback_rate",
)
AGES = (timedelta(hours=2), timedelta(days=3), timedelta(days=8))
OPS = ("finish", "reopen", "rate", "follow", "visit", "flag", "restore", "default", "apply")


def _send_case(cast, i: int, *, finished_ago: timedelta | None) -> None:
    """The approval system (re)sends case P-i: finished `finished_ago` ago, or back in processing."""
    now = timezone.now()
    finished = None if finished_ago is None else now - finished_ago
    done = cases_upsert(
        actor=actor_for_api_key(cast.key_city),
        records=[
            CaseInput(
                case_no=f"P-{i}",
                item_code=(cast.item_a if i % 3 else cast.item_b).code,
                applicant_type="1",
                applicant_name="王小明",
                applicant_id_number=resident_id(i),
                applicant_phone="13812345678",
                accepted_at=(finished or now) - timedelta(days=1),
                status="finished" if finished else "processing",
                finished_at=finished,
                window_code=cast.window_a.code if i % 2 else "",
                apply_channel="hall" if i % 2 else "online",
            )
        ],
        invite=False,
    )
    # a rated case may be refused a change (its rating rests on it): nothing to count then
    assert done[0].status in ("created", "updated", "rejected"), done


def _run(cast, api: Api, supervisor, op: str, i: int, level: str, age: timedelta) -> None:
    case = Case.objects.filter(case_no=f"P-{i}").first()
    first = Rating.objects.filter(case=case, kind=1).first() if case else None
    finished_lately = case is not None and case.status == "finished" and case.finished_at is not None
    finished_lately = finished_lately and case.finished_at > timezone.now() - timedelta(days=4)
    body = {"channel": "pc", "level": level}
    if level in LEVELS[3:]:
        body["comment"] = "来回跑了三次"
    if op == "finish":
        _send_case(cast, i, finished_ago=age)
    elif op == "reopen" and case is not None:
        _send_case(cast, i, finished_ago=None)
    elif op == "rate" and finished_lately and first is None:
        r = api.post("/ratings", {**body, "case_no": f"P-{i}"})
        assert r.status_code == 201, r.content
    elif op == "follow" and finished_lately and first is not None and first.is_valid:
        if not Rating.objects.filter(case=case, kind=2).exists():
            r = api.post("/ratings/follow-up", {**body, "case_no": f"P-{i}"})
            assert r.status_code == 201, r.content
    elif op == "visit":
        r = api.post("/ratings", {**body, "window_code": cast.window_a.code, "channel": "tablet"})
        assert r.status_code == 201, r.content
    elif op == "flag" and first is not None and first.is_valid:
        rating_flag(actor=supervisor, rating=first, kind="invalid", reason="申诉成立")
    elif op == "restore" and first is not None and not first.is_valid:
        rating_flag(actor=supervisor, rating=first, kind="restore", reason="复核恢复")
    elif op == "default":
        default_ratings_sweep()
    elif op == "apply":
        rollups_apply_all()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ages=st.lists(st.sampled_from(AGES), min_size=6, max_size=6),
    ops=st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 5), st.sampled_from(LEVELS), st.sampled_from(AGES)),
        min_size=4,
        max_size=20,
    ),
)
def test_every_rate_stays_within_0_and_100_percent(cast, ages, ops):
    """Each example runs in a savepoint that is rolled back, on the one cast the fixture built."""
    with transaction.atomic():
        RatingPolicy.objects.create(
            region=cast.city,
            default_rating_enabled=True,
            default_rating_days=7,
            default_rating_level="satisfied",
        )
        api = Api(Client(), cast.key_city)
        supervisor = actor_for_user(cast.supervisor)
        reader = Client()
        reader.force_login(cast.supervisor)
        for i, age in enumerate(ages):
            _send_case(cast, i, finished_ago=age)
        for op, i, level, age in ops:
            _run(cast, api, supervisor, op, i, level, age)
        rollups_apply_all()
        today = timezone.localdate()
        for start in (today, today - timedelta(days=1), today - timedelta(days=10)):
            for dim, unit in (
                ("region", cast.city),
                ("department", cast.dept_a),
                ("hall", cast.hall),
                ("window", cast.window_a),
                ("item", cast.item_b),
            ):
                r = reader.get(
                    "/api/stats/figures",
                    {"dim": dim, "member": unit.pk, "start": start.isoformat(), "end": today.isoformat()},
                )
                assert r.status_code == 200, r.content
                got = r.json()["figures"]
                for name in RATES:
                    assert got[name] is None or 0 <= got[name] <= 1, (name, got[name], dim, start)
                assert got["score"] is None or 20 <= got["score"] <= 100, got["score"]
                want = rounded(expected_figures(dim, unit, start, today))
                assert {k: got[k] for k in want} == want, (dim, start)
        transaction.set_rollback(True)
