"""Reading event logs: real corpus .evtx / XML exports (never edited) and constructed IIS fixtures."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from iisbitness.explain.events import EventLogError, EventLogRead, events_from_xml, read_events
from iisbitness.explain.kb import KnowledgeBase
from iisbitness.explain.report import build_report, event_verdict, match_event

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared event-log corpus not available")
EVTX = CORPUS / "evtx"


def _read(name: str) -> EventLogRead:
    return read_events(EVTX / name)


@needs_corpus
def test_clean_evtx_with_ancm_events() -> None:
    log = _read("sesellis__ETWTool__evtx__Application.evtx")
    assert log.format == "evtx" and len(log.events) == 100 and log.problems == ()
    ancm = [e for e in log.events if e.provider == "IIS Express AspNetCore Module"]
    assert len(ancm) == 2 and all(e.event_id == 1001 for e in ancm)
    assert ancm[0].message.startswith("Application 'MACHINE/WEBROOT/APPHOST/RESTAPI' started process")
    assert ancm[0].time and ancm[0].time.endswith("Z") and "T" in ancm[0].time


@needs_corpus
def test_crc_damaged_evtx_is_data() -> None:
    """Header and chunk CRCs do not match, and header flag 0x4 says the log was written without them."""
    log = _read("omerbenamram__evtx__samples__Application_no_crc32.evtx")
    assert len(log.events) == 17
    assert [p.message for p in log.problems] == [
        "checksums do not match, but the header says the log was written without them (flag 0x4); read anyway"]


@needs_corpus
def test_records_python_evtx_could_not_parse_are_read() -> None:
    """python-evtx 0.8.1 raised OverrunBufferException on all 165 records; SOURCES.tsv has the Rust counts."""
    log = _read("sesellis__ETWTool__evtx__CertServices.evtx")
    assert log.problems == ()
    assert Counter(e.event_id for e in log.events) == {1003: 145, 1004: 12, 1006: 4, 1002: 2, 1007: 2}
    assert {e.provider for e in log.events} == {"Microsoft-Windows-CertificateServicesClient-Lifecycle-System"}


@needs_corpus
def test_evtx_fields_as_windows_renders_them() -> None:
    """Values python-evtx got wrong: <Binary> as base64 (not hex), empty insertion strings moved, times
    off by a microsecond (float rounding: record 2's TimeCreated FILETIME is 131346654826789961, that is
    14:11:22.6789961, which python-evtx printed as .678997)."""
    log = _read("sesellis__ETWTool__evtx__Application.evtx")
    first = log.events[0]
    assert (first.time, first.provider, first.event_id, first.level, first.computer, first.channel,
            first.record_id) == ("2017-03-22T14:11:22.460244Z", "Microsoft-Windows-Security-SPP", 902, 0,
                                 "MBP", "Application", 12611)
    assert log.events[1].time == "2017-03-22T14:11:22.678996Z"
    wer = next(e for e in log.events if any(d.value == "WindowsUpdateFailure3" for d in e.data))
    assert wer.provider == "Windows Error Reporting" and wer.event_id == 1001
    assert [d.value for d in wer.data[:4]] == ["", "0", "WindowsUpdateFailure3", "Not available"]
    binary = next(e for e in log.events if e.binary_data)
    assert binary.binary_data and re.fullmatch(r"[0-9A-F]+", binary.binary_data)
    named = _read("sbousseaden__EVTX-ATTACK-SAMPLES__Lateral Movement__LM_typical_IIS_webshell_sysmon_1_10_traces.evtx")
    assert [d.name for d in named.events[0].data][:3] == ["RuleName", "UtcTime", "ProcessGuid"]
    assert named.events[0].data[0].value == ""


@needs_corpus
def test_truncated_evtx_says_what_is_lost() -> None:
    log = _read("nanw01__python-algrothm__System.evtx")
    assert len(log.events) == 2561
    assert any("truncated" in p.message and "320" in p.message for p in log.problems)


@needs_corpus
def test_dirty_evtx_reads_chunks_beyond_header() -> None:
    log = _read("fsjnaedbhnvgjihbenibensifb__applicationevtx__Application.evtx")
    assert len(log.events) == 2445  # python-evtx's default stops at 2431, at the header's chunk count
    # NOTE: its header CRC is valid; version 3.2 (Windows 10+) is not damage, though python-evtx's verify() said so.
    assert [p.message for p in log.problems] == [
        "file header is marked dirty (log was not closed cleanly)",
        "28 chunks found but the header declares 27 (copied while in use?); the extra chunks were read too"]


@needs_corpus
def test_reading_corpus_evtx_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    for path in sorted((CORPUS / "evtx").glob("*.evtx")):
        assert read_events(path).events, path.name
    assert capfd.readouterr() == ("", "")


@needs_corpus
@pytest.mark.parametrize("name", [
    "sbousseaden__EVTX-ATTACK-SAMPLES__Lateral Movement__LM_typical_IIS_webshell_sysmon_1_10_traces.evtx",
    "sbousseaden__EVTX-ATTACK-SAMPLES__Privilege Escalation__Runas_4624_4648_Webshell_CreateProcessAsUserA.evtx",
    ("mdecrevoisier__EVTX-to-MITRE-Attack__TA0003-Persistence__T1505-Server Software Component__ID6-Failed to "
    "install an Exchange transport agent.evtx"),
    "sesellis__ETWTool__evtx__Application.evtx",
])
def test_w3wp_in_non_iis_events_is_not_reported(kb: KnowledgeBase, name: str) -> None:
    log = _read(name)
    assert log.events
    assert any("w3wp" in e.text.casefold() for e in log.events) or "ETWTool" in name
    assert build_report([], [log], kb).events == ()


@needs_corpus
def test_every_corpus_xml_export_parses(kb: KnowledgeBase) -> None:
    for path in sorted((CORPUS / "events").glob("*.xml")):
        log = read_events(path, kb)
        assert log.format == "xml" and log.events and log.problems == (), path.name
        for e in log.events:
            assert e.provider and e.event_id and e.time


@needs_corpus
def test_corpus_xml_has_no_false_bitness_hits(kb: KnowledgeBase) -> None:
    """W3SVC-WP 2303/2284/2289/2299 and ANCM 1012 recycles are not bitness events: none is matched, but the 2303s
    whose data is 0x80070002, read as Win32 error 2 (a file not found, not about bitness)."""
    log = read_events(CORPUS / "events" / "SatyaChakiri__CloudAzure__LogFiles__eventlog.xml", kb)
    matched = [(e, event_verdict(match_event(e, kb), kb)) for e in log.events if match_event(e, kb)]
    assert {(e.event_id, e.error_code) for e, _ in matched} <= {(2303, 0x80070002)}
    assert all(v is not None and not v.bitness and v.lead == "file-not-found" for _, v in matched)
    deku = read_events(CORPUS / "events" / "DekuWorks__241RunnersAwareness__LogFiles__eventlog.xml", kb)
    hits = [e for e in deku.events if match_event(e, kb)]
    assert {e.event_id for e in hits} <= {1007}


def test_wevtutil_layout_without_root_with_namespace(kb: KnowledgeBase) -> None:
    log = read_events(FIXTURES / "wevtutil-iis10.xml", kb)
    assert log.problems == () and len(log.events) == 7
    e2282 = next(e for e in log.events if e.event_id == 2282)
    assert e2282.source_name == "W3SVC-WP"
    assert e2282.binary == "C:\\Program Files\\Contoso\\RewriteX\\rewritex64.dll"
    assert e2282.error_code == 0x800700C1
    assert "only supports loading images built for a x86 processor architecture" in e2282.message
    assert next(e for e in log.events if e.event_id == 5002).pool == "LegacyPool"
    e5139 = next(e for e in log.events if e.event_id == 5139)
    assert e5139.pool == "LegacyPool" and "protocol 'http'" in e5139.message


def test_sysmon_event_naming_w3wp_is_ignored(kb: KnowledgeBase) -> None:
    log = read_events(FIXTURES / "wevtutil-iis10.xml", kb)
    sysmon = next(e for e in log.events if e.provider == "Microsoft-Windows-Sysmon")
    assert "not a valid Win32 application" in sysmon.text
    assert match_event(sysmon, kb) == ()


def test_eventviewer_layout_iis6_seed(kb: KnowledgeBase) -> None:
    report = build_report([], [read_events(FIXTURES / "eventviewer-iis6.xml", kb)], kb)
    assert len(report.events) == 3
    assert report.events[0].event.binary.endswith("Framework\\v2.0.50727\\aspnet_filter.dll")  # type: ignore[union-attr]
    # issue 23: W3SVC 1009 in the same log makes it IIS 6, so the IIS 6 rules lead and the IIS 7+ one follows
    assert report.causes[0].rule == "iis6-filter-arch"
    assert "isapi-filter-arch" in [c.rule for c in report.causes]


def test_damaged_xml_is_partly_read(kb: KnowledgeBase) -> None:
    log = read_events(FIXTURES / "truncated.xml", kb)
    assert log.events and log.events[0].event_id == 2214
    assert any("damaged" in p.message for p in log.problems)


def test_python_evtx_string_rendering_is_split(kb: KnowledgeBase) -> None:
    xml = ('<Event><System><Provider Name="W3SVC-WP"/><EventID>2274</EventID></System><EventData>'
           "<Data>&lt;string&gt;C:\\f.dll&lt;/string&gt;\n&lt;string&gt;AMD64&lt;/string&gt;</Data>"
           "</EventData></Event>")
    event = events_from_xml(xml, kb=kb).events[0]
    assert [d.value for d in event.data] == ["C:\\f.dll", "AMD64"]
    assert event.binary == "C:\\f.dll" and "AMD64 processor" in event.message


@pytest.mark.parametrize("content", [b"", b"just some text\n", b"\x00\x01\x02"])
def test_unreadable_files_raise(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.evtx"
    path.write_bytes(content)
    with pytest.raises(EventLogError, match="x.evtx"):
        read_events(path)


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(EventLogError, match="no such file"):
        read_events(tmp_path / "nope.evtx")
