"""Pages of the rating channels (server-rendered, htmx where it helps, plain forms underneath)."""


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None
