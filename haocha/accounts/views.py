"""Where a member of staff starts after signing in (the landing page of their role, accounts/menu.py)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from haocha.accounts.menu import landing_url


@login_required
def start(request):
    return redirect(landing_url(request.user))
