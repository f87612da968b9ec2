"""Pages of the rating channels (server-rendered, htmx where it helps, plain forms underneath)."""


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def registered_device_page(kind_label: str):
    """A page only a registered device opens (the tablet, the terminal): on any other browser, a page that says
    how to activate one instead of a bare 403."""
    from functools import wraps

    from django.shortcuts import render

    from haocha.core.errors import Forbidden

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except Forbidden as exc:
                if exc.code != "device_not_registered":
                    raise
                context = {"kind_label": kind_label, "message": exc.message, "code": exc.code}
                response = render(request, "channels/device_not_activated.html", context, status=403)
                response["Cache-Control"] = "no-store"
                return response

        return wrapper

    return decorate
