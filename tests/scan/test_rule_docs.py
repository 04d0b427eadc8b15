"""Every registered rule has a permanent kebab-case id and a documentation page."""

from __future__ import annotations

import re

from iisbitness.rules import RULES
from tests.conftest import REPO


def test_every_rule_has_a_doc_page_and_unique_id() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for r in RULES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.id)
        page = REPO / "docs" / "rules" / f"{r.id}.md"
        assert page.is_file(), f"missing {page}"
        assert page.read_text().startswith(f"# {r.id} ({r.severity.label})")
