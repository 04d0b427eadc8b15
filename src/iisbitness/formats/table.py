"""Plain aligned columns: tables for pipes and files, never truncated (issue 14).

Rich tables fold cells to the console width, which turns ``inspect > out.txt`` into 80-column
cells. Here every row is one line; columns are padded to their widest cell, so ``grep`` and
``cut``-like tools keep working. Only the last column may be wrapped, and only when asked.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence


def plain_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, indent: str = "",
                wrap_last: int | None = None) -> list[str]:
    """Lines of ``header`` and ``rows`` in aligned columns (two spaces apart), trailing spaces removed.

    ``wrap_last``: a line width; the last column then wraps under itself when a row is longer
    (for a terminal). None: one row, one line, whatever its length (for pipes).
    """
    table = [list(header), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(header) - 1)]
    out: list[str] = []
    for row in table:
        lead = indent + "".join(cell.ljust(w + 2) for cell, w in zip(row, widths, strict=False))
        last = row[-1]
        room = (wrap_last - len(lead)) if wrap_last is not None else None
        if room is None or room < 20 or len(last) <= room:
            out.append((lead + last).rstrip())
            continue
        parts = textwrap.wrap(last, room, break_on_hyphens=False, break_long_words=False) or [""]
        out.append((lead + parts[0]).rstrip())
        out.extend(" " * len(lead) + p for p in parts[1:])
    return out
