"""Template helpers shared by every page."""

from __future__ import annotations

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
