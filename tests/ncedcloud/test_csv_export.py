"""The streamed CSV holds every row, in order, however many pieces it is sent in."""

import csv
import io

from ncedcloud.csv_export import ROWS_PER_PIECE, csv_download


def test_every_row_arrives_once_in_order_across_pieces():
    rows = [[n, f"name {n}", "=SUM(A1)" if n == 7 else "x"] for n in range(ROWS_PER_PIECE * 2 + 3)]
    response = csv_download("f.csv", ["N", "Name", "Cell"], iter(rows))
    pieces = list(response.streaming_content)
    assert len(pieces) == 1 + 3  # the header (with the byte-order mark), then 3 pieces
    table = list(csv.reader(io.StringIO(b"".join(pieces).decode("utf-8-sig"))))
    assert table[0] == ["N", "Name", "Cell"]
    assert [int(row[0]) for row in table[1:]] == list(range(len(rows)))
    assert table[8][2] == "'=SUM(A1)"  # a formula stays text


def test_no_rows_gives_the_header_alone():
    response = csv_download("f.csv", ["N"], iter([]))
    assert b"".join(response.streaming_content).decode("utf-8-sig") == "N\r\n"
