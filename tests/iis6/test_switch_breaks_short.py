"""IIS 6's server-wide switch, offered though it breaks other binaries, says what it breaks in the short text too.

Real input: the w2003-iis6 demo image (worker process isolation mode would load rewrite64.dll, an x64 ISAPI filter,
in 32-bit workers)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import DEMO


def test_the_short_form_names_what_the_switch_would_break() -> None:
    """Before: '[2] worker process isolation mode (not verified)' only; IIS 7+ says 'not offered: it would break ...'."""
    image = str(DEMO / "w2003-iis6")
    out = CliRunner().invoke(main, ["scan", image], env={"COLUMNS": "200"}).output
    assert "[2] worker process isolation mode (not verified; it would break rewrite64.dll)" in out
    assert "(not verified)" not in out
    doc = json.loads(CliRunner().invoke(main, ["scan", image, "--format", "json"]).stdout)
    [fix] = [x for x in doc["fixes"] if x["verified"] is False]
    assert "breaks" not in fix and "rewrite64.dll" in fix["note"]  # NOTE: JSON unchanged: the note says it in full
