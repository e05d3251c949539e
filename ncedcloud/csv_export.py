"""CSV downloads that a spreadsheet cannot turn into formulas (CSV injection)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")  # ASCII digits: only these are numbers


def csv_cell(value: object) -> str:
    """The value as text; text a spreadsheet would read as a formula gets a leading
    apostrophe (OWASP's advice), plain numbers such as grade -5 stay as they are."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_download(filename: str, header: Iterable[str], rows: Iterable[Iterable[object]]):
    """Stream a CSV file row by row, so a district-sized file never sits in memory."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # byte-order mark: spreadsheets then read the file as UTF-8
        yield writer.writerow([csv_cell(h) for h in header])
        for row in rows:
            yield writer.writerow([csv_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
