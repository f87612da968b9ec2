"""`haocha workdays due | is-workday | load | seed | status`."""

from datetime import date, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from haocha.workcalendar.arithmetic import SHANGHAI
from haocha.workcalendar.models import CalendarYear
from haocha.workcalendar.services import (
    CalendarFileError,
    calendar_year_replace,
    missing_years,
    parse_calendar_file,
    seed_from_package,
    workdays,
)


def _parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(
            f"无法识别的时间：{text}（例：2026-09-30T16:00 或 2026-09-30T16:00+08:00）"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


class Command(BaseCommand):
    help = "工作日历：计算期限、判断工作日、录入年度节假日安排"
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        due = sub.add_parser("due", help="期限：受理日不计，第 N 个工作日 24:00（北京时间）")
        due.add_argument("--received", required=True, help="受理时间，ISO 8601；无时区视为北京时间")
        due.add_argument("--days", type=int, required=True, help="工作日数")
        isw = sub.add_parser("is-workday", help="某日是否为工作日（yes/no）")
        isw.add_argument("date")
        load = sub.add_parser("load", help="从 CSV（日期,类型,名称）或 JSON 文件录入/更正年度安排")
        load.add_argument("file")
        sub.add_parser("seed", help="从 chinese-calendar 软件包导入尚未录入的年份")
        sub.add_parser("status", help="列出已录入的年份和缺失的年份")

    def handle(self, *args, action, **opts):
        workdays.refresh()
        if action == "due":
            if opts["days"] < 1:
                raise CommandError("--days 至少为 1")
            self.stdout.write(workdays.due(_parse_moment(opts["received"]), opts["days"]).isoformat())
        elif action == "is-workday":
            try:
                day = date.fromisoformat(opts["date"])
            except ValueError as exc:
                raise CommandError(f"无法识别的日期：{opts['date']}") from exc
            self.stdout.write("yes" if workdays.is_workday(day) else "no")
        elif action == "load":
            path = Path(opts["file"])
            if not path.exists():
                raise CommandError(f"文件不存在：{path}")
            try:
                years = parse_calendar_file(path.read_text(encoding="utf-8-sig"), path.name)
                for year, (holidays, makeups) in sorted(years.items()):
                    calendar_year_replace(
                        year=year,
                        holidays=holidays,
                        makeups=makeups,
                        source=CalendarYear.Source.FILE,
                        note=f"由 {path.name} 导入",
                    )
                    self.stdout.write(
                        f"{year}年：节假日 {len(holidays)} 天，调休上班 {len(makeups)} 天，已录入"
                    )
            except CalendarFileError as exc:
                raise CommandError(str(exc)) from exc
        elif action == "seed":
            seeded = seed_from_package()
            self.stdout.write("已导入：" + ("、".join(map(str, seeded)) if seeded else "无（均已录入）"))
        elif action == "status":
            years = list(CalendarYear.objects.order_by("year").values_list("year", "source"))
            self.stdout.write(
                f"已录入 {len(years)} 个年份：{years[0][0]}–{years[-1][0]}" if years else "尚无年份"
            )
            missing = missing_years()
            if missing:
                self.stdout.write(
                    "缺失：" + "、".join(map(str, missing)) + "（暂按法定节假日计算，不含调休）"
                )
