"""Plain aligned columns: tables for pipes and files, never truncated (issue 14).

Rich tables fold cells to the console width, which turns ``inspect > out.txt`` into 80-column
cells. Here every row is one line; columns are padded to their widest cell, so ``grep`` and
``cut``-like tools keep working. Only the last column may be wrapped, and only when asked.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Bidirectional marks and overrides: they reorder what a terminal shows ("Trojan Source")."""


def printable(text: str) -> str:
    """``text`` with control characters (C0 but tab, DEL, C1) and bidirectional overrides shown as ``\\x1b``-style
    escapes. File names and event texts come from an untrusted server: an escape sequence in one must not drive
    the terminal (rich drops only BEL, BS, VT, FF and CR; click strips only colour codes, and only in a pipe)."""
    if text.isprintable():
        return text
    return "".join(c if c == "\t" or (c.isprintable() and c not in _BIDI) else _escape(c) for c in text)


def _escape(c: str) -> str:
    """``\\x1b``, ``\\u202e``; a byte of a file name that is not UTF-8 (``os.fsdecode`` gives U+DC80..U+DCFF, PEP 383)
    as that byte, ``\\xff``."""
    if "\udc80" <= c <= "\udcff":
        return f"\\x{ord(c) - 0xDC00:02x}"
    return c.encode("unicode_escape").decode("ascii")


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
