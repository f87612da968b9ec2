"""Device activation: the single-use link staff generate, opened on the tablet or terminal itself."""

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from haocha.channels.devices import COOKIE, COOKIE_AGE, device_activate, device_target_path, secret_digest
from haocha.channels.models import Device
from haocha.core.errors import DomainError


@never_cache
def activate(request, code):
    """GET shows what this device will become; POST (a tap, so link previews cannot spend it) activates."""
    if request.method == "POST":
        try:
            device, secret = device_activate(code=code)
        except DomainError as exc:
            return render(request, "channels/activate.html", {"error": exc.message}, status=exc.status)
        response = redirect(device_target_path(device))
        response.set_cookie(
            COOKIE, secret, max_age=COOKIE_AGE, httponly=True, samesite="Lax", secure=request.is_secure()
        )
        return response
    device = (
        Device.objects.select_related("window", "hall")
        .filter(activation_hash=secret_digest(code), is_active=True)
        .exclude(activation_hash="")
        .first()
    )
    if (
        device is None
        or device.activation_expires_at is None
        or device.activation_expires_at < timezone.now()
    ):
        message = "激活链接无效、已使用或已过期，请在“评价渠道”页面重新生成"
        return render(request, "channels/activate.html", {"error": message}, status=404)
    return render(request, "channels/activate.html", {"device": device})
