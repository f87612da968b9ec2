"""Rollups: the queues the triggers fill, applied incrementally, equal a rebuild from the raw tables."""

from datetime import timedelta

from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haocha.accounts.access import actor_for_api_key, actor_for_user
from haocha.analytics.figures import Counts, Figures
from haocha.analytics.models import CaseRollup, Dim, OrderRollup, RatingPending, RatingRollup
from haocha.analytics.selectors import Period, breakdown, figures
from haocha.analytics.services import rollups_apply_all, rollups_rebuild
from haocha.catalogue.services import CaseInput, cases_upsert
from haocha.evaluations.models import Rating
from haocha.evaluations.services import rating_flag
from tests.factories import finished_case
from tests.workorder_helpers import bad_rating

LEVELS = ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"]


def snapshot() -> dict:
    def rows(model, key, skip=()):
        out = {}
        for row in model.objects.values():
            row.pop("id")
            for name in skip:
                row.pop(name)
            measures = {k: v for k, v in row.items() if k not in key}
            if any(measures.values()):
                out[tuple(str(row[k]) for k in key)] = measures
        return out

    return {
        "ratings": rows(RatingRollup, ("dim", "grain", "period", "member_id", "channel")),
        "cases": rows(CaseRollup, ("dim", "grain", "period", "member_id")),
        "orders": rows(OrderRollup, ("dim", "period", "member_id"), skip=("computed_at",)),
    }


def rate(api, case_no, level, channel="pc", comment="", **extra):
    body = {"case_no": case_no, "channel": channel, "level": level, "comment": comment, **extra}
    r = api.post("/ratings", body)
    assert r.status_code == 201, r.content
    return Rating.objects.get(public_id=r.json()["id"])


def test_incremental_equals_rebuild_after_invalidation_and_case_changes(cast, api_for):
    api = api_for(key=cast.key_city)
    for i, level in enumerate(LEVELS * 3):
        item, window = [(cast.item_a, cast.window_a), (cast.item_b, cast.window_b)][i % 2]
        finished_case(cast, f"RU-{i}", seq=i, item=item, window=window)
        rate(
            api,
            f"RU-{i}",
            level,
            channel=["pc", "tablet", "qrcode"][i % 3],
            comment="等了很久" if i % 2 or level in LEVELS[3:] else "",
        )
    api.post("/ratings", {"window_code": cast.window_b.code, "channel": "tablet", "level": "satisfied"})
    api.post(
        "/ratings/follow-up",
        {"case_no": "RU-1", "channel": "pc", "level": "dissatisfied", "comment": "没解决"},
    )
    order = bad_rating(cast, "RU-BAD", seq=99)
    rollups_apply_all()
    # an upheld appeal / a supervisor's flag invalidates a rating; a re-sent case moves its finish date
    flagged = Rating.objects.get(case__case_no="RU-3", kind=1)
    rating_flag(
        actor=actor_for_user(cast.supervisor), rating=flagged, kind="invalid", reason="恶意差评，申诉成立"
    )
    cases_upsert(
        actor=actor_for_api_key(cast.key_city),
        records=[_moved(cast, "RU-4")],
    )
    assert RatingPending.objects.count() == 1
    rollups_apply_all()
    incremental = snapshot()
    rollups_rebuild()
    assert snapshot() == incremental
    assert incremental["orders"], "the work order is in the order facts"

    period = Period(timezone.localdate() - timedelta(days=40), timezone.localdate())
    city = figures(Dim.REGION, cast.city.pk, period)
    valid_first = Rating.objects.filter(kind=1, is_valid=True).count()
    assert city.n == valid_first == 15 - 1 + 1 + 1  # 15 cases, one invalid, one window visit, one 差评 case
    assert city.counts.n_follow == 1 and city.counts.n_orders >= 1
    assert order.department_id in breakdown(Dim.DEPARTMENT, period)


def _moved(cast, case_no):
    from haocha.catalogue.models import Case

    case = Case.objects.get(case_no=case_no)
    return CaseInput(
        case_no=case_no,
        item_code=case.item.code,
        applicant_type="1",
        applicant_name="王小明",
        applicant_id_number="",
        applicant_phone="",
        apply_channel=case.apply_channel,
        status="finished",
        accepted_at=case.accepted_at - timedelta(days=3),
        finished_at=case.finished_at - timedelta(days=2),
    )


def test_figures_follow_their_definitions():
    c = Counts(n=200, n_rated=150, n_vs=120, n_s=60, n_b=10, n_d=6, n_vd=4, n_default=20, n_finished=300)
    c.add(
        {
            "n_orders": 10,
            "n_invalid": 1,
            "n_merged": 1,
            "n_closed": 6,
            "n_closed_on_time": 5,
            "n_open_late": 1,
        }
    )
    c.add(
        {
            "n_callback": 6,
            "n_callback_satisfied": 5,
            "n_contacted": 8,
            "contact_minutes": 480,
            "finish_minutes": 3600,
        }
    )
    f = Figures(c, (100, 80, 60, 40, 20))
    assert f.bad == 10 and f.bad_rate == 0.05
    assert f.good_rate == 0.9
    assert f.score == (120 * 100 + 60 * 80 + 10 * 60 + 6 * 40 + 4 * 20) / 200
    assert f.rating_rate == 0.5 and f.active_rate == 0.9
    assert f.rectify_rate == 6 / 8 and f.on_time_rate == 5 / 7
    assert f.callback_rate == 5 / 6 and f.contact_hours == 1.0 and f.close_hours == 10.0
    assert Figures(Counts()).bad_rate is None and Figures(Counts()).score is None
    # smoothing pulls a small sample toward the mean
    small = Figures(Counts(n=2, n_vd=2))
    assert small.score == 20 and 80 < small.smoothed(90.0, 50) < 90


def test_period_uses_month_rows_for_whole_months():
    from datetime import date

    from django.db.models import Q

    segments = Period(date(2026, 1, 15), date(2026, 4, 10)).segments()
    assert segments == [
        Q(grain="m", period__gte=date(2026, 2, 1), period__lte=date(2026, 3, 1)),
        Q(grain="d", period__gte=date(2026, 1, 15), period__lt=date(2026, 2, 1)),
        Q(grain="d", period__gt=date(2026, 3, 31), period__lte=date(2026, 4, 10)),
    ]
    assert Period(date(2026, 3, 2), date(2026, 3, 20)).segments() == [
        Q(grain="d", period__gte=date(2026, 3, 2), period__lte=date(2026, 3, 20))
    ]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["rate", "flag", "restore", "apply", "edit", "move"]),
            st.integers(0, 7),
            st.sampled_from(LEVELS),
        ),
        min_size=3,
        max_size=14,
    )
)
def test_any_sequence_of_changes_rolls_up_like_a_rebuild(cast, ops):
    """Each example runs in a savepoint that is rolled back, on the one cast the fixture built. Every
    POST must succeed (a refused one would leave nothing to roll up), and the rolled-up figures must equal
    an independent count of the ratings and cases, not only the rebuild."""
    from django.db import transaction
    from django.test import Client

    from tests.conftest import Api
    from tests.stats_expected import expected_counts

    with transaction.atomic():
        supervisor = actor_for_user(cast.supervisor)
        api = Api(Client(), cast.key_city)
        for i in range(8):
            finished_case(cast, f"HY-{i}", seq=i, window=cast.window_a if i % 2 else None)
        for op, i, level in ops:
            rating = Rating.objects.filter(case__case_no=f"HY-{i}", kind=1).first()
            if op == "rate" and rating is None:
                r = api.post(
                    "/ratings", {"case_no": f"HY-{i}", "channel": "sms", "level": level, "comment": "慢"}
                )
                assert r.status_code == 201, r.content
            elif op == "flag" and rating is not None and rating.is_valid:
                rating_flag(actor=supervisor, rating=rating, kind="invalid", reason="核实为误评")
            elif op == "restore" and rating is not None and not rating.is_valid:
                rating_flag(actor=supervisor, rating=rating, kind="restore", reason="复核恢复")
            elif op == "edit" and rating is not None:
                # a data fix the platform never makes: the rollups follow it all the same
                Rating.objects.filter(pk=rating.pk).update(level=level, comment="", channel="pc")
            elif op == "move":  # the case re-sent with an earlier finish, rated or not
                done = cases_upsert(actor=actor_for_api_key(cast.key_city), records=[_moved(cast, f"HY-{i}")])
                # a rated case may be refused a change of what its rating rests on
                assert done[0].status in ("created", "updated") or rating is not None, done
            elif op == "apply":
                rollups_apply_all()
        rollups_apply_all()
        incremental = snapshot()
        today = timezone.localdate()
        for start in (today - timedelta(days=10), today):
            for dim, unit in (("region", cast.city), ("window", cast.window_a), ("item", cast.item_a)):
                got = figures(Dim[dim.upper()], unit.pk, Period(start, today)).as_dict()
                want = expected_counts(dim, unit, start, today)
                assert (got["n"], got["levels"], got["n_finished"], got["n_rated"]) == (
                    want["n"],
                    want["levels"],
                    want["n_finished"],
                    want["n_rated"],
                ), (dim, start)
        rollups_rebuild()
        assert snapshot() == incremental
        transaction.set_rollback(True)


def test_a_change_of_definitions_asks_for_a_rebuild(cast):
    from io import StringIO

    from django.core.management import call_command

    from haocha.analytics.models import RollupState

    finished_case(cast, "DEF-1")
    out, err = StringIO(), StringIO()
    call_command("rollups", "apply", stdout=out, stderr=err)
    assert "统计口径已变更" not in err.getvalue()  # empty rollups take the current definitions
    RollupState.objects.filter(pk=1).update(definitions="an earlier definition")
    call_command("rollups", "status", stdout=out, stderr=err)
    assert "统计口径已变更" in err.getvalue() and "haocha rollups rebuild" in err.getvalue()
    err = StringIO()
    call_command("rollups", "rebuild", stdout=out, stderr=err)
    call_command("rollups", "status", stdout=out, stderr=err)
    assert "统计口径已变更" not in err.getvalue()


def test_triggers_survive_migrations_that_rebuild_tables(db):
    """SQLite drops triggers with a rebuilt table (evaluations 0005 rebuilds the ratings table)."""
    from django.db import connection

    from haocha.analytics import triggers

    assert triggers.installed(connection) == triggers.expected(connection.vendor)
    # and they are the ones the measure tables generate now, not an earlier version's
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'analytics%'")
            stored = sorted(row[0] for row in cursor.fetchall())
            assert stored == sorted(triggers.sqlite_statements())
        else:
            cursor.execute("SELECT prosrc FROM pg_proc WHERE proname LIKE 'analytics%' ORDER BY proname")
            stored = [row[0] for row in cursor.fetchall()]
            bodies = [s.split("$$")[1] for s in triggers.postgres_statements() if "$$" in s]
            assert sorted(stored) == sorted(bodies)
