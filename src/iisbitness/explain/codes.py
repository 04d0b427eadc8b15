"""Error numbers in any spelling: HRESULT, Win32, NTSTATUS, signed decimal, event-data bytes.

Shapes:
    ``find_codes(text) -> list[CodeHit]``: every number in ``text`` that reads as an error code, with the
    form it was written in and how sure the reading is (:class:`Confidence`). The caller keeps the hits
    whose code it knows.
    ``hresult_from_win32(n) -> int``: Win32 error ``n`` as ``0x8007xxxx`` (HRESULT_FROM_WIN32).
    ``code_from_event_binary(hex) -> int | None``: an event's ``<Binary>`` (``c1000000``) as a code.
    ``format_code(code) -> "0x800700C1"``.

False positives: a bare decimal (``193``, ``11``, ``126``) or a short hex (``0xC1``) counts only right
after an error word (error, code, hr, hresult, status, win32, errno); a lone ``193`` in a log line never
does. It is HIGH when the text names it a Win32 error (``Win32 error 193``, ``[WinError 193]``, ``System error
193``) or gives it after an error word in decimal and hex that agree (``error 193 (0xc1)``), MEDIUM after
another error word. Forms that are unambiguous on their own (eight hex digits, ten-digit decimals, signed decimals) are
HIGH (``0x`` hex may carry a C suffix, ``0x800700C1L``); context-dependent ones are MEDIUM; data bytes are HIGH
after ``data``/``0000:`` and MEDIUM otherwise; a small DWORD after ``0000:`` (Event Viewer's Words view,
``0000: 000000c1``) is that Win32 error, HIGH; a ``0x0000xxxx`` right after an error word (``Error Code
0x00000005``) is that Win32 error, MEDIUM. A ``0x`` code glued to an error label (``Error Code0x8007000d``, a
table copied without its cell breaks) is read; glued to any other word it is not.
No errors are raised.
"""

from __future__ import annotations

import bisect
import heapq
import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum

from iisbitness.explain.spans import haystack

__all__ = [
    "CodeForm",
    "CodeHit",
    "Confidence",
    "code_from_event_binary",
    "find_codes",
    "format_code",
    "has_code",
    "hresult_from_win32",
]


class Confidence(IntEnum):
    """How sure a reading is (bandit's second axis): the weight of the evidence, not its severity."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        """Lower-case name for output (``"high"``)."""
        return self.name.lower()


class CodeForm(str, Enum):
    """How a code was written."""

    HEX = "hex"
    """Eight hex digits, with or without 0x: ``0x800700C1``, ``800700c1``."""
    SIGNED_DECIMAL = "signed-decimal"
    """HRESULT as a negative int32: ``-2147024703``."""
    DECIMAL = "decimal"
    """HRESULT as an unsigned ten-digit decimal: ``2147942593``."""
    DATA_BYTES = "data-bytes"
    """Little-endian event data bytes: ``c1 00 00 00`` or ``c1000000``."""
    DATA_WORDS = "data-words"
    """Event data as Event Viewer's Words view shows it, one DWORD a group: ``0000: 000000c1`` (Win32 error 193)."""
    WIN32 = "win32"
    """A small Win32 error number after an error word: ``System error 193``, ``error 0xC1``."""


@dataclass(frozen=True, slots=True)
class CodeHit:
    """One number read as an error code."""

    code: int
    """Unsigned 32-bit HRESULT / NTSTATUS (Win32 errors converted with :func:`hresult_from_win32`)."""
    text: str
    """The characters matched."""
    start: int
    """Offset of the match in the text."""
    form: CodeForm
    confidence: Confidence


_HEX8 = re.compile(r"(?=[0-9a-f])(?:(?<![0-9a-z])(?:0x)?|(?:(?<=code)|(?<=error)|(?<=hresult)|(?<=hr))0x)([0-9a-f]{8})"
                   r"(?:(?<=0x[0-9a-f]{8})(?:u?l{1,2}|u))?(?![0-9a-z])", re.IGNORECASE)
"""Eight hex digits; with ``0x``, a C integer suffix may follow, as headers and debuggers print them (``0x800700C1L``).
A ``0x`` code glued to its label counts too: an IIS error page copied without its table's cell breaks reads
"Error Code0x8007000d" (tjanczuk/iisnode issue #85). The leading ``(?=[0-9a-f])`` (as ``_SIGNED``'s ``(?=-)``) changes no
match: every match starts so; it lets the engine skip to such a character (twice as fast on a large paste)."""
_SIGNED = re.compile(r"(?=-)(?<![\w.])-(\d{9,10})(?![\d.])")
_DEC10 = re.compile(r"(?<![\w.-])(\d{10})(?![\d.])")
_BYTES = re.compile(r"(?<![0-9a-z])([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{2})(?![0-9a-z])",
                    re.IGNORECASE)
_DATA_CONTEXT = re.compile(r"(?:\bdata\b|\bbinary\b|\b0000:)[^\n]{0,40}$", re.IGNORECASE)
_WORDS_ROW = re.compile(r"(?:^|\n)[ \t]*[0-9a-f]{4}:[ \t]+(?:[0-9a-f]{8}[ \t]+)*$", re.IGNORECASE)
"""What precedes a DWORD in Event Viewer's Words view: the row's offset (``0000:``) and the DWORDs before it."""
_MODULE_DATA = re.compile(r"Module DLL|data is the error", re.IGNORECASE)
"""A W3SVC-WP module-load event (2280, 2282), whose data is a Win32 error: a small DWORD in eight hex digits there is
that error, not little-endian bytes."""
MODULE_DATA_REACH = 400
"""How far (characters) before a DWORD :data:`_MODULE_DATA` is looked for: the event's own text, not a line anywhere in
a large paste (which would make every small eight-digit hex word there a Win32 error)."""
_CONTEXT_WIN32 = re.compile(
    r"\b(?:error|err|errno|code|hr|hresult|status|win32)\b[\s:=#'\"(]{0,4}"
    r"(?:(?:code|number|no\.?|is|was)\b[\s:=#'\"(]{0,4})?"
    r"(?:(0x[0-9a-f]{1,4})|(\d{1,5}))(?![\w.])",
    re.IGNORECASE,
)


_NAMED_WIN32 = re.compile(
    r"\b(?:win32\s*(?:error|status|err)|winerror|system\s+error|win32_error)\b[\s:=#'\"(\[]{0,4}"
    r"(?:code\s*)?(?:(0x[0-9a-f]{1,4})|(\d{1,5}))(?![\w.])",
    re.IGNORECASE,
)
"""A number that the text itself calls a Win32 / system error ("Win32 error 193", "[WinError 193]")."""
_PAIRED = re.compile(r"(?<![\w.])(?:(\d{1,5})\s*\(\s*0x([0-9a-f]{1,4})\s*\)|0x([0-9a-f]{1,4})\s*\(\s*(\d{1,5})\s*\))",
                     re.IGNORECASE)
"""The same number in decimal and hex, as Windows tools print it: "193 (0xc1)", "0xC1 (193)"."""
_PAIR_CONTEXT = re.compile(r"\b(?:error|err|errno|code|hr|hresult|status|win32|failed|failure)\b[^\n]{0,40}$",
                           re.IGNORECASE)
"""An error word before the pair on its line: "byte 193 (0xC1)" in a dump is a value, not an error."""
_ERROR_LABEL = re.compile(r"\b(?:error|err|errno|code|hr|hresult|status)\b[ \t:=#]{0,6}$", re.IGNORECASE)
"""An error word right before a number: "Error Code\t0x00000005" (an IIS error page from a module that reports
a Win32 error as it is, not as an HRESULT)."""
_EXIT_CODE = re.compile(r"\bexit(?:ed)?\s+(?:with\s+)?code\s*[:=]?\s*$", re.IGNORECASE)
"""A process exit code ("has exited with code 11 (0xb)") is the program's own number, not a Win32 error."""


def hresult_from_win32(value: int) -> int:
    """HRESULT_FROM_WIN32: ``193 -> 0x800700C1``; values already carrying a severity bit pass through."""
    if value <= 0 or value & 0x80000000:
        return value & 0xFFFFFFFF
    return (value & 0xFFFF) | 0x80070000


def _from_dword(value: int) -> int:
    """A DWORD from event data: small values are Win32 errors, others HRESULT/NTSTATUS already."""
    return hresult_from_win32(value) if value < 0x10000 else value


def code_from_event_binary(hex_text: str) -> int | None:
    """First little-endian DWORD of an event's ``<Binary>`` hex (``c1000000`` -> 0x800700C1), or None."""
    digits = re.sub(r"\s+", "", hex_text)
    if len(digits) < 8 or not re.fullmatch(r"[0-9a-fA-F]+", digits):
        return None
    value = int.from_bytes(bytes.fromhex(digits[:8]), "little")
    return _from_dword(value) if value else None


def format_code(code: int) -> str:
    """``0x800700C1``: upper-case hex digits, lower-case prefix."""
    return f"0x{code & 0xFFFFFFFF:08X}"


def find_codes(text: str) -> list[CodeHit]:
    """Every number in ``text`` that reads as an error code, in order of position (see module doc)."""
    return sorted(_codes(text), key=lambda h: h.start)


def has_code(text: str, besides: Sequence[re.Pattern[str]] = ()) -> bool:
    """True when :func:`find_codes` would find anything in ``text`` that overlaps no match of the patterns
    ``besides`` (HTTP statuses, which are not error codes). Stops at the first hit: a large text seldom has none.
    Reads ``text`` itself, never a copy with those matches blanked out (a second text as large, matched again):
    the matches are kept as two arrays of offsets, 16 bytes each."""
    starts, ends = array("q"), array("q")
    for start, end in heapq.merge(*((m.span() for m in p.finditer(text)) for p in besides)):
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    for hit in _codes(text):
        i = bisect.bisect_left(starts, hit.start + len(hit.text)) - 1  # NOTE: the last match starting before its end
        if i < 0 or ends[i] <= hit.start:
            return True
    return False


def _codes(text: str) -> Iterator[CodeHit]:
    """The hits of :func:`find_codes`, form by form."""
    hay = haystack(text)
    for m in _HEX8.finditer(text):
        yield (CodeHit(int(m.group(1), 16), m.group(0), m.start(), CodeForm.HEX, Confidence.HIGH))
        word = int(m.group(1), 16)
        if m.group(0).lower().startswith("0x"):
            if 0 < word < 0x10000 and _ERROR_LABEL.search(text[max(0, m.start() - 30):m.start()]):
                # NOTE: "Error Code 0x00000005" is Win32 error 5 (tjanczuk/iisnode issue #522: HTTP 500.1000)
                yield (CodeHit(hresult_from_win32(word), m.group(0), m.start(), CodeForm.WIN32,
                                    Confidence.MEDIUM))
            continue
        # NOTE: an event's <Binary> pasted as text ("c1000000", "02000780") is little-endian bytes.
        value = int.from_bytes(bytes.fromhex(m.group(1)), "little")
        if value:
            yield (CodeHit(_from_dword(value), m.group(0), m.start(), CodeForm.DATA_BYTES, Confidence.MEDIUM))
        if 0 < word < 0x10000 and _WORDS_ROW.search(text[max(0, m.start() - 120):m.start()]):
            # NOTE: Event Viewer's Words view prints each DWORD as a number: "0000: 000000c1" is error 193
            yield (CodeHit(hresult_from_win32(word), m.group(0), m.start(), CodeForm.DATA_WORDS,
                                Confidence.HIGH))
        elif 0 < word < 0x10000 and _MODULE_DATA.search(text, max(0, m.start() - MODULE_DATA_REACH), m.start()):
            # NOTE: the data of a module-load event written as that DWORD, without the Words view's row offset
            # ("The Module DLL iisnode.dll failed to load ... 0000007f": Win32 error 127, tjanczuk/iisnode issue #47)
            yield (CodeHit(hresult_from_win32(word), m.group(0), m.start(), CodeForm.DATA_WORDS,
                                Confidence.MEDIUM))
    for m in _SIGNED.finditer(text):
        n = int(m.group(1))
        if 0x80000000 >= n >= 0x40000000:
            yield (CodeHit((1 << 32) - n, m.group(0), m.start(), CodeForm.SIGNED_DECIMAL, Confidence.HIGH))
    for m in _DEC10.finditer(text):
        n = int(m.group(1))
        if 0x80000000 <= n <= 0xFFFFFFFF:
            yield (CodeHit(n, m.group(0), m.start(), CodeForm.DECIMAL, Confidence.HIGH))
    for m in _BYTES.finditer(text):
        value = int.from_bytes(bytes(int(g, 16) for g in m.groups()), "little")
        if value:
            before = text[max(0, m.start() - 60):m.start()]
            sure = Confidence.HIGH if _DATA_CONTEXT.search(before) else Confidence.MEDIUM
            yield (CodeHit(_from_dword(value), m.group(0), m.start(), CodeForm.DATA_BYTES, sure))
    # NOTE: `w`, a regex.Match (explain.spans), not the re.Match `m` of the loops above
    for w in hay.finditer(_CONTEXT_WIN32):
        number = int(w.group(1), 16) if w.group(1) else int(w.group(2))
        if number:
            yield (CodeHit(hresult_from_win32(number), w.group(0), w.start(), CodeForm.WIN32,
                                Confidence.MEDIUM))
    for w in hay.finditer(_NAMED_WIN32):
        number = int(w.group(1), 16) if w.group(1) else int(w.group(2))
        if number:
            yield (CodeHit(hresult_from_win32(number), w.group(0), w.start(), CodeForm.WIN32, Confidence.HIGH))
    for w in hay.finditer(_PAIRED):
        decimal, hexa = (w.group(1), w.group(2)) if w.group(1) else (w.group(4), w.group(3))
        before = text[max(0, w.start() - 60):w.start()]
        if int(decimal) == int(hexa, 16) and int(decimal) and _PAIR_CONTEXT.search(before) \
                and not _EXIT_CODE.search(before):
            yield (CodeHit(hresult_from_win32(int(decimal)), w.group(0), w.start(), CodeForm.WIN32,
                                Confidence.HIGH))
