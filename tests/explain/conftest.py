"""Shared fixtures for explain tests: the knowledge base, fixture and corpus paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisbitness.explain.kb import KnowledgeBase, load_kb

HERE = Path(__file__).parent
FIXTURES = HERE.parent / "fixtures" / "events"
CORPUS = HERE.parents[2] / "shared" / "corpus"
"""Real event logs (never edited); tests needing them skip when absent."""

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared event-log corpus not available")


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """The shipped knowledge base."""
    return load_kb()
