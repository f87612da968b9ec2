"""Template filters of the work-order pages: an action's Chinese label, read from the machine's table."""

from django import template

from haocha.workorders import machine

register = template.Library()


@register.filter
def action_label(name: str) -> str:
    return machine.label(name)
