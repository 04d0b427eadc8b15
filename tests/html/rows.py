"""The rows of a :class:`~iisbitness.formats.scan_html.Rows` table as the page's script builds them, in Python."""

from __future__ import annotations

from iisbitness.formats.scan_html import Rows


def expand(table: Rows) -> list[tuple[str, ...]]:
    """The records of ``table``: its plain rows, or the rows ``scan.js`` builds from its patterns and values (each
    slot replaced by its value; tests/html/test_causes_alike.py checks the script's rows in Chromium)."""
    if table.plain:
        return [tuple("".join(str(x) for x in f) for f in pt.fields) for pt in table.patterns]
    out = []
    for line in table.values.split("\n"):
        number, *values = line.split(" ")
        out.append(tuple("".join(x if isinstance(x, str) else values[x] for x in f)
                         for f in table.patterns[int(number)].fields))
    return out
