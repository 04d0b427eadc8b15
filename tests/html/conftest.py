"""The headless Chromium the HTML tests share (tests/html/cdp.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.html.cdp import Browser, find_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A headless Chromium for the module's tests. Skipped when Chromium is absent, except in CI (``CI=true``),
    where .ci/run installs Debian's ``chromium`` and a missing browser is a failure."""
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no chromium on PATH: .ci/run installs Debian's chromium")
        pytest.skip("chromium not installed (apt-get install chromium); CI runs this test")
    with Browser(chromium) as b:
        yield b
