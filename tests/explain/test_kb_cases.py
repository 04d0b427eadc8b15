"""Every knowledge-base entry is recognised from its real message text (cases in kb_cases.toml)."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import pytest

from iisbitness.explain.codes import Confidence
from iisbitness.explain.kb import KnowledgeBase, load_kb
from iisbitness.explain.match import match_text

HERE = Path(__file__).parent

_CASES = tomllib.loads((HERE / "kb_cases.toml").read_text("utf-8"))
_POSITIVE = [(entry_id, text, case.get("min", "medium"))
             for entry_id, case in _CASES.items() if entry_id != "negative" for text in case["texts"]]


@pytest.mark.parametrize(("entry_id", "text", "minimum"), _POSITIVE,
                         ids=[f"{e}-{n}" for n, (e, _, _) in enumerate(_POSITIVE)])
def test_entry_recognised_from_real_text(kb: KnowledgeBase, entry_id: str, text: str, minimum: str) -> None:
    found = {s.entry_id: s for s in match_text(text, kb)}
    assert entry_id in found, sorted(found)
    best = max(s.confidence for s in match_text(text, kb) if s.entry_id == entry_id)
    assert best >= Confidence[minimum.upper()]


@pytest.mark.parametrize("text", _CASES["negative"]["texts"])
def test_unrelated_text_is_not_recognised(kb: KnowledgeBase, text: str) -> None:
    assert match_text(text, kb) == ()


def test_cases_cover_every_entry() -> None:
    assert {e.id for e in load_kb().entries} <= {e for e, _, _ in _POSITIVE}


def wrap60(text: str) -> str:
    """``text`` hard-wrapped at 60 columns the way a mail client or a forum wraps a paste (each line on its own,
    words kept whole, the line breaks it had kept)."""
    return "\n".join(textwrap.fill(line, 60, break_long_words=False, break_on_hyphens=False) or line
                     for line in text.split("\n"))


@pytest.mark.parametrize(("entry_id", "text", "minimum"), _POSITIVE,
                         ids=[f"{e}-{n}" for n, (e, _, _) in enumerate(_POSITIVE)])
def test_entry_recognised_from_its_text_wrapped_at_60_columns(kb: KnowledgeBase, entry_id: str, text: str,
                                                               minimum: str) -> None:
    """Issue 23: a message hard-wrapped inside the paste still matches (every pattern's spaces match any run of
    whitespace, line breaks included)."""
    wrapped = wrap60(text)
    found = [s for s in match_text(wrapped, kb) if s.entry_id == entry_id]
    assert found, (wrapped, sorted({s.entry_id for s in match_text(wrapped, kb)}))
    assert max(s.confidence for s in found) >= Confidence[minimum.upper()]
