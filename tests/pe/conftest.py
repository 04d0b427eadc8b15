"""Fixtures for the PE tests."""

from __future__ import annotations

from typing import Any

import pytest
from pe_fixtures import MANIFEST


@pytest.fixture(params=sorted(MANIFEST), ids=sorted(MANIFEST))
def entry(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """(key, manifest entry) for every fixture."""
    return request.param, MANIFEST[request.param]
