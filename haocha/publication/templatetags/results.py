"""Filters for figures: percentages and scores, "—" when a ratio has no denominator."""

from django import template

from haocha.publication.selectors import fmt

register = template.Library()


@register.filter
def pct(value):
    return fmt(value, "pct")


@register.filter
def score(value):
    return fmt(value, "score")
