"""Matching the knowledge base's patterns in a text of any size, and the text's line breaks, kept per text.

Shapes:
    ``Haystack(text)``: one text; ``Haystack.finditer(pattern) -> Iterator[regex.Match[str]]``: the matches of
    ``pattern.finditer(text)`` (spans, groups), in order, but for the character classes below;
    ``Haystack.search(pattern)``: the first.
    ``haystack(text) -> Haystack``: the same, kept for the last four texts (one input is matched by several steps).
    ``line_breaks(text) -> list[int]``: offsets of the text's ``\\n``, found once per text.

How: each ``re`` pattern runs as its twin in the ``regex`` module (PyPI ``regex``, "Alternative regular
expression module, to replace re"), compiled once with ``VERSION0`` (``re``'s syntax and behaviour, zero-width
matches as ``re`` finds them) and the same flags (:data:`_FLAGS`). Its search skips to the literals a match needs
by itself, so a whole Event Viewer export or a long IIS log is scanned whole, once per pattern.

Where the twin differs from ``re`` (``regex`` 2026.5.9 against Python 3.11's ``re``, every code point compared;
``tests/explain/test_spans.py`` pins them): ``\\s`` does not match U+001C-U+001F (the information separators, which
``str.isspace`` takes); ``\\w`` follows Unicode's word characters instead of ``str.isalnum``: it does not match the
numbers of category No (superscripts ``²`` ``³``, fractions ``½``) and does match combining marks (Mn, Mc, Me:
U+0301 ...), connector punctuation (U+203F), ZWNJ/ZWJ, circled letters (U+24B6 ...) and characters assigned after
Python's Unicode 14.0 (so does ``\\d`` for digits assigned since). A text holding them may match otherwise than
under ``re``; the real pastes the tests compare hold none that changes a match.

Why the library and not our own windowing any more: until 2026-12 this module (530 lines) parsed every pattern's
tree (``re._parser``) for the literals each match needs and a bound on a match's length, and ran ``re`` only over
windows around those literals. ``benchmarks/bench_explain.py --sizes 1.3,5 --rounds 3`` (CPU seconds of
``build_report``, least of three; two shared cores at load average 7.5 to 9.4), windows then ``regex``: a paste of
real errors, 1.3 MB 1.75 / 1.85 s, 5 MB 7.54 / 7.39 s; the same hard-wrapped, 1.80 / 1.86 s and 7.05 / 7.26 s; the
corpus's event XML pasted, 0.24 MB 0.32 / 0.32 s, 1.3 MB 0.49 / 0.43 s, 5 MB 1.82 / 0.89 s; the corpus's .evtx files
0.04 / 0.04 s. ``re`` over the whole text took 4.3 s for the 1.3 MB paste. One short ``iisbitness explain "TEXT"``
costs 0.29 / 0.32 s of CPU (``regex`` imports in 9 ms and compiles the knowledge base's patterns in about 30 ms).
The reports are the same, and every pattern's matches are ``re``'s on the real pastes reshaped (wrapped, CRLF, long
whitespace runs and lines, ``ſ``/Kelvin sign/``İ`` folding; ``tests/explain/test_spans.py``). The other libraries
looked at: RE2 (``google-re2``) cannot compile 9 of the 197 patterns (lookarounds, ``\\Z``) and reads ``\\w`` and
``\\s`` as ASCII (other matches), and took 0.83 s where the windows took 0.41 s over the 1.3 MB paste;
``pyahocorasick`` finds literals only (all anchors of all patterns in one pass: 0.027 s against 0.151 s of
``str.find``), so the parse-tree analysis around it would have stayed ours. The error-code patterns of
:mod:`~iisbitness.explain.codes` that were never windowed stay with ``re`` (``_HEX8``: 0.054 s there, 0.140 s in
``regex``). Nothing raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import regex

__all__ = ["Haystack", "forget", "haystack", "line_breaks"]

_FLAGS = ((re.IGNORECASE, regex.IGNORECASE), (re.MULTILINE, regex.MULTILINE), (re.DOTALL, regex.DOTALL),
          (re.VERBOSE, regex.VERBOSE), (re.ASCII, regex.ASCII))
"""``re`` flags and their ``regex`` counterparts (the values differ: ``re.ASCII`` is 256, ``regex.ASCII`` 128)."""


@lru_cache(maxsize=512)  # NOTE: the knowledge base (about 200), the fixed ones, and provider names a text holds
def _twin(pattern: re.Pattern[str]) -> regex.Pattern[str]:
    """``pattern`` compiled by ``regex`` to find what ``re`` finds (``VERSION0``, the same flags)."""
    flags = regex.VERSION0
    for ours, theirs in _FLAGS:
        if pattern.flags & ours:
            flags |= theirs
    return regex.compile(pattern.pattern, flags)


class Haystack:
    """One text prepared for :meth:`finditer` and :meth:`line_breaks`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._breaks: list[int] | None = None

    def line_breaks(self) -> list[int]:
        """Offsets of the text's ``\\n`` characters, sorted (found once)."""
        if self._breaks is None:
            self._breaks = [m.start() for m in re.finditer("\n", self.text)]
        return self._breaks

    def finditer(self, pattern: re.Pattern[str]) -> Iterator[regex.Match[str]]:
        """Exactly the matches of ``pattern.finditer(self.text)``, in order (see the module doc)."""
        return _twin(pattern).finditer(self.text)

    def search(self, pattern: re.Pattern[str]) -> regex.Match[str] | None:
        """The first match of ``pattern`` in the text, as ``pattern.search(text)``."""
        return _twin(pattern).search(self.text)


class _Recent:
    """The last few values made for texts, found by the text's identity: an ``lru_cache`` finds a text equal to a
    cached one by comparing them whole, a megabyte compare on every lookup when a caller makes the same text again
    (``plain_text`` of the same paste in a second report: 4x the time of a 5 MB paste)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: list[tuple[str, object]] = []

    def get(self, text: str) -> object | None:
        return next((value for key, value in self.items if key is text), None)

    def put(self, text: str, value: object) -> None:
        self.items = [(text, value), *self.items[: self.size - 1]]

    def clear(self) -> None:
        self.items = []


_HAYSTACKS = _Recent(4)


def haystack(text: str) -> Haystack:
    """The :class:`Haystack` of ``text``, kept for the last four texts (one input is matched by several steps)."""
    found = _HAYSTACKS.get(text)
    if isinstance(found, Haystack):
        return found
    made = Haystack(text)
    _HAYSTACKS.put(text, made)
    return made


def forget() -> None:
    """Drop the kept :class:`Haystack` objects (a benchmark's cold round, a test)."""
    _HAYSTACKS.clear()


def line_breaks(text: str) -> list[int]:
    """Offsets of the line breaks of ``text``, kept with its :class:`Haystack` (see :func:`haystack`)."""
    return haystack(text).line_breaks()
