"""Plain aligned columns: tables for pipes and files, never truncated (issue 14), and tables that fit a
width without cutting a cell (issue 24).

Rich tables fold cells to the console width, which turns ``inspect > out.txt`` into 80-column
cells and cuts ``32BITREQ`` in half. :func:`plain_table`: every row one line; columns padded to their
widest cell, so ``grep`` and ``cut``-like tools keep working. :func:`fit_table`: the same where it fits
the width; else the last column goes under its row, and where even that is too wide each row becomes a
block of ``header: value`` fields wrapped between words. Nothing is ever cut or broken inside a word.
"""

from __future__ import annotations

import re
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


NBSP = "\u00a0"
"""Joins the words of one item (``Default Web Site/``) that wrapping must keep on one line; printed as a space."""


_WINDOWS_PATH = re.compile(r'[A-Za-z]:\\(?:[^\\\s:*?"<>|]+(?: [^\\\s:*?"<>|]+)*\\)*[^\\\s]+')
"""A Windows path whose folders may hold spaces (``C:\\Program Files (x86)\\Vendor\\v.dll``); its last part has none.
A folder name holds none of ``:*?"<>|`` ("Naming Files, Paths, and Namespaces", learn.microsoft.com: reserved
characters), so the words after a path never run on into the next one (``C:\\a\\x.dll, C:\\b\\y.dll``: two; ``D:\\web:
drive D: is not mapped; ... D:\\ftp``), which no line break could split."""


def keep_paths(text: str) -> str:
    """``text`` with the spaces inside Windows paths made :data:`NBSP`: wrapping never splits a path."""
    return _WINDOWS_PATH.sub(lambda m: m[0].replace(" ", NBSP), text)


def wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    """``text`` wrapped at ``width`` between words (never inside one, nor inside a Windows path: a long one
    overflows), with the prefixes ``first`` and ``rest``; :data:`NBSP` joins words that stay together."""
    lines = textwrap.wrap(keep_paths(text), max(width, 20), initial_indent=first, subsequent_indent=rest,
                          break_on_hyphens=False, break_long_words=False) or [first.rstrip()]
    return [ln.replace(NBSP, " ") for ln in lines]


def fit_table(header: Sequence[str], rows: Sequence[Sequence[str]], width: int, *, indent: str = "",
              items: str = ", ") -> list[str]:
    """Lines of ``header`` and ``rows`` that fit ``width`` columns, each cell whole.

    Aligned columns when the widest row fits. Else the fewest trailing columns go below each row as
    ``  header: value`` fields (``  applications: A, B``), wrapped between fields and between the last
    column's ``items``; when only the last column moves and the header still fits, rows that fit keep it.
    Else, when even the first two columns do not fit, one block per row: its first cell, then its fields.
    Lines longer than ``width`` remain only where a single field is.
    """
    full = plain_table(header, rows, indent=indent)
    if max(len(ln) for ln in full) <= width:
        return full

    def below(row: Sequence[str], start: int) -> list[str]:
        fields = [f"{h.lower()}: {v}".replace(" ", NBSP) for h, v in zip(header[start:-1], row[start:-1], strict=True)
                  if v]
        if row[-1]:
            fields.append(f"{header[-1].lower()}:{NBSP}"
                          + items.join(NBSP.join(i.split(" ")) for i in row[-1].split(items)))
        return wrap("; ".join(fields), width, indent + "  ", indent + "    ") if fields else []

    for keep in range(len(header) - 1, 1, -1):
        head = plain_table(header[:keep], [r[:keep] for r in rows], indent=indent)
        if max(len(ln) for ln in head) > width:
            continue
        mixed = keep == len(header) - 1 and len(full[0]) <= width  # NOTE: the header names the last column
        out = [full[0] if mixed else head[0]]
        for line, short, row in zip(full[1:], head[1:], rows, strict=True):
            if mixed and len(line) <= width:
                out.append(line)
            else:
                out.append(short)
                out.extend(below(row, keep))
        return out
    out = []
    for row in rows:
        out.append(indent + row[0])
        out.extend(below(row, 1))
    return out


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
