"""Every knowledge-base entry is recognised from its real message text (cases in kb_cases.toml)."""

from __future__ import annotations

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
