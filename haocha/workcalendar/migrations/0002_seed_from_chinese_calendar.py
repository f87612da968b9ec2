"""Seed every year the chinese-calendar package knows (2004–2026 in 1.11.0)."""

from django.db import migrations

NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def seed(apps, schema_editor):
    import chinese_calendar

    CalendarYear = apps.get_model("workcalendar", "CalendarYear")
    CalendarDay = apps.get_model("workcalendar", "CalendarDay")
    known = set(CalendarYear.objects.values_list("year", flat=True))
    days, years = [], set()
    for day, name in chinese_calendar.holidays.items():
        if day.year not in known:
            days.append(CalendarDay(date=day, kind="holiday", name=NAMES.get(name, name)))
            years.add(day.year)
    for day, name in chinese_calendar.workdays.items():
        if day.weekday() >= 5 and day.year not in known:
            days.append(CalendarDay(date=day, kind="makeup", name=NAMES.get(name, name)))
            years.add(day.year)
    CalendarDay.objects.bulk_create(days, batch_size=500)
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=y, source="package", note="由 chinese-calendar 软件包导入") for y in sorted(years)]
    )


class Migration(migrations.Migration):
    dependencies = [("workcalendar", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
