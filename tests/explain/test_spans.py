"""explain on large pastes (spans.py): each pattern runs over windows around its anchors, with exactly the matches
of a scan of the whole text, and the report of a large paste is the report of whole scans."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from iisbitness.explain import codes, match, spans
from iisbitness.explain.kb import load_kb
from iisbitness.explain.report import build_report
from iisbitness.formats import explain_json
from tests.conftest import corpus_dir
from tests.explain.test_kb_cases import wrap60

HERE = Path(__file__).parent
TEXTS = [c["text"] for c in tomllib.loads((HERE / "pasted_cases.toml").read_text("utf-8"))["case"]]
KB = load_kb()
PATTERNS = [p for e in KB.entries for p in (*e.patterns, *e.weak, *e.hints)] + [p for c in KB.contexts for p in c.cues]
FIXED = [match._PATH, match._EVENT_ID, match._XML_EVENT_ID, match._XML_PROVIDER, match._HTTP, match._SUBSTATUS,
         match._SOURCE, codes._HEX8, codes._SIGNED, codes._CONTEXT_WIN32, codes._NAMED_WIN32, codes._PAIRED]


def _paste(size: int, reshape: str = "") -> str:
    """Real pasted texts one after another up to ``size`` characters, reshaped: wrapped at 60 columns, with
    CRLF line ends, with a long whitespace run and a very long line, or with characters the regex engine folds
    in its own way (``ſ`` matches ``s``, ``K`` (Kelvin) ``k``, ``İ`` ``i`` under IGNORECASE)."""
    blob = "\n\n".join(TEXTS)
    if reshape == "wrap":
        blob = wrap60(blob)
    elif reshape == "crlf":
        blob = blob.replace("\n", "\r\n")
    elif reshape == "runs":
        blob = blob.replace("not a valid", "not" + " " * 700 + "a\n\n\n\t valid", 3).replace(
            "\n", " " * 40, 200) + "x" * 9000 + "\n"
    elif reshape == "folds":
        blob = blob.replace("is not", "iſ not").replace("Win32", "WİN32", 5).replace("ork", "orK")
    return (blob * (size // len(blob) + 1))[:size]


def _spans(found: object) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in found]  # type: ignore[attr-defined]


@pytest.mark.parametrize("reshape", ["", "wrap", "crlf", "runs", "folds"])
def test_windows_find_exactly_the_matches_of_a_whole_scan(reshape: str) -> None:
    text = _paste(150_000, reshape)
    hay = spans.Haystack(text)
    for pattern in PATTERNS + FIXED:
        assert _spans(hay.finditer(pattern)) == _spans(pattern.finditer(text)), pattern.pattern


def test_most_patterns_have_anchors_and_a_bound() -> None:
    shaped = [p for p in PATTERNS + FIXED if spans.shape_of(p) is not None]
    assert len(shaped) >= 0.95 * len(PATTERNS + FIXED)


def test_a_large_paste_is_scanned_in_windows_not_once_per_pattern() -> None:
    """Every pattern over a 1 MB paste: the engine is given a small part of what one whole scan per pattern
    reads (before: every knowledge-base pattern scanned the whole text, 8 s for 1.3 MB)."""
    text = _paste(1_000_000)
    hay = spans.Haystack(text)
    for pattern in PATTERNS:
        list(hay.finditer(pattern))
    assert hay.scanned < 0.1 * len(PATTERNS) * len(text)


def test_short_text_skips_patterns_whose_literals_are_missing() -> None:
    hay = spans.Haystack("HTTP Error 500.19 - Internal Server Error")
    for pattern in PATTERNS:
        list(hay.finditer(pattern))
    assert hay.scanned < 0.2 * len(PATTERNS) * len(hay.text)
    assert [m.group(0) for m in hay.finditer(re.compile(r"Internal\s+Server", re.IGNORECASE))] == ["Internal Server"]


def test_a_pattern_without_anchor_or_bound_is_scanned_whole() -> None:
    for pattern in (r"[\s\S]*x", r"(a)\1", r"\d+", r"a.b"):
        assert spans.shape_of(re.compile(pattern)) is None
    text = _paste(50_000)
    pattern = re.compile(r"[\s\S]{0,5}error[\s\S]*?193", re.IGNORECASE)
    assert _spans(spans.Haystack(text).finditer(pattern)) == _spans(pattern.finditer(text))


@pytest.mark.parametrize(("pattern", "inner"), [
    (re.compile(r"START(?s:.)*?END"), "\n".join(["line"] * 3000)),  # NOTE: DOTALL inside a repeat: lines apart
    (re.compile(r"START(?:(?s:.))+END"), "\n".join(["line"] * 3000)),
    (re.compile(r"xx(?i:[a-z\n]+)yy"), "Q" * 300),  # NOTE: IGNORECASE scoped: the run is of upper case letters
    (re.compile(r"xx(?u:\s)+yy", re.ASCII), "\u00a0" * 300),  # NOTE: Unicode scoped in an ASCII pattern
], ids=["dotall-lazy", "dotall-plus", "ignorecase", "unicode"])
def test_scoped_flags_are_scanned_whole(pattern: re.Pattern[str], inner: str) -> None:
    """A group with flags of its own is judged with them by the engine, not by this walk: no bound from it."""
    start, end = ("START", "END") if "START" in pattern.pattern else ("xx", "yy")
    filler = "123456789\n" * 1000
    text = filler + start + inner + end + filler
    assert spans.shape_of(pattern) is None
    assert _spans(spans.Haystack(text).finditer(pattern)) == _spans(pattern.finditer(text)) != []


def test_another_engine_s_constants_mean_whole_scans(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Python whose ``re._constants`` lacks a name this walk reads: every pattern is scanned whole, no error."""
    import re._constants as constants  # type: ignore[import-not-found]

    monkeypatch.delattr(constants, "MAX_REPEAT")
    assert spans._load_parser() is None


def test_fold_agrees_with_the_engine_on_every_character_an_anchor_can_match() -> None:
    """For each character of the knowledge base's anchors, the characters IGNORECASE matches to it are exactly
    those with the same fold (the Latin, Greek and Cyrillic blocks, and the odd ones: Kelvin, Ohm, ſ, İ, ı)."""
    anchors = {a for p in PATTERNS + FIXED if (s := spans.shape_of(p))
               for option in s.options for alternative in option for a in alternative}
    letters = sorted({ch for a in anchors for ch in a if ch.lower() != ch.upper() or not ch.isascii()})[:400]
    others = [chr(c) for c in (*range(0x600), *range(0x1C80, 0x1C90), *range(0x1E9E, 0x1EA0), 0x212A, 0x2126,
                               0x212B, 0x1FBE)]
    for letter in letters:
        expected = re.compile(re.escape(letter), re.IGNORECASE)
        for other in [*others, letter.upper(), letter.lower()]:
            assert (expected.fullmatch(other) is not None) == (spans.fold(other) == spans.fold(letter)), \
                (letter, other)


@pytest.mark.parametrize("kind", ["paste", "events"])
def test_report_of_a_large_input_is_that_of_whole_scans(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole explain document (JSON) of a 600 KB paste, and of the corpus's event exports pasted together,
    is the same with windows as with every pattern scanned whole."""
    if kind == "events":
        text = "\n".join(p.read_text("utf-8") for p in sorted(corpus_dir("events").glob("*.xml")))
    else:
        text = _paste(600_000, "wrap")
    fast = explain_json.render(build_report([("stdin", text)], [], KB))
    spans.forget()
    monkeypatch.setattr(spans, "shape_of", lambda pattern: None)
    slow = explain_json.render(build_report([("stdin", text + "")], [], KB))
    spans.forget()
    assert fast == slow


def test_prepared_texts_are_kept_by_identity_not_compared_whole() -> None:
    """A second report on a paste equal to the first (plain_text makes its copy anew) prepares it again instead of
    comparing 5 MB on each lookup, which an lru_cache keyed by the text did: 4x the time of the first report."""
    first = "x" * 10_000 + "\nHTTP Error 503"
    second = "".join(["x" * 10_000, "\nHTTP Error 503"])
    assert first == second and first is not second
    assert spans.haystack(first) is spans.haystack(first)
    assert spans.haystack(second) is not spans.haystack(first)
    assert spans.line_breaks(second) == spans.line_breaks(first) == [10_000]
