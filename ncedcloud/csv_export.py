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


# Rows per piece of the streamed file: one piece per row would cost the response an encode,
# a write and a flush for each of a district's 160,000 rows.
ROWS_PER_PIECE = 500


def csv_download(filename: str, header: Iterable[str], rows: Iterable[Iterable[object]]):
    """Stream a CSV file ``ROWS_PER_PIECE`` rows at a time, so a district-sized file never
    sits in memory."""
    writer = csv.writer(_Echo())

    def lines():
        # The byte-order mark: spreadsheets then read the file as UTF-8.
        yield "\ufeff" + writer.writerow([csv_cell(h) for h in header])
        piece: list[str] = []
        for row in rows:
            piece.append(writer.writerow([csv_cell(v) for v in row]))
            if len(piece) == ROWS_PER_PIECE:
                yield "".join(piece)
                piece = []
        if piece:
            yield "".join(piece)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
