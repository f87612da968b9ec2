"""A system check that warns when a year deadlines may fall in has no holiday arrangement entered."""

from django.core.checks import Warning, register
from django.db import DatabaseError


@register()
def calendar_year_check(app_configs, **kwargs):
    from haocha.workcalendar.services import missing_years

    try:
        missing = missing_years()
    except DatabaseError:  # before migrations have run
        return []
    return [
        Warning(
            f"{year}年的节假日安排尚未录入，期限暂按法定节假日计算（不含调休）。",
            hint=f"在管理后台“工作日历”中录入，或运行 haocha workdays load 文件（{year}年国务院办公厅通知发布后）。",
            id="haocha.W101",
        )
        for year in missing
    ]


def calendar_warning_context(request):
    """Context processor: the warning on every page of those who can enter the calendar (administrators);
    other staff cannot act on it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm("workcalendar.change_calendarday"):
        return {}
    from haocha.workcalendar.services import missing_years

    missing = missing_years()
    if not missing:
        return {}
    years = "、".join(f"{y}年" for y in missing)
    return {
        "calendar_warning": f"{years}的节假日安排尚未录入，处理期限暂按法定节假日计算（不含调休），请尽快在“工作日历”中录入。"
    }
