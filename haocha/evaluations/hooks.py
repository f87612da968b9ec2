"""What happens to a stored rating beyond this app, registered by the app that does it (work orders: a 差评
becomes one), so that evaluations never imports the apps built on it."""

from collections.abc import Callable

# Called as handler(rating=..., actor=...) inside the transaction that stored the rating.
_rating_stored: list[Callable] = []


def on_rating_stored(handler: Callable) -> None:
    """Register a handler once (an app's ready() may run more than once in tests)."""
    if handler not in _rating_stored:
        _rating_stored.append(handler)


def rating_stored(*, rating, actor) -> None:
    for handler in _rating_stored:
        handler(rating=rating, actor=actor)
