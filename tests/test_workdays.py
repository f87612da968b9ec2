"""Chinese working days: the 2026 calendar with its make-up days, missing years, loading, properties."""

from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from haocha.workcalendar.arithmetic import SHANGHAI, Calendar, WorkdayService, _nth_workday_slow
from haocha.workcalendar.models import CalendarYear
from haocha.workcalendar.services import load_calendar, missing_years, workdays

pytestmark = pytest.mark.django_db


def sh(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def cli(*args) -> str:
    out = StringIO()
    call_command("workdays", *args, stdout=out)
    return out.getvalue().strip()


@pytest.fixture(autouse=True)
def fresh_calendar():
    workdays.refresh()
    workdays.invalidate()
    yield
    workdays.refresh()
    workdays.invalidate()


@pytest.mark.parametrize(
    "received, days, due",
    [
        # National Day 2026: 10-01..10-07 off, make-up days 09-20 (Sun) and 10-10 (Sat)
        (sh(2026, 9, 30, 16, 0), 1, sh(2026, 10, 9)),
        (sh(2026, 9, 30, 16, 0), 2, sh(2026, 10, 10)),
        (sh(2026, 9, 30, 16, 0), 3, sh(2026, 10, 11)),  # 10-10 is a make-up Saturday: a working day
        (sh(2026, 9, 19, 10, 0), 1, sh(2026, 9, 21)),  # received on a Saturday; Sunday 09-20 is a make-up day
        (sh(2026, 9, 24, 23, 59), 1, sh(2026, 9, 29)),  # holiday eve of 中秋 09-25..27
        (sh(2026, 10, 1, 9, 0), 1, sh(2026, 10, 9)),  # received on a holiday
        # Spring Festival 2026: 02-15..02-23 off, make-up 02-14 and 02-28 (Saturdays)
        (sh(2026, 2, 13, 17, 0), 1, sh(2026, 2, 15)),
        (sh(2026, 2, 13, 17, 0), 2, sh(2026, 2, 25)),
        (sh(2026, 2, 13, 17, 0), 10, sh(2026, 3, 6)),  # 02-14, 02-24..27, 02-28, 03-02..05
        # receipt late at night in UTC is the next day in Beijing
        (datetime.fromisoformat("2026-09-29T17:30:00+00:00"), 1, sh(2026, 10, 9)),
    ],
)
def test_due_times_over_the_real_2026_calendar(received, days, due):
    assert workdays.due(received, days) == due


def test_cli_prints_iso_8601_with_offset():
    assert cli("due", "--received", "2026-09-30T16:00", "--days", "1") == "2026-10-09T00:00:00+08:00"
    assert cli("is-workday", "2026-10-10") == "yes"
    assert cli("is-workday", "2026-10-07") == "no"
    assert cli("is-workday", "2026-09-20") == "yes"
    assert cli("is-workday", "2026-11-28") == "no"


def test_a_year_nobody_entered_has_its_statutory_holidays_until_the_arrangement_is_loaded(tmp_path):
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert missing_years(date(2026, 11, 28)) == [2027]
    # 2027-01-01 (元旦) is a Friday: off by statute, so a 1-day deadline from 31 December runs to Monday.
    assert cli("is-workday", "2027-01-01") == "no"
    assert workdays.due(sh(2026, 12, 31, 10), 1) == sh(2027, 1, 5)
    # 春节 from 除夕 (2027-02-05) for four days, 清明 (04-05), 端午 (06-09), 中秋 (09-15), 国庆 (10-01..03).
    for day in ("2027-02-05", "2027-02-08", "2027-04-05", "2027-06-09", "2027-09-15", "2027-10-01"):
        assert cli("is-workday", day) == "no", day
    assert cli("is-workday", "2027-02-09") == "yes"  # no 调休 is guessed: the day after 初三 is a working day
    assert cli("is-workday", "2027-02-20") == "no"  # a Saturday
    f = tmp_path / "2027.csv"
    f.write_text(
        "date,kind,name\n2027-01-01,休,元旦\n2027-02-05,休,春节\n2027-02-09,休,春节\n2027-02-20,班,春节\n",
        encoding="utf-8",
    )
    assert "2027年：节假日 3 天" in cli("load", str(f))
    assert missing_years(date(2026, 11, 28)) == []
    # The administrator's entry replaces the computed days: 02-09 off, 02-20 worked, 04-05 not entered.
    assert cli("is-workday", "2027-02-09") == "no"
    assert cli("is-workday", "2027-02-20") == "yes"
    assert cli("is-workday", "2027-04-05") == "yes"


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_computed_statutory_holidays_are_days_off_in_the_state_council_arrangement(year):
    """The 2024 revision applies from 2025: each computed day is off in the published arrangement."""
    import chinese_calendar

    from haocha.workcalendar.statutory import statutory_holidays

    days = statutory_holidays(year)
    assert len(days) == 13  # 1 + 4 + 1 + 2 + 1 + 1 + 3
    assert [d for d in days if not chinese_calendar.is_holiday(d)] == []
    names = {name for d, name in days.items() if chinese_calendar.get_holiday_detail(d)[1] is not None}
    assert names == {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}


def test_bad_calendar_files_are_refused(tmp_path):
    from django.core.management.base import CommandError

    f = tmp_path / "bad.csv"
    f.write_text("2027-02-30,休,春节\n", encoding="utf-8")
    with pytest.raises(CommandError, match="无法识别的日期"):
        cli("load", str(f))
    f.write_text("2027-02-06,上班\n", encoding="utf-8")
    with pytest.raises(CommandError, match="无法识别"):
        cli("load", str(f))
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_json_files_load_too(tmp_path):
    f = tmp_path / "2027.json"
    f.write_text('{"holidays": {"2027-10-01": "国庆节"}, "makeup_days": ["2027-09-26"]}', encoding="utf-8")
    cli("load", str(f))
    assert cli("is-workday", "2027-10-01") == "no" and cli("is-workday", "2027-09-26") == "yes"


def test_system_check_and_admin_banner_warn_about_a_missing_year(client, django_user_model):
    from django.core.checks import run_checks

    warnings = [w for w in run_checks() if w.id == "haocha.W101"]
    if (
        datetime.now(SHANGHAI).date().month >= 11
        or not CalendarYear.objects.filter(year=datetime.now(SHANGHAI).date().year).exists()
    ):
        assert warnings and "节假日安排尚未录入" in warnings[0].msg
    admin = django_user_model.objects.create_superuser("root", password="x-Haocha-2026")
    client.force_login(admin)
    page = client.get("/admin/").content.decode()
    assert ("calendar-warning" in page) == bool(missing_years())


def test_the_package_years_are_seeded():
    years = set(CalendarYear.objects.values_list("year", flat=True))
    assert set(range(2004, 2027)) <= years


# Property tests of the arithmetic over the real calendar.
DAYS = st.dates(min_value=date(2005, 1, 1), max_value=date(2026, 12, 20))
MOMENTS = st.builds(
    lambda d, minutes: datetime(d.year, d.month, d.day, tzinfo=SHANGHAI) + timedelta(minutes=minutes),
    DAYS,
    st.integers(min_value=0, max_value=24 * 60 - 1),
)


@pytest.fixture(scope="module")
def real_calendar(django_db_blocker):
    with django_db_blocker.unblock():
        return WorkdayService(load_calendar)


@settings(max_examples=300, deadline=None)
@given(received=MOMENTS, n=st.integers(min_value=1, max_value=30))
def test_due_properties(real_calendar, received, n):
    due = real_calendar.due(received, n)
    last_day = due.date() - timedelta(days=1)
    assert due.tzinfo == SHANGHAI and (due.hour, due.minute, due.second) == (0, 0, 0)
    assert real_calendar.is_workday(last_day)  # a deadline ends on a working day
    assert last_day > received.astimezone(SHANGHAI).date()  # the day of receipt never counts
    assert real_calendar.workdays_between(received, due - timedelta(seconds=1)) == n
    assert real_calendar.due(received, n + 1) > due
    assert last_day == _nth_workday_slow(real_calendar.calendar(), received.date(), n)


@given(day=DAYS)
def test_the_week_rule_applies_only_without_an_exception(day):
    known = frozenset({day.year})
    cal = Calendar(holidays=frozenset({day}), makeup_days=frozenset(), known_years=known)
    assert not cal.is_workday(day)
    cal = Calendar(holidays=frozenset(), makeup_days=frozenset({day}), known_years=known)
    assert cal.is_workday(day)
    cal = Calendar(holidays=frozenset(), makeup_days=frozenset(), known_years=known)
    assert cal.is_workday(day) == (day.weekday() < 5)


@given(day=st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31)))
def test_a_year_not_entered_is_monday_to_friday_less_its_statutory_holidays(day):
    from haocha.workcalendar.statutory import statutory_holidays

    cal = Calendar(holidays=frozenset({day}), makeup_days=frozenset({day}), known_years=frozenset())
    assert cal.is_workday(day) == (day.weekday() < 5 and day not in statutory_holidays(day.year))


def test_an_admin_edit_of_a_day_takes_effect_at_once(
    client, django_user_model, django_capture_on_commit_callbacks
):
    from haocha.workcalendar.models import CalendarDay

    admin = django_user_model.objects.create_superuser("root", password="x-Haocha-2026")
    client.force_login(admin)
    day = CalendarDay.objects.get(date=date(2026, 10, 10))
    assert workdays.is_workday(date(2026, 10, 10))
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            f"/admin/workcalendar/calendarday/{day.pk}/change/",
            {"date": "2026-10-10", "kind": "holiday", "name": "国庆节（更正）"},
        )
    assert r.status_code == 302
    assert not workdays.is_workday(date(2026, 10, 10))


@settings(max_examples=50, deadline=None)
@given(start=st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)), span=st.integers(0, 800))
def test_working_days_between_agree_with_counting_day_by_day_inside_and_outside_the_index(
    real_calendar, start, span
):
    end = start + timedelta(days=span)
    cal = real_calendar.calendar()
    expected = sum(cal.is_workday(start + timedelta(days=i)) for i in range(1, span + 1))
    a = datetime(start.year, start.month, start.day, 9, tzinfo=SHANGHAI)
    b = datetime(end.year, end.month, end.day, 17, tzinfo=SHANGHAI)
    assert real_calendar.workdays_between(a, b) == expected


def test_deadlines_far_from_today_or_very_long_use_the_day_by_day_count(real_calendar):
    # 1995 lies outside the index; 300 working days is past its fast path: both count day by day.
    assert real_calendar.nth_workday_after(date(1995, 1, 6), 1) == date(1995, 1, 9)  # Friday → Monday
    received = date(2026, 1, 5)
    far = real_calendar.nth_workday_after(received, 300)
    assert far == _nth_workday_slow(real_calendar.calendar(), received, 300)
    start = datetime(2026, 1, 5, 9, tzinfo=SHANGHAI)
    assert (
        real_calendar.workdays_between(start, datetime(far.year, far.month, far.day, 9, tzinfo=SHANGHAI))
        == 300
    )


def test_working_hours_are_nine_to_five_on_working_days_only():
    # 2026-10-09 Friday (a working day), 10-10 Saturday (a make-up working day), 10-11 Sunday, 10-01 国庆
    assert workdays.in_working_hours(sh(2026, 10, 9, 9, 0))
    assert workdays.in_working_hours(sh(2026, 10, 9, 16, 59))
    assert not workdays.in_working_hours(sh(2026, 10, 9, 8, 59))
    assert not workdays.in_working_hours(sh(2026, 10, 9, 17, 0))
    assert workdays.in_working_hours(sh(2026, 10, 10, 10, 0))
    assert not workdays.in_working_hours(sh(2026, 10, 11, 10, 0))
    assert not workdays.in_working_hours(sh(2026, 10, 1, 10, 0))
    # another time zone is read in Shanghai time: 02:00 UTC is 10:00 there
    from datetime import UTC

    assert workdays.in_working_hours(datetime(2026, 10, 9, 2, 0, tzinfo=UTC))
    assert not workdays.in_working_hours(datetime(2026, 10, 9, 10, 0, tzinfo=UTC))  # 18:00 there


@pytest.mark.parametrize(
    "start, end, hours",
    [
        (sh(2026, 10, 9, 10, 0), sh(2026, 10, 9, 10, 0), 0.0),
        (sh(2026, 10, 9, 12, 0), sh(2026, 10, 9, 10, 0), 0.0),  # backwards
        (sh(2026, 10, 9, 10, 0), sh(2026, 10, 9, 11, 30), 1.5),
        (sh(2026, 10, 9, 7, 0), sh(2026, 10, 9, 20, 0), 8.0),  # clipped to the office hours
        (sh(2026, 10, 9, 16, 0), sh(2026, 10, 10, 10, 0), 2.0),  # Friday's last hour, Saturday (调休) first
        (sh(2026, 10, 10, 16, 0), sh(2026, 10, 12, 10, 0), 2.0),  # over Sunday
        (sh(2026, 9, 30, 16, 0), sh(2026, 10, 8, 10, 0), 2.0),  # over the National Day holiday
        (sh(2026, 10, 9, 18, 0), sh(2026, 10, 10, 8, 0), 0.0),  # a night
        (sh(2026, 10, 12, 9, 0), sh(2026, 10, 16, 17, 0), 40.0),  # a whole week
    ],
)
def test_working_hours_between(start, end, hours):
    assert workdays.working_hours_between(start, end) == pytest.approx(hours)


def test_a_count_from_inside_the_index_to_past_its_end_is_counted_day_by_day(real_calendar):
    idx = real_calendar.index()
    start = idx.last - timedelta(days=500)  # covered: the index holds 400 days after it
    end = idx.last + timedelta(days=300)  # past the index
    a = datetime(start.year, start.month, start.day, 9, tzinfo=SHANGHAI)
    b = datetime(end.year, end.month, end.day, 9, tzinfo=SHANGHAI)
    cal = real_calendar.calendar()
    expected = sum(cal.is_workday(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))
    assert real_calendar.workdays_between(a, b) == expected


def test_a_year_beyond_the_lunar_table_keeps_its_solar_holidays():
    from haocha.workcalendar.statutory import statutory_holidays

    days = statutory_holidays(2150)  # the lunar tables end in 2099–2100: no 春节, 端午, 中秋, 清明
    assert date(2150, 1, 1) in days and date(2150, 5, 2) in days and date(2150, 10, 3) in days
    assert set(days.values()) >= {"元旦", "劳动节", "国庆节"}
    assert len(days) == 1 + 2 + 3  # 元旦, 劳动节, 国庆 (the solar-term table ends in 2100 too: no 清明)


def test_programming_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="naive datetime: a receipt time needs its time zone"):
        workdays.due(datetime(2026, 12, 1, 9), 1)
    with pytest.raises(ValueError, match="n must be at least 1 working day"):
        workdays.nth_workday_after(date(2026, 12, 1), 0)
