"""One event, one reading: ``explain`` and ``scan --event-log`` take the same decision for every event the tool
knows (:func:`iisbitness.explain.report.event_verdict`), and "high" means architecture-specific evidence for an
architecture cause only (:func:`iisbitness.explain.kb.cause_cap`)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from iisbitness.api import ScanOptions, scan
from iisbitness.explain.codes import Confidence, format_code
from iisbitness.explain.events import read_events
from iisbitness.explain.kb import IMAGE_RULES, SCAN_RULE_IDS, KnowledgeBase
from iisbitness.explain.observe import observe
from iisbitness.explain.report import build_report
from iisbitness.report import Report
from tests.conftest import DEMO, corpus_dir

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"

_PROVIDER = {
    "w3svc-wp": ('Name="Microsoft-Windows-IIS-W3SVC-WP" EventSourceName="W3SVC-WP"', ""),
    "was": ('Name="Microsoft-Windows-WAS" EventSourceName="WAS"', ""),
    "w3svc": ('Name="Microsoft-Windows-IIS-W3SVC" EventSourceName="W3SVC"', ""),
    "ancm": ('Name="IIS AspNetCore Module V2"', ""),
    "aspnet": ('Name="ASP.NET 4.0.30319.0"', ""),
    "crash": ('Name="Application Error"', "Faulting application name: w3wp.exe"),
}
"""A provider of each family of the knowledge base, as real logs name it, and text its events must carry."""


def _event_keys(kb: KnowledgeBase) -> list[tuple[str, int]]:
    """Every (family, event id) the tool knows: entries' events and text events, contexts' events."""
    keys = {(k.family, k.event_id) for e in kb.entries for k in (*e.events, *e.text_events)}
    keys |= {(k.family, k.event_id) for c in kb.contexts for k in c.events}
    return sorted(keys)


def _strings(kb: KnowledgeBase, family: str, event_id: int) -> list[str]:
    """Insertion strings for the event: its template's parameters (the binary a path, the pool a name)."""
    entries = [e for e in kb.entries if any((k.family, k.event_id) == (family, event_id) for k in e.events)]
    out = ["x"] * 4
    for e in entries:
        if e.binary_param:
            out[e.binary_param - 1] = "C:\\Vendor\\mod.dll"
        if e.pool_param:
            out[e.pool_param - 1] = "DefaultAppPool"
    return out + ([_PROVIDER[family][1]] if _PROVIDER[family][1] else [])


def _xml(provider: str, event_id: int, strings: list[str], data: str | None) -> str:
    body = "".join(f"<Data>{escape(s)}</Data>" for s in strings) + (f"<Binary>{data}</Binary>" if data else "")
    return (f"<Events><Event><System><Provider {provider}/><EventID>{event_id}</EventID><Level>2</Level>"
            f'<TimeCreated SystemTime="2026-01-05T08:00:01Z"/><Channel>Application</Channel></System>'
            f"<EventData>{body}</EventData></Event></Events>")


def _le(code: int) -> str:
    """A code as an event's <Binary>: a Win32 error as its number (c1000000), an HRESULT as it is."""
    value = code & 0xFFFF if code >> 16 == 0x8007 else code
    return value.to_bytes(4, "little").hex()


@pytest.fixture(scope="module")
def demo_report() -> Report:
    return scan(DEMO / "contoso-iis10", ScanOptions())


def _both(path: Path, kb: KnowledgeBase, report: Report) -> tuple[dict[tuple[object, ...], tuple[object, ...]], ...]:
    """Each recognised event's (reading, confidence) as explain shows it and as scan --event-log shows it."""
    explained = build_report([], [read_events(path, kb)], kb)
    by_explain = {(h.event.time or "", h.event.source_name, h.event.event_id, h.event.message):
                  (h.verdict.reading, h.verdict.confidence.label, h.verdict.usual)
                  for h in explained.events if h.verdict}
    scanned = observe(report, [path])
    by_scan = {(o.time, o.provider, o.event_id, o.message): (o.reading, o.confidence, o.usual)
               for o in (*scanned.observations, *scanned.other_events)}
    return by_explain, by_scan


def test_every_known_event_and_code_reads_the_same_in_explain_and_scan(
        kb: KnowledgeBase, demo_report: Report, tmp_path: Path) -> None:
    """Every event id the knowledge base knows, bare and with each code it knows as its data: one verdict, one
    confidence, in ``explain --event-log`` and in ``scan --event-log`` (which counted ANCM 1007 about bitness when
    explain read it as the app's own exception)."""
    codes = [None, *sorted(kb.codes)]
    checked = differ = 0
    mismatches = []
    for family, event_id in _event_keys(kb):
        for code in codes:
            path = tmp_path / f"{family}-{event_id}-{code}.xml"
            path.write_text(_xml(_PROVIDER[family][0], event_id, _strings(kb, family, event_id),
                                 _le(code) if code is not None else None), "utf-8")
            by_explain, by_scan = _both(path, kb, demo_report)
            checked += 1
            differ += bool(by_explain)
            if by_explain != by_scan:
                mismatches.append((family, event_id, code, by_explain, by_scan))
    assert not mismatches, mismatches[:5]
    assert checked > 1000 and differ > 500  # NOTE: the walk reached the known events, not an empty set


def test_real_logs_read_the_same_in_explain_and_scan(kb: KnowledgeBase, demo_report: Report) -> None:
    """Every event of the real logs of the shared corpus (App Service exports, .evtx files): one reading."""
    logs = sorted(corpus_dir("events").glob("*.xml")) + sorted(corpus_dir("evtx").glob("*.evtx"))
    seen = 0
    for path in logs:
        by_explain, by_scan = _both(path, kb, demo_report)
        assert by_explain == by_scan, path.name
        seen += len(by_explain)
    assert seen >= 100


def test_ancm_1007_with_the_apps_own_exception_is_not_about_bitness(kb: KnowledgeBase, demo_report: Report) -> None:
    """The 29 ANCM 1007 of a real App Service log ("failed to load coreclr. Exception message: CLR worker thread
    exited prematurely"): not a bitness problem, high, in both; scan lists them apart, never as unexplained."""
    path = corpus_dir("events") / "DekuWorks__241RunnersAwareness__LogFiles__eventlog.xml"
    by_explain, _ = _both(path, kb, demo_report)
    ancm = {k: v for k, v in by_explain.items() if k[2] == 1007}
    assert len(ancm) == 29 and set(ancm.values()) == {("not-bitness", "high", False)}
    scanned = observe(demo_report, [path])
    assert not [o for o in scanned.observations if o.event_id == 1007]
    assert {o.lead for o in scanned.other_events if o.event_id == 1007} == {"app-exception"}


def test_high_only_for_an_image_rule_on_architecture_evidence(kb: KnowledgeBase, tmp_path: Path) -> None:
    """Every event the tool knows with data 193 (0x800700C1), and every code it knows as text: a HIGH cause is
    always an image of the other architecture; 193 never makes a missing file (binary-missing) likely."""
    assert IMAGE_RULES < set(SCAN_RULE_IDS)
    high = []
    for family, event_id in _event_keys(kb):
        path = tmp_path / f"{family}-{event_id}.xml"
        path.write_text(_xml(_PROVIDER[family][0], event_id, _strings(kb, family, event_id), "c1000000"), "utf-8")
        report = build_report([], [read_events(path, kb)], kb)
        high += [(family, event_id, c.rule) for c in report.causes
                 if c.confidence is Confidence.HIGH and c.rule not in IMAGE_RULES]
        missing = [c for c in report.causes if c.rule == "binary-missing"]
        promoted = any(0x800700C1 in e.specific_with for e in kb.entries
                       if any((k.family, k.event_id) == (family, event_id) for k in e.events))
        assert not missing or missing[0].confidence is (Confidence.LOW if promoted else Confidence.MEDIUM), \
            (family, event_id)
    for code in sorted(kb.codes):
        report = build_report([("text", f"Error code: {format_code(code)}")], [], kb)
        high += [(format_code(code), c.rule) for c in report.causes
                 if c.confidence is Confidence.HIGH and c.rule not in IMAGE_RULES]
    for text in ("HTTP Error 500.35 - ANCM Multiple In-Process Applications in same Process",
                 "HTTP Error 500.34 - ANCM Mixed Hosting Models Not Supported"):
        report = build_report([("text", text)], [], kb)
        high += [(text, c.rule) for c in report.causes if c.confidence is Confidence.HIGH]
    assert not high


def test_a_filter_event_names_its_data(kb: KnowledgeBase, tmp_path: Path) -> None:
    """W3SVC-WP 2214 (KB 895976): data 193 is the filter's architecture (HIGH), not its absence; data 126 is its
    absence (binary-missing MEDIUM), not its architecture."""
    def causes(data: str) -> dict[str, Confidence]:
        path = tmp_path / f"{data}.xml"
        path.write_text(_xml(_PROVIDER["w3svc-wp"][0], 2214, ["C:\\Vendor\\filter.dll"], data), "utf-8")
        return {c.rule: c.confidence for c in build_report([], [read_events(path, kb)], kb).causes}

    bad_format, not_found = causes("c1000000"), causes("7e000000")
    assert bad_format["isapi-filter-arch"] is Confidence.HIGH and bad_format["binary-missing"] is Confidence.LOW
    assert not_found["binary-missing"] is Confidence.MEDIUM and not_found["isapi-filter-arch"] is Confidence.MEDIUM


def test_two_logs_of_one_server_read_the_same_in_explain_and_scan(kb: KnowledgeBase, tmp_path: Path) -> None:
    """The IIS 6 export split as a server's Application log (W3SVC-WP 2274) and System log (W3SVC 1009): both
    commands read the logs given as one server, so the 1009 (IIS 6) makes the 2274 an IIS 6 filter in explain too
    (it led with isapi-filter-arch there, each --event-log read as its own server)."""
    events = (FIXTURES / "eventviewer-iis6.xml").read_text("utf-8").split("\n")
    head, body = events[:2], [line for line in events if line.startswith("<Event>")]
    app, system = tmp_path / "Application.xml", tmp_path / "System.xml"
    app.write_text("\n".join([*head, body[0], "</Events>"]), "utf-8")
    system.write_text("\n".join([*head, body[2], "</Events>"]), "utf-8")
    explained = build_report([], [read_events(app, kb), read_events(system, kb)], kb)
    by_explain = {h.event.event_id: (h.verdict.lead, h.verdict.confidence.label) for h in explained.events if h.verdict}
    assert by_explain == {2274: ("iis6-filter-arch", "high"), 1009: ("iis6-filter-arch", "medium")}
    scanned = observe(scan(DEMO / "w2003-iis6", ScanOptions()), [app, system])
    by_scan = {o.event_id: (o.lead, o.confidence) for o in (*scanned.observations, *scanned.other_events)}
    assert by_scan == by_explain
