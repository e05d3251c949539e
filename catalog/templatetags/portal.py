"""Template helpers shared by every page."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.forms import BoundField
from django.http import QueryDict

register = template.Library()


@register.simple_tag
def accessible_widget(field: BoundField):
    """The field's widget tied to its help text and errors (aria-describedby, aria-invalid),
    so a screen reader announces the error with the field."""
    described_by = []
    if field.errors:
        described_by.append(f"{field.auto_id}_errors")
    if field.help_text:
        described_by.append(f"{field.auto_id}_help")
    attrs = {}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def duration_words(value: timedelta) -> str:
    """A lockout's length as people say it: "15 minutes", "1 hour", "1 hour 30 minutes"."""
    minutes = max(1, round(value.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


# Longest text that fits each class on one line of a card (or a label), in the cards' font.
FIT_LENGTHS = (12, 16, 20, 24, 32, 40, 48, 64)


@register.filter
def fit_class(value: str, labels: bool = False) -> str:
    """The class that sets a username's or password's size on a card so that it fits one
    line unbroken: the longer the text, the smaller the type (``static/css/cards.css``)."""
    length = len(value or "")
    fit = next((n for n in FIT_LENGTHS if length <= n), FIT_LENGTHS[-1])
    return f"fit-{'label-' if labels else ''}{fit}"


@register.simple_tag
def query_with(query: str, **changes) -> str:
    """``query`` (a URL's query string) with ``changes`` set; an empty value removes it."""
    params = QueryDict(query, mutable=True)
    for name, value in changes.items():
        params.pop(name, None)
        if value:
            params[name] = value
    return params.urlencode()
