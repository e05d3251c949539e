"""Small helpers for asserting what a user reads on a page."""

from __future__ import annotations

import html
import re


def page_text(response) -> str:
    """The page's visible text: tags removed, entities decoded, whitespace collapsed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return re.sub(r"\s+", " ", text).strip()


def field_errors(response, field: str) -> list[str]:
    """The error messages shown next to one field of the page's form."""
    form = response.context["form"]
    return list(form.errors.get(field, []))
