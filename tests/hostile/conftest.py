"""The hostile-input suite (issue 7); see SECURITY.md."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than 20 s (deselect with -m 'not slow')")
