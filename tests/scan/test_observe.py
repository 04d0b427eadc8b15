"""scan --event-log: findings the event log confirms, and events no finding explains."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import DEMO

EVENTS = """<Events>
<Event><System><Provider Name="W3SVC-WP"/><EventID>2282</EventID><Level>2</Level><TimeCreated SystemTime="2026-01-05T08:00:01Z"/><Channel>Application</Channel><Computer>WEB01</Computer></System><EventData><Data>C:\\Program Files (x86)\\Fabrikam\\VendorAuth\\vendorauth.dll</Data><Data>AMD64</Data><Binary>C1000000</Binary></EventData></Event>
<Event><System><Provider Name="W3SVC-WP"/><EventID>2282</EventID><Level>2</Level><TimeCreated SystemTime="2026-01-05T08:00:02Z"/><Channel>Application</Channel><Computer>WEB01</Computer></System><EventData><Data>C:\\Other\\unrelated.dll</Data><Data>AMD64</Data><Binary>C1000000</Binary></EventData></Event>
</Events>
"""


def test_event_log_marks_observed_and_unexplained(tmp_path: Path) -> None:
    log = tmp_path / "eventlog.xml"
    log.write_text(EVENTS)
    res = CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--event-log", str(log), "--format", "json"])
    doc = json.loads(res.output)
    obs = doc["observations"]
    confirmed = [o for o in obs if o["finding"] is not None]
    assert confirmed and all(doc["findings"][o["finding"]]["rule"] == "global-module-arch" for o in confirmed)
    assert all("vendorauth.dll" in doc["findings"][o["finding"]]["binary"] for o in confirmed)
    unexplained = [o for o in obs if o["finding"] is None]
    assert len(unexplained) == 1 and "unrelated.dll" in unexplained[0]["message"]
    text = CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--event-log", str(log), "--no-color"]).output
    assert "no finding explains it" in text and "confirms finding" in text


def test_unreadable_event_log_exits_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--event-log", str(tmp_path / "none.evtx")])
    assert res.exit_code == 2
