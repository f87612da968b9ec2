"""Formatting for the results pages: ratios as percentages, channel codes as their names."""

from django import template

from haocha.evaluations.channels import Channel

register = template.Library()


@register.filter
def pct(value, digits: int = 2) -> str:
    """A ratio as a percentage; a ratio without a denominator (None) is shown as "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def channel_name(value: str) -> str:
    return dict(Channel.choices).get(value, value)
