"""scan --event-log: findings the event log confirms, and events no finding explains."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import DEMO, REPO, apphost, make_image, site

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
    assert "no finding explains it" in text and "confirms global-module-arch" in text
    # one 2282 event names the module, not a pool: it shows one worker failing, not each of the seven pools
    assert {o["scope"] for o in confirmed} == {"binary"} and len(confirmed) == 7
    assert text.count("W3SVC-WP 2282: confirms") == 1 and "failing in a worker of one of 7" in " ".join(text.split())
    assert "Event log (2 events read, 2 about bitness)" in text


def test_an_event_of_a_binary_one_pool_loads_confirms_that_finding(tmp_path: Path) -> None:
    """Scope 'finding' when only one pool's worker loads the binary the event names."""
    gm = '<globalModules><add name="M" image="C:\\V\\vendorauth.dll" /></globalModules>'
    img = make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="v4.0" />',
                                                site("S", 1, "P", r"C:\s"), gm), {"V/vendorauth.dll": "module_x86.dll"})
    log = tmp_path / "eventlog.xml"
    log.write_text(EVENTS)
    doc = json.loads(CliRunner().invoke(main, ["scan", str(img), "--event-log", str(log), "--format", "json"]).output)
    [confirmed] = [o for o in doc["observations"] if o["finding"] is not None]
    assert confirmed["scope"] == "finding" and doc["findings"][confirmed["finding"]]["pool"] == "P"


def test_an_event_log_with_nothing_about_bitness_says_so(tmp_path: Path) -> None:
    log = tmp_path / "quiet.xml"
    log.write_text('<Events><Event><System><Provider Name="Service Control Manager"/><EventID>7036</EventID>'
                   '<Level>4</Level><TimeCreated SystemTime="2026-01-05T08:00:01Z"/><Channel>System</Channel>'
                   '</System><EventData><Data>Windows Update</Data><Data>running</Data></EventData></Event></Events>')
    text = CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--event-log", str(log), "--no-color"]).output
    assert "Event log (1 event read, 0 about bitness)" in text and "none is about bitness" in text
    doc = json.loads(CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--event-log", str(log),
                                               "--format", "json"]).output)
    assert doc["events_read"] == 1 and doc["observations"] == []
    plain = json.loads(CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--format", "json"]).output)
    assert plain["events_read"] is None


def test_unreadable_event_log_exits_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--event-log", str(tmp_path / "none.evtx")])
    assert res.exit_code == 2


def test_a_repeated_event_is_one_line_with_its_count_and_time_span() -> None:
    """An Azure App Service event log of the shared corpus (DekuWorks/241RunnersAwareness) holds 29 ANCM 1007
    events: the scan's text said "... IIS AspNetCore Module V2 1007: no finding explains it" 29 times."""
    from click.testing import CliRunner

    from iisbitness.cli import main
    from tests.conftest import DEMO, corpus_dir

    log = corpus_dir("events") / "DekuWorks__241RunnersAwareness__LogFiles__eventlog.xml"
    r = CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--event-log", str(log), "--quiet"],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 1, r.output
    block = r.stdout.split("Event log (", 1)[1]
    # NOTE: each 1007 carries the app's own exception ("CLR worker thread exited prematurely"): explain reads it as
    # not a bitness problem, and so does scan (it said "29 about bitness", explain "not bitness")
    assert block.startswith("54 events read, 0 about bitness, 29 about another problem):")
    assert block.count("not a bitness problem") == 1
    assert ("2025-08-25T19:14:18Z to 2025-08-29T16:20:38Z, 29 events: IIS AspNetCore Module V2 1007: not a bitness "
            "problem (high: app-exception)") in block


def test_a_generic_event_naming_a_findings_pool_is_said_not_dropped(tmp_path: Path) -> None:
    """WAS 5002 names pool OrdersAsp, which has a global-module-arch finding: generic evidence does not confirm it,
    but the event is about bitness (explain reads it so, medium): it was neither listed nor counted."""
    log = tmp_path / "was.xml"
    log.write_text('<Events><Event><System><Provider Name="WAS"/><EventID>5002</EventID><Level>2</Level>'
                   '<TimeCreated SystemTime="2026-01-05T08:00:01Z"/></System><EventData><Data>OrdersAsp</Data>'
                   '</EventData></Event></Events>')
    text = CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--event-log", str(log), "--no-color"],
                              env={"COLUMNS": "200"}).output
    assert "Event log (1 event read, 1 about bitness):" in text
    assert "WAS 5002: does not confirm, may stand for global-module-arch in OrdersAsp (bitness, medium" in text
    doc = json.loads(CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--event-log", str(log),
                                               "--format", "json"]).output)
    [obs] = doc["observations"]
    assert obs["finding"] is None and obs["reading"] == "bitness" and obs["confidence"] == "medium"
    assert {doc["findings"][i]["rule"] for i in obs["possible"]} == {"global-module-arch"}


_ANCM_2280 = ('<Events><Event><System><Provider Name="Microsoft-Windows-IIS-W3SVC-WP" EventSourceName="W3SVC-WP"/>'
              '<EventID>2280</EventID><Level>2</Level><TimeCreated SystemTime="2026-01-05T08:00:01Z"/>'
              '<Channel>Application</Channel></System><EventData>'
              '<Data>C:\\Program Files\\IIS\\Asp.Net Core Module\\V2\\aspnetcorev2.dll</Data>'
              '<Binary>7E000000</Binary></EventData></Event></Events>')


def test_an_event_usually_not_bitness_still_confirms_a_finding_on_its_own_binary(tmp_path: Path) -> None:
    """W3SVC-WP 2280 "aspnetcorev2.dll failed to load", data 126: explain reads it as usually not bitness (a missing
    dependency as often as its bitness), and so does scan when nothing is found; a binary-missing finding for that very
    file is still confirmed by it, the usual reading said beside."""
    log = tmp_path / "ancm.xml"
    log.write_text(_ANCM_2280)
    quiet = CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--event-log", str(log), "--no-color"],
                               env={"COLUMNS": "200"}).output
    assert "Event log (1 event read, 0 about bitness, 1 about another problem):" in quiet
    assert "W3SVC-WP 2280: usually not a bitness problem (high: ancm-module-load)" in quiet
    gm = ('<globalModules><add name="AspNetCoreModuleV2" '
          'image="%ProgramFiles%\\IIS\\Asp.Net Core Module\\V2\\aspnetcorev2.dll" /></globalModules>')
    img = make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="" />', site("S", 1, "P", r"C:\s"),
                                                gm), {"Program Files/IIS/Asp.Net Core Module/V2/other.dll": "module_x64.dll"})
    doc = json.loads(CliRunner().invoke(main, ["scan", str(img), "--event-log", str(log), "--format", "json"]).output)
    [confirmed] = [o for o in doc["observations"] if o["finding"] is not None]
    assert doc["findings"][confirmed["finding"]]["rule"] == "binary-missing"
    assert (confirmed["reading"], confirmed["usual"]) == ("not-bitness", True) and doc["other_events"] == []


def test_an_event_explaining_a_finding_of_a_rule_not_selected_says_so(tmp_path: Path) -> None:
    """--select leaves global-module-arch out of the report; the 2282 naming its module is still explained by it."""
    log = tmp_path / "eventlog.xml"
    log.write_text(EVENTS)
    args = ["scan", str(DEMO / "contoso-iis10"), "--event-log", str(log), "--select", "com-inproc-arch"]
    doc = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).output)
    jsonschema.validate(doc, json.loads((REPO / "src/iisbitness/formats/schema/scan-2.json").read_text()))
    vendor = [o for o in doc["observations"] if "vendorauth.dll" in o["message"]]
    assert [(o["finding"], o.get("unreported_rule")) for o in vendor] == [(None, "global-module-arch")]
    other = [o for o in doc["observations"] if "unrelated.dll" in o["message"]]
    assert len(other) == 1 and "unreported_rule" not in other[0]
    text = " ".join(CliRunner().invoke(main, [*args, "--no-color"]).output.split())
    assert ("W3SVC-WP 2282: explains a finding of a rule not selected (global-module-arch) "
            "(bitness, high: global-module-arch)") in text
    assert text.count("no finding explains it") == 1  # unrelated.dll only
    html = CliRunner().invoke(main, [*args, "--format", "html"]).output
    assert "explains a finding of a rule not selected (global-module-arch)" in html


def test_other_events_is_in_the_document_only_with_an_event_log(tmp_path: Path) -> None:
    """As documented ("with --event-log"): without one, events_read is null and there is no other_events key."""
    log = tmp_path / "eventlog.xml"
    log.write_text(EVENTS)
    args = ["scan", str(DEMO / "contoso-iis10"), "--format", "json"]
    plain = json.loads(CliRunner().invoke(main, args).output)
    assert plain["events_read"] is None and "other_events" not in plain
    read = json.loads(CliRunner().invoke(main, [*args, "--event-log", str(log)]).output)
    assert read["events_read"] == 2 and read["other_events"] == []
