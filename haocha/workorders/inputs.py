"""Text a step takes: each limit is the max_length of the model field the text is stored in, declared once."""

from django.db.models import Model

from haocha.core.errors import InvalidInput


def limit_of(*fields: tuple[type[Model], str]) -> int | None:
    """The narrowest max_length of the fields a text is stored in (None: no limit)."""
    limits = [m._meta.get_field(name).max_length for m, name in fields]
    limits = [n for n in limits if n]
    return min(limits) if limits else None


def checked_text(
    value: str, *fields: tuple[type[Model], str], label: str = "", required: tuple[str, str] | None = None
) -> str:
    """`value` unchanged if it fits every field it is stored in; a 422 stating the limit otherwise.
    `required`: (message, code) of the refusal when the text is blank; blank is allowed without it."""
    value = value or ""
    if required and not value.strip():
        raise InvalidInput(required[0], code=required[1])
    limit = limit_of(*fields)
    if limit is not None and len(value) > limit:
        model, name = fields[0]
        label = label or str(model._meta.get_field(name).verbose_name)
        raise InvalidInput(
            f"{label}不能超过{limit}个字（现为{len(value)}个字）",
            code="text_too_long",
            details={"max_length": limit, "length": len(value)},
        )
    return value
