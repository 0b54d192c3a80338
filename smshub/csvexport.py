"""CSV downloads that are safe to open in a spreadsheet (SPEC §8).

A spreadsheet reads a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return
before one) as a formula: a rejected row such as `=HYPERLINK("http://evil","x")` would become
a live link, or worse, on the marketer's machine. Such cells go out with a leading `'` (as
OWASP recommends), which spreadsheets show as text. A plain number, signed or not, stays as it
is: `+14155550123` (E.164) and `-2.5` are numbers to a spreadsheet, not formulas, and an
escaped phone number would no longer be one.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def safe_cell(value):
    """`value`, with a `'` in front when a spreadsheet would read it as a formula."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer in a stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(
    header: Iterable, rows: Iterable[Iterable], lineterminator: str = "\r\n"
) -> Iterator[str]:
    """The header and `rows` as CSV lines (for a StreamingHttpResponse), every cell made
    safe with safe_cell."""
    writer = csv.writer(_Echo(), lineterminator=lineterminator)
    yield writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])
