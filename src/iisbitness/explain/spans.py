"""Where in a large text a regular expression can match: literal anchors and bounded windows, so that
``explain`` on a whole Event Viewer export or a long IIS log runs each pattern over a few windows, not the whole
text. The matches are exactly those of ``pattern.finditer(text)``.

Shapes:
    ``Haystack(text)``: one text, prepared once (its case-folded copy, its longest runs, anchor offsets);
    ``Haystack.scanned`` counts the characters given to the regular-expression engine.
    ``Haystack.finditer(pattern) -> Iterator[re.Match[str]]``: the matches of ``pattern.finditer(text)``, in order.
    ``haystack(text) -> Haystack``: the same, cached for the last four texts.
    ``shape_of(pattern) -> Shape | None``: what the pattern needs (None: it is scanned whole).
    ``fold(text) -> str``: the text case-folded as the engine compares under IGNORECASE, offsets kept.

How: a pattern's parse tree (the standard library's own parser, ``re._parser``) gives (1) literals every match
contains (runs of literal characters of its required parts; per branch of an alternation, one of the branch's),
and (2) a bound on a match's length in units of the text: its longest whitespace run (a ``\\s+``, which every
literal space of a knowledge-base pattern becomes), its longest line (``.*``, ``[^'"\\n]*``, ``\\w+``) and the
longest run of any other repeated class (``[\\s:]*``). Every match lies within that bound of an anchor occurrence,
so the pattern runs only over the merged windows around the occurrences, found by a plain ``str`` search in the
case-folded text (a case-sensitive literal search runs at memchr speed; an IGNORECASE pattern tries every
position). The anchors are picked per text: of the literals every match needs, the rarest in a sample of the text.
A text of at most :data:`_SMALL` characters (one event's message) is scanned whole, unless it lacks a literal
every match needs. Case folding follows the engine's own: simple lower case (U+0130 -> ``i``) and the extra
equivalences of ``re._casefix`` (``ſ`` and ``s``, ``ı`` and ``i``). A pattern whose matches cannot be bounded
(``[\\s\\S]*``, a back-reference) or that has no anchor of two characters is scanned whole; so is every pattern
when the standard library's parser cannot be used: the result is the same, only slower.

Why it is exact: a match contains an anchor occurrence ``s`` and is at most ``M`` long, so it lies in ``[s+a-M,
s+M]`` (``a`` the anchor's length); such cores are merged; the scan of a core ``[lo, hi)`` starts at ``lo``
(Python's ``pos``: lookbehinds and ``^`` still see the text before it) and ends ``M`` plus the lookaheads' reach
past ``hi``, so no path the engine tries from a start inside the core is cut short by the window's end; a match
is kept when it starts inside the core. Nothing raises.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["Haystack", "Shape", "fold", "forget", "haystack", "line_breaks", "shape_of"]

_MIN_ANCHOR = 2
"""Shortest anchor used; a pattern without one is scanned whole."""
_WINDOW_COST = 200
"""What one window costs, in characters of a whole scan (a window's Python steps take a few µs; an IGNORECASE
pattern scans a character in 6 to 200 ns, the knowledge base's alternations of localised labels the slowest):
past ``len(text) / (_WINDOW_COST + 2 * longest match)`` anchor occurrences the text is scanned whole."""
_CANDIDATES = 3
"""Literals of one alternative considered as its anchor (the longest; the rarest in the text is used)."""
_SAMPLE = 32768
"""Characters of each of the three parts of a long text in which anchors' rarity is counted."""
_SMALL = 4096
"""Texts up to this many characters are scanned whole: preparing windows costs more than it saves."""


def _extra_cases() -> dict[int, str]:
    """Each character of an IGNORECASE equivalence class the regex engine adds beyond simple lower case
    (``re._casefix._EXTRA_CASES``), mapped to the class's smallest member."""
    try:
        extra: dict[int, tuple[int, ...]] = importlib.import_module("re._casefix")._EXTRA_CASES
    except (ImportError, AttributeError):
        return {}
    parent: dict[int, int] = {}

    def root(c: int) -> int:
        while parent.get(c, c) != c:
            c = parent[c]
        return c

    for lo, others in extra.items():
        for other in others:
            a, b = root(lo), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members = set(extra) | {o for others in extra.values() for o in others}
    return {c: chr(root(c)) for c in members if root(c) != c}


_LOWER_FIRST = {0x130: "i"}
"""The one character whose full lower case (``str.lower``) is two characters; the regex engine's simple one is
``i``."""
_EXTRA = _extra_cases()


_SPECIAL = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_EXTRA)) + "]") if _EXTRA else None
"""A character of :data:`_EXTRA` (``str.translate`` is slow, and most texts have none); None without them."""


def fold(text: str) -> str:
    """``text`` case-folded as the regex engine compares under IGNORECASE, one character for one (so offsets
    hold): a literal matches case-insensitively at an offset exactly where its fold occurs in the fold."""
    if text.isascii():
        return text.lower()
    lowered = (text.translate(_LOWER_FIRST) if "\u0130" in text else text).lower()
    return lowered.translate(_EXTRA) if _SPECIAL is not None and _SPECIAL.search(lowered) else lowered


_Term = str | re.Pattern[str]
"""A unit of length: ``""`` one character, ``"ws"`` the text's longest whitespace run, ``"line"`` its longest line,
or a pattern ``C+`` of one character class: the text's longest run of that class."""
_Width = dict[_Term, int]
_Requirement = tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Shape:
    """What a pattern's matches contain and how long they can be, in units of the text (:data:`_Term`)."""

    options: tuple[_Requirement, ...]
    """Ways to anchor the matches (see :meth:`_Analyser.requirements`); :meth:`Haystack.anchors` picks one."""
    length: tuple[tuple[_Term, int], ...]
    """A match's length at most: the sum of these units times their counts."""
    ahead: tuple[tuple[_Term, int], ...]
    """How far past a match's start its lookaheads read at most, the same way."""


class _Unbounded(Exception):
    """A part of a pattern whose length has no bound usable here."""


def _add(a: _Width, b: _Width, times: int = 1) -> _Width:
    out = dict(a)
    for key, n in b.items():
        out[key] = out.get(key, 0) + n * times
    return out


def _max(a: _Width, b: _Width) -> _Width:
    return {key: max(a.get(key, 0), b.get(key, 0)) for key in {*a, *b}}


class _Analyser:
    """Walks one parse tree (``re._parser``'s ``SubPattern``: a list of ``(opcode, argument)``)."""

    def __init__(self, parser: Any, compiler: Any, flags: int) -> None:
        self.parser = parser
        self.compiler = compiler
        self.flags = flags
        self.lookahead: _Width = {}

    def _one_char(self, op: str, av: Any) -> str:
        """What one character of a class can be: ``"ws"`` (whitespace only, never ``\n``), ``"ws-nl"``
        (whitespace only), ``"line"`` (never ``\n``); raise for a class that can be ``\n`` and more."""
        if op not in ("IN", "LITERAL", "NOT_LITERAL", "ANY"):
            raise _Unbounded
        sub = self.parser.SubPattern(self.parser.State(), [(_OPS[op], av)])
        sub.state.flags = self.flags
        newline = self.compiler.compile(sub, self.flags).fullmatch("\n") is not None
        space = (op == "LITERAL" and chr(av).isspace()) or (op == "IN" and bool(av) and all(
            (str(k) == "LITERAL" and chr(v).isspace()) or (str(k) == "CATEGORY" and str(v) == "CATEGORY_SPACE")
            for k, v in av))
        if space:
            return "ws-nl" if newline else "ws"
        if newline:
            raise _Unbounded
        return "line"

    def _kinds(self, data: Any) -> set[str]:
        """The :meth:`_one_char` kinds of every character a sequence consumes; raise if one has neither."""
        kinds: set[str] = set()
        for op_code, av in data:
            op = str(op_code)
            if op in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
                kinds.add(self._one_char(op, av))
            elif op in ("SUBPATTERN", "ATOMIC_GROUP"):
                if op == "SUBPATTERN" and (av[1] or av[2]):
                    raise _Unbounded  # NOTE: scoped flags ((?s:.), (?i:[a-z\n])): classes judged with others'
                kinds |= self._kinds(av[3] if op == "SUBPATTERN" else av)
            elif op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                kinds |= self._kinds(av[2])
            elif op == "BRANCH":
                for branch in av[1]:
                    kinds |= self._kinds(branch)
            elif op != "AT":
                raise _Unbounded
        if not kinds:
            raise _Unbounded
        return kinds

    def _run(self, op: str, av: Any) -> re.Pattern[str]:
        """``C+`` for the one-character class ``(op, av)``: its longest run in a text bounds its repeat."""
        one = self.parser.SubPattern(self.parser.State(), [(_OPS[op], av)])
        sub = self.parser.SubPattern(self.parser.State(), [(_OPS["MAX_REPEAT"], (1, self.parser.MAXREPEAT, one))])
        sub.state.flags = self.flags
        pattern: re.Pattern[str] = self.compiler.compile(sub, self.flags)
        return pattern

    def width(self, data: Any) -> _Width:
        """Longest match of a sequence (see :data:`_Term`); lookaheads are added to :attr:`lookahead`."""
        total: _Width = {}
        for op_code, av in data:
            op = str(op_code)
            if op in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
                total = _add(total, {"": 1})
            elif op == "AT":
                continue
            elif op == "SUBPATTERN":
                if av[1] or av[2]:
                    raise _Unbounded  # NOTE: scoped flags: this walk judges classes with the pattern's own flags
                total = _add(total, self.width(av[3]))
            elif op == "ATOMIC_GROUP":
                total = _add(total, self.width(av))
            elif op == "BRANCH":
                widest: _Width = {}
                for branch in av[1]:
                    widest = _max(widest, self.width(branch))
                total = _add(total, widest)
            elif op in ("ASSERT", "ASSERT_NOT"):
                direction, sub = av
                inner = self.width(sub)
                if direction == 1:  # NOTE: a lookahead reads past the match; a lookbehind sees the whole text
                    self.lookahead = _max(self.lookahead, _add(total, inner))
            elif op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                _, high, sub = av
                if high != self.parser.MAXREPEAT:
                    total = _add(total, self.width(sub), high)
                    continue
                # NOTE: a repeat of whitespace spans at most the longest whitespace run; one of what never matches
                # a line break (\w+, (?:\.\w+)*) at most the longest line; one of another class (``[\s:]*``)
                # at most that class's longest run
                if len(sub.data) == 1 and str(sub.data[0][0]) in ("IN", "NOT_LITERAL", "ANY", "LITERAL"):
                    node_op, node_av = str(sub.data[0][0]), sub.data[0][1]
                    try:
                        kinds = {self._one_char(node_op, node_av)}
                    except _Unbounded:
                        total = _add(total, {self._run(node_op, node_av): 1})
                        continue
                else:
                    kinds = self._kinds(sub.data)
                if kinds <= {"ws", "ws-nl"}:
                    total = _add(total, {"ws": 1})
                elif "ws-nl" not in kinds:
                    total = _add(total, {"line": 1})
                else:
                    raise _Unbounded
            else:  # NOTE: GROUPREF, GROUPREF_EXISTS and anything newer: no bound here
                raise _Unbounded
        return total

    def requirements(self, data: Any) -> list[_Requirement]:
        """Ways to say what every match of a sequence contains: each a tuple of alternatives (one of which every
        match shows), each alternative a tuple of folded literals (each of which every match showing it contains:
        any one serves as its anchor)."""
        required: list[str] = []
        options: list[_Requirement] = []
        run: list[str] = []

        def take(found: list[_Requirement]) -> None:
            for option in found:
                if len(option) == 1:
                    required.extend(option[0])
                else:
                    options.append(option)

        for op_code, av in [*data, ("END", None)]:
            op = str(op_code)
            if op == "LITERAL":
                run.append(chr(av))
                continue
            if len(run) >= _MIN_ANCHOR:
                required.append(fold("".join(run)))
            run = []
            if op == "SUBPATTERN":
                take(self.requirements(av[3]))
            elif op == "ATOMIC_GROUP":
                take(self.requirements(av))
            elif op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
                take(self.requirements(av[2]))
            elif op == "BRANCH":
                branches: list[tuple[str, ...]] = []
                for branch in av[1]:
                    found = self.requirements(branch)
                    single = tuple(dict.fromkeys(a for option in found if len(option) == 1 for a in option[0]))
                    if single:
                        branches.append(single)
                    elif found:
                        branches.extend(found[0])
                    else:
                        break
                else:
                    options.append(tuple(branches))
        if required:
            options.insert(0, (tuple(dict.fromkeys(required)),))
        return options

_OPS: dict[str, Any] = {}


def _load_parser() -> tuple[Any, Any] | None:
    try:
        parser = importlib.import_module("re._parser")
        compiler = importlib.import_module("re._compiler")
        constants = importlib.import_module("re._constants")
        ops = {name: getattr(constants, name) for name in ("IN", "LITERAL", "NOT_LITERAL", "ANY", "MAX_REPEAT")}
    except (ImportError, AttributeError):  # NOTE: another Python's engine: every pattern scanned whole
        return None
    _OPS.update(ops)
    return parser, compiler


_PARSER = _load_parser() if _EXTRA else None
"""None (every pattern scanned whole) also when the engine's extra case equivalences cannot be read: without them
:func:`fold` could miss an ``ſ`` that an IGNORECASE ``s`` matches."""


@lru_cache(maxsize=2048)
def shape_of(pattern: re.Pattern[str]) -> Shape | None:
    """The anchors and length bound of ``pattern``; None when it must be scanned whole (see the module doc)."""
    if _PARSER is None or pattern.flags & (re.DOTALL | re.VERBOSE):
        return None
    parser, compiler = _PARSER
    try:
        tree = parser.parse(pattern.pattern, pattern.flags)
        walker = _Analyser(parser, compiler, pattern.flags)
        width = walker.width(tree.data)
        options = walker.requirements(tree.data)
    except Exception:  # noqa: BLE001 - _Unbounded, re.error, another engine's tree: scanned whole
        return None
    # NOTE: a literal that holds another of its alternative is redundant there; the longest few are kept
    kept = tuple(tuple(tuple(sorted((a for a in alternative if not any(b != a and b in a for b in alternative)),
                                    key=len, reverse=True)[:_CANDIDATES]) for alternative in option)
                 for option in options)
    if not kept:
        return None
    return Shape(kept, tuple(width.items()), tuple(walker.lookahead.items()))


def _longest_whitespace(text: str) -> int:
    """The longest run of ``\\s`` characters in ``text`` (at least 1): doubling, then halving, the length a
    ``\\s{n,}`` search asks for (a log has a short run on every line: listing them all is slower)."""
    low, high = 1, 2
    while re.search(rf"\s{{{high},}}", text):
        low, high = high, high * 2
    while high - low > 1:  # NOTE: a run of `low` exists, none of `high`
        middle = (low + high) // 2
        low, high = (middle, high) if re.search(rf"\s{{{middle},}}", text) else (low, middle)
    return low


class Haystack:
    """One text prepared for :meth:`finditer`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._folded: str | None = None
        self._measures: dict[_Term, int] = {}
        self._breaks: list[int] | None = None
        self._found: dict[str, tuple[list[int], bool]] = {}
        """Per literal: its offsets, and whether that is all of them (else there are more than listed)."""
        self._counts: dict[str, int] = {}
        self._sample: str | None = None
        self.scanned = 0
        """Characters given to the regular-expression engine so far (a window's, or the whole text's)."""

    @property
    def folded(self) -> str:
        """:func:`fold` of the text, made once."""
        if self._folded is None:
            self._folded = fold(self.text)
        return self._folded

    def line_breaks(self) -> list[int]:
        """Offsets of the text's ``\\n`` characters, sorted (found once)."""
        if self._breaks is None:
            self._breaks = [m.start() for m in re.finditer("\n", self.text)]
        return self._breaks

    def measure(self, term: _Term) -> int:
        """The length in characters of one unit :data:`_Term` in this text (cached)."""
        found = self._measures.get(term)
        if found is None:
            if term == "":
                found = 1
            elif term == "line":
                found, start = 0, 0
                while (end := self.text.find("\n", start)) >= 0:
                    found, start = max(found, end - start), end + 1
                found = max(found, len(self.text) - start)
            elif term == "ws":
                found = _longest_whitespace(self.text)
            else:
                assert isinstance(term, re.Pattern)
                found = max(map(len, term.findall(self.text)), default=1)
            self._measures[term] = found
        return found

    def bound(self, shape: Shape) -> tuple[int, int]:
        """``(longest match, how far past its start its lookaheads read)`` of a pattern of ``shape`` here."""
        return (sum(n * self.measure(t) for t, n in shape.length), sum(n * self.measure(t) for t, n in shape.ahead))

    def occurrences(self, literal: str, limit: int) -> list[int] | None:
        """Offsets of the folded ``literal`` in the folded text, sorted (overlapping ones too); None when there
        are more than ``limit``."""
        cached = self._found.get(literal)
        if cached is not None and (cached[1] or len(cached[0]) > limit):
            return cached[0] if len(cached[0]) <= limit else None
        folded, at = self.folded, self.folded.find(literal)
        found: list[int] = []
        while at >= 0 and len(found) <= limit:
            found.append(at)
            at = folded.find(literal, at + 1)
        self._found[literal] = (found, at < 0)
        return found if len(found) <= limit else None

    def rarity(self, literal: str) -> int:
        """How often the folded ``literal`` occurs in a sample of the text (cached): to pick anchors by."""
        found = self._counts.get(literal)
        if found is None:
            found = self._counts[literal] = self.sample.count(literal)
        return found

    @property
    def sample(self) -> str:
        """The folded text, or for a long one its start, middle and end (:data:`_SAMPLE` characters each)."""
        if self._sample is None:
            folded, n = self.folded, len(self.folded)
            self._sample = folded if n <= 3 * _SAMPLE else "\0".join(
                (folded[:_SAMPLE], folded[n // 2 - _SAMPLE // 2:n // 2 + _SAMPLE // 2], folded[-_SAMPLE:]))
        return self._sample

    def anchors(self, shape: Shape) -> tuple[str, ...]:
        """The literals to look for: of each of the shape's options, the rarest literal of each alternative
        (in the sample); of the options, the one whose literals occur least. A chosen literal that holds
        another chosen one is dropped (its occurrences are the other's)."""
        best: tuple[int, tuple[str, ...]] | None = None
        for option in shape.options:
            chosen = tuple(dict.fromkeys(min(alternative, key=self.rarity) for alternative in option))
            chosen = tuple(a for a in chosen if not any(b != a and b in a for b in chosen))
            total = sum(map(self.rarity, chosen))
            if best is None or total < best[0]:
                best = (total, chosen)
        return best[1] if best else ()

    def possible(self, shape: Shape) -> bool:
        """False when the text lacks what every match of a pattern of ``shape`` contains: for some option, each
        alternative misses one of its literals."""
        folded = self.folded
        return all(any(all(a in folded for a in alternative) for alternative in option) for option in shape.options)

    def windows(self, shape: Shape) -> list[tuple[int, int]] | None:
        """Merged ``(start, end)`` cores where a match of a pattern of this shape can start and end; None when
        the anchors occur so often that one scan of the whole text costs less than the windows."""
        longest, _ = self.bound(shape)
        limit = len(self.text) // (_WINDOW_COST + 2 * longest)
        starts: list[tuple[int, str]] = []
        for anchor in self.anchors(shape):
            found = self.occurrences(anchor, limit)
            if found is None or len(starts) + len(found) > limit:
                return None
            starts += [(at, anchor) for at in found]
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted((max(0, at + len(a) - longest), at + longest) for at, a in starts):
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        return merged

    def finditer(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        """Exactly the matches of ``pattern.finditer(self.text)``, in order (see the module doc)."""
        shape = shape_of(pattern)
        if shape is not None and len(self.text) <= _SMALL:
            # NOTE: a short text (one event's message) is scanned whole, unless a literal every match needs is
            # missing from it: most patterns are ruled out by one `in`
            if self.possible(shape):
                self.scanned += len(self.text)
                yield from pattern.finditer(self.text)
            return
        windows = self.windows(shape) if shape is not None else None
        if shape is None or windows is None:
            self.scanned += len(self.text)
            yield from pattern.finditer(self.text)
            return
        longest, ahead = self.bound(shape)
        for lo, hi in windows:
            end = min(len(self.text), hi + longest + ahead)
            self.scanned += end - lo
            for m in pattern.finditer(self.text, lo, end):
                if m.start() >= hi:
                    break
                yield m

    def search(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        """The first match of ``pattern`` in the text, as ``pattern.search(text)``."""
        return next(self.finditer(pattern), None)


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

