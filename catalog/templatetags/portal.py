"""Template helpers shared by every page."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.forms import BoundField

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
