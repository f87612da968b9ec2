"""Login throttling with django-axes: two limits, a Chinese answer, and an audit row for every lockout.

django-axes counts failures per lockout parameter (settings.AXES_LOCKOUT_PARAMETERS): (username, address)
first, then the address alone. One username from one address is locked at AXES_FAILURE_LIMIT failures, so
a stranger guessing `admin` from elsewhere does not lock its owner out; one address is locked at the higher
AXES_ADDRESS_FAILURE_LIMIT over any usernames, so a scan of many names from one place is stopped too.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum
from django.dispatch import receiver
from django.shortcuts import render

from haocha.core.audit import audit_record
from haocha.core.models import AuditLog


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        """The failures that count against AXES_FAILURE_LIMIT: this username's from this address, or the
        limit itself once the address as a whole has reached its own limit."""
        pair, address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if address >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(pair, settings.AXES_FAILURE_LIMIT)
        return pair


def locked_out_response(request, credentials, *args, **kwargs):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"locked_minutes": minutes, "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=429)


@receiver(user_locked_out)
def _audit_lockout(sender, request, username, ip_address, **kwargs):
    audit_record(
        action=AuditLog.Action.LOGIN_LOCKED,
        actor_label=(username or "")[:150],
        summary=f"登录失败次数过多，已锁定（来源地址 {ip_address}）",
        request=request,
    )
