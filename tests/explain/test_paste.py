"""Texts as users paste them: HTML error pages, localised Event Viewer details, event XML (issue: robust explain)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisbitness.explain.codes import Confidence
from iisbitness.explain.events import events_from_xml, read_events
from iisbitness.explain.kb import KnowledgeBase
from iisbitness.explain.match import line_of, match_text
from iisbitness.explain.report import build_report


def test_html_error_page_is_read_as_its_words(kb: KnowledgeBase) -> None:
    """An IIS detailed error page pasted as HTML: &#39; / &quot; around paths and tags between the words."""
    page = ("<h3>HTTP Error 500.0 - Internal Server Error</h3>\n<h4>Calling LoadLibraryEx on ISAPI filter &quot;"
            "C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\aspnet_filter.dll&quot; failed</h4>\n"
            "<tr><th>Error Code</th><td>&nbsp;&nbsp;&nbsp;0x800700c1</td></tr>")
    found = {s.entry_id: s for s in match_text(page, kb)}
    assert found["loadlibraryex-isapi-filter"].line == 2
    assert found["loadlibraryex-isapi-filter"].promoted_by == 0x800700C1
    assert {s.entry_id for s in match_text(
        "ISAPI Filter &#39;C:\\f\\x.dll&#39; could not be loaded due to a configuration problem.", kb)} == {"event-2274"}


@pytest.mark.parametrize("label", ["Event ID:", "Ereignis-ID:", "ID de l'événement :", "イベント ID:", "事件 ID:",
                                   "Код события:", "EventCode="])
def test_event_id_labels_of_localised_event_viewer(kb: KnowledgeBase, label: str) -> None:
    text = f"Source: Microsoft-Windows-IIS-W3SVC-WP\n{label} 2282"
    found = [s for s in match_text(text, kb) if s.entry_id == "event-2282"]
    assert found and found[0].confidence is Confidence.HIGH


_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
_RENDERED_2281 = (
    f"<Event xmlns='{_NS}'><System><Provider Name='Microsoft-Windows-IIS-W3SVC-WP' EventSourceName='W3SVC-WP'/>"
    "<EventID Qualifiers='49152'>2281</EventID><Level>2</Level><TimeCreated SystemTime='2024-05-14T09:12:01.3Z'/>"
    "<EventRecordID>40114</EventRecordID><Channel>Application</Channel><Computer>WEB01</Computer></System>"
    "<EventData><Binary>C1000780</Binary></EventData><RenderingInfo Culture='de-DE'><Message>Der Arbeitsprozess "
    "konnte die Kommunikation mit dem W3SVC nicht initialisieren.\n\nDie Daten sind der Fehler.</Message>"
    "<Level>Fehler</Level></RenderingInfo></Event>")
_FULL_ID_2280 = (
    f"<Event xmlns='{_NS}'><System><Provider Name='IIS-W3SVC-WP'/><EventID>3221227752</EventID><Level>2</Level>"
    "<TimeCreated SystemTime='2024-05-14T09:12:01.2Z'/><EventRecordID>40113</EventRecordID>"
    "<Channel>Application</Channel><Computer>WEB01</Computer></System><EventData>"
    "<Data>C:\\Windows\\system32\\inetsrv\\x86only.dll</Data><Binary>C1000000</Binary></EventData></Event>")


def test_rendering_info_qualifiers_and_provider_without_prefix(kb: KnowledgeBase) -> None:
    """wevtutil /f:RenderedXml (German server), an EventID written with its qualifiers, 'IIS-W3SVC-WP'."""
    log = events_from_xml(_RENDERED_2281 + _FULL_ID_2280, "x.xml", kb)
    first, second = log.events
    assert first.message.startswith("Der Arbeitsprozess konnte") and first.error_code == 0x800700C1
    assert "initialisieren. Die Daten" in first.message  # NOTE: a rendered message is one line, as event data is
    assert (second.provider, second.event_id, second.binary) == (
        "IIS-W3SVC-WP", 2280, "C:\\Windows\\system32\\inetsrv\\x86only.dll")
    report = build_report([], [log], kb)
    assert report.causes[0].rule == "global-module-arch" and report.bitness_likely
    assert {h.event.event_id for h in report.events} == {2280, 2281}


def test_2281_with_data_193_ranks_the_module_first(kb: KnowledgeBase) -> None:
    """2281 is generic alone; with data 0x800700C1 it is specific, and global modules come before extensions."""
    report = build_report([], [events_from_xml(_RENDERED_2281, "x.xml", kb)], kb)
    assert [c.rule for c in report.causes[:1]] == ["global-module-arch"]
    assert report.causes[0].confidence is Confidence.HIGH


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16", "utf-8"])
def test_saved_event_xml_in_any_encoding(tmp_path: Path, kb: KnowledgeBase, encoding: str) -> None:
    """Event Viewer saves UTF-16 with a BOM; PowerShell 5 redirection writes UTF-16 without one."""
    path = tmp_path / "saved.xml"
    path.write_bytes(f'<?xml version="1.0" encoding="utf-16"?>\n<Events>{_FULL_ID_2280}</Events>'.encode(encoding))
    log = read_events(path, kb)
    assert [e.event_id for e in log.events] == [2280] and log.problems == ()


def test_event_xml_pasted_as_text_is_read_as_an_event(kb: KnowledgeBase) -> None:
    """Event Viewer's 'Copy details as text': the Event Xml section is an event (provider, id, data, binary)."""
    pasted = ("Log Name: Application\nSource: Microsoft-Windows-IIS-W3SVC-WP\nDescription:\nsee below\nEvent Xml:\n"
              + _FULL_ID_2280.replace("><", ">\n<"))
    report = build_report([("stdin", pasted)], [], kb)
    assert report.inputs[0].events_read == 1 and report.inputs[0].format == "xml"
    assert [h.event.event_id for h in report.events] == [2280]
    assert report.causes[0].rule == "global-module-arch" and report.bitness_likely


def test_pasted_xml_of_a_non_iis_event_gives_nothing(kb: KnowledgeBase) -> None:
    """A Sysmon process event naming w3wp.exe, pasted: read as an event, and not an IIS one."""
    sysmon = (f"<Event xmlns='{_NS}'><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID>"
              "</System><EventData><Data Name='Image'>C:\\Windows\\System32\\cmd.exe</Data>"
              "<Data Name='ParentImage'>C:\\Windows\\System32\\inetsrv\\w3wp.exe</Data>"
              "<Data Name='CommandLine'>cmd /c not a valid Win32 application</Data></EventData></Event>")
    report = build_report([("stdin", sysmon)], [], kb)
    assert report.inputs[0].events_read == 1 and not report.recognised


_W3C = ("#Software: Microsoft Internet Information Services 10.0\n"
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
        "cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n"
        "2024-05-14 09:12:00 10.0.0.5 GET / - 80 - 10.0.0.9 Mozilla/5.0 - 200 0 0 15\n"
        "2024-05-14 09:12:01 10.0.0.5 GET /scripts/legacy.dll - 80 - 10.0.0.9 Mozilla/5.0 - 500 0 193 15\n")


def test_iis_log_with_its_fields_line(kb: KnowledgeBase) -> None:
    """sc-win32-status 193 is ERROR_BAD_EXE_FORMAT by the column's name (X3: mismatches that do not stop the
    worker are logged in the IIS log as Win32 error 0xC1)."""
    found = [s for s in match_text(_W3C, kb) if s.entry_id == "bad-exe-format"]
    assert [(s.line, s.confidence, s.code) for s in found] == [(4, Confidence.HIGH, 0x800700C1)]
    report = build_report([("log", _W3C)], [], kb)
    assert report.bitness_likely and report.causes[0].rule == "isapi-extension-arch"


def test_iis_log_line_without_fields_line_is_not_read(kb: KnowledgeBase) -> None:
    assert match_text(_W3C.splitlines()[3], kb) == ()


@pytest.mark.parametrize("title", ["HTTP-Fehler 500.32", "Erreur HTTP 500.32", "Error HTTP 500.32", "HTTP エラー 500.32",
                                   "HTTP 错误 500.32", "Ошибка HTTP 500.32", "HTTP Error 500.32"])
def test_localised_iis_error_page_title(kb: KnowledgeBase, title: str) -> None:
    found = [s for s in match_text(title, kb) if s.entry_id == "http-500-32"]
    assert found and max(s.confidence for s in found) is Confidence.HIGH


@pytest.mark.parametrize("text", ["", "one line", "a\nb\n\nc", "\n\n\n", "x\r\ny\nz"])
def test_line_of_counts_line_breaks_before_the_offset(text: str) -> None:
    for offset in range(len(text) + 1):
        assert line_of(text, offset) == text.count("\n", 0, offset) + 1


@pytest.mark.parametrize("text", [
    # NOTE: Event Viewer details of Windows' own events whose ids collide with IIS ones (WAS 1002, ANCM 1000)
    ("Log Name: Application\nSource: Application Hang\nEvent ID: 1002\nDescription:\nThe program w3wp.exe version "
    "10.0.17763.1 stopped interacting with Windows and was closed."),
    ("Log Name: Application\nSource: Application Error\nEvent ID: 1000\nFaulting application name: w3wp.exe\n"
    "Exception code: 0xc0000374"),
    # NOTE: ASP.NET health monitoring: its "Event code" is not an event id
    ("Event code: 1002\nEvent message: Application is shutting down. Reason: Configuration changed.\n"
    "Event ID: 1305\nSource: ASP.NET 4.0.30319.0"),
])
def test_an_event_id_of_another_source_is_not_an_iis_event(kb: KnowledgeBase, text: str) -> None:
    assert [s for s in match_text(text, kb) if s.via.value == "event-id"] == []
    report = build_report([("text", text)], [], kb)
    assert not report.bitness_likely and not [c for c in report.causes if c.confidence >= Confidence.MEDIUM]


def test_words_of_a_text_are_not_event_data(kb: KnowledgeBase) -> None:
    """Only Event Viewer's Words layout (offset, then DWORDs) makes a small eight-digit word a Win32 error."""
    for text in ("Restored database MyDb, page count 000000c1", "metadata token 000000c1"):
        assert not build_report([("text", text)], [], kb).bitness_likely, text
    assert build_report([("text", "Data:\n0000: 000000c1")], [], kb).bitness_likely


def test_a_process_exit_code_is_not_a_high_win32_error(kb: KnowledgeBase) -> None:
    text = "The program '[4242] w3wp.exe' has exited with code 11 (0xb)."
    assert all(s.confidence < Confidence.HIGH for s in match_text(text, kb))


def test_httperr_app_offline_is_the_pool_down_and_401_2_5_is_a_challenge(kb: KnowledgeBase) -> None:
    httperr = ("#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri sc-status s-siteid s-reason "
               "s-queuename\n2024-05-14 09:12:01 10.0.0.9 51234 10.0.0.5 80 HTTP/1.1 GET /default.aspx 503 1 "
               "AppOffline LegacyPool")
    [signal] = [s for s in match_text(httperr, kb) if s.entry_id == "http-503-pool"]
    assert signal.confidence is Confidence.HIGH and signal.detail == "application pool LegacyPool is offline"
    w3c = ("#Fields: date time s-ip cs-method cs-uri-stem sc-status sc-substatus sc-win32-status time-taken\n"
           "2024-05-14 09:12:01 10.0.0.5 GET /default.aspx 401 2 5 15\n"
           "2024-05-14 09:12:02 10.0.0.5 GET /default.aspx 503 0 0 15")
    signals = match_text(w3c, kb)
    assert not [s for s in signals if s.code == 0x80070005]
    assert [s.confidence for s in signals if s.entry_id == "http-503-pool"] == [Confidence.MEDIUM]


_CUT_OFF = ('- <Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">\n- <System>\n'
            '  <Provider Name="{provider}" EventSourceName="{source}" /> \n'
            '  <EventID Qualifiers="49152">{event_id}</EventID> \n  <Version>0</Version> \n  <EventRec')


def test_event_xml_cut_off_before_its_end_is_read_by_its_provider_and_id(kb: KnowledgeBase) -> None:
    """A browser's XML view pasted, cut off before </Event> (tjanczuk/iisnode #27): not an event for the XML
    reader, but its <EventID> and the provider its <Provider Name> names are read as a Source: line and an
    Event ID are."""
    text = _CUT_OFF.format(provider="Microsoft-Windows-IIS-W3SVC-WP", source="W3SVC-WP", event_id=2280)
    assert [(s.entry_id, s.confidence) for s in match_text(text, kb)] == [("event-2280", Confidence.HIGH)]
    other = _CUT_OFF.format(provider="Application Error", source="Application Error", event_id=1000)
    assert match_text(other, kb) == ()  # NOTE: Application Error 1000 is not ANCM 1000


def test_com_steps_name_only_the_class_ids_the_text_calls_clsid(kb: KnowledgeBase) -> None:
    """The COM class a class-factory error names is looked up in both registry views; an event provider's
    Guid="{...}" in the same paste is not a class."""
    text = ('Retrieving the COM class factory for component with CLSID {0006F03A-0000-0000-C000-000000000046} failed '
            'due to the following error: 80040154 Class not registered\n'
            '<Provider Name="Microsoft-Windows-IIS-W3SVC-WP" Guid="{670080D9-742A-4187-8D16-41143D1290BD}" />')
    commands = [s.command for s in build_report([("t", text)], [], kb).next_steps]
    assert 'reg query "HKLM\\SOFTWARE\\Classes\\CLSID\\{0006F03A-0000-0000-C000-000000000046}\\InprocServer32" /reg:32' \
        in commands
    assert not [c for c in commands if "670080D9" in c]
