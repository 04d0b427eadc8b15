"""Issue 23: explain on what people really paste, and the knowledge-base corrections.

Each test here fails on the code before the issue (1e4d40d); the wrapped-text test is in test_kb_cases.py and
the field measure in field.py."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner

from iisbitness.arch import Arch
from iisbitness.cli import main
from iisbitness.explain.codes import Confidence
from iisbitness.explain.events import events_from_xml
from iisbitness.explain.kb import KnowledgeBase, Specificity, flexible_spaces
from iisbitness.explain.report import ExplainReport, OtherCause, RankedCause, build_report
from iisbitness.fixes.commands import flip_pool, move_to_new_pool
from tests.explain.field import cases as field_cases
from tests.explain.field import measure as field_measure
from tests.explain.test_calibration import SCHEMA
from tests.explain.test_kb_cases import wrap60

DOCS = Path(__file__).parents[2] / "docs"
_FIELD = tomllib.loads((Path(__file__).parent / "field_cases.toml").read_text("utf-8"))


def _report(kb: KnowledgeBase, text: str) -> ExplainReport:
    return build_report([("arg", text)], [], kb)


def _lead(report: ExplainReport) -> str | None:
    lead = report.leading
    if isinstance(lead, RankedCause):
        return str(lead.rule)
    return f"not:{lead.entry_id}" if isinstance(lead, OtherCause) else None


def _event_xml(provider: str, event_id: int, *data: str, binary: str | None = None) -> str:
    datas = "".join(f"<Data>{d}</Data>" for d in data)
    blob = f"<Binary>{binary}</Binary>" if binary else ""
    return (f'<Event><System><Provider Name="{provider}"/><EventID>{event_id}</EventID><Level>2</Level>'
            f'<TimeCreated SystemTime="2024-01-01T00:00:00Z"/><EventRecordID>1</EventRecordID>'
            f"<Channel>Application</Channel><Computer>WEB01</Computer></System>"
            f"<EventData>{datas}{blob}</EventData></Event>")


# --------------------------------------------------------------------------- 1. what defeats the matcher
def test_a_pattern_space_matches_a_line_break() -> None:
    assert flexible_spaces("failed to respond to a ?ping") == r"failed\s+to\s+respond\s+to\s+a\s*ping"
    assert flexible_spaces(r"[^ ]x y") == r"[^ ]x\s+y"  # a space inside a character class stays a space


def test_a_hard_wrapped_event_text_still_gives_its_architecture(kb: KnowledgeBase) -> None:
    text = ("ISAPI Filter 'C:\\f\\x.dll' could not be loaded due to a configuration problem. The current\n"
            "configuration only supports loading images built for a AMD64 processor\narchitecture.")
    signals = [s for s in build_report([("arg", text)], [], kb).explanations[0].signals if s.detail]
    assert signals and signals[0].detail == "worker process architecture: AMD64"


ANCM_LOG_193 = """[aspnetcorev2.dll] Initializing logs for 'C:\\Program Files (x86)\\IIS\\Asp.Net Core Module\\V2\\aspnetcorev2.dll'.
[aspnetcorev2.dll] hostfxr.dll found app local at 'W:\\IIS\\WebApp\\.\\hostfxr.dll', treating application as standalone
[aspnetcorev2.dll] handlerresolver.cpp:224 Operation failed with LastError: 193 HR: 0x800700c1"""


def test_193_in_an_ancm_log_ranks_the_in_process_app_first(kb: KnowledgeBase) -> None:
    report = _report(kb, ANCM_LOG_193)
    assert report.causes[0].rule == "aspnetcore-inprocess-arch" and report.causes[0].confidence is Confidence.HIGH
    plain = _report(kb, "Operation failed with LastError: 193 HR: 0x800700c1")
    assert plain.causes[0].rule == "isapi-extension-arch"  # without the ANCM cues, the IIS 7+ default order


FRONTPAGE_XP64 = (
    "when reinstalling the Front Page Server Extension 2002 for XP64 and it stop working, i get this message :\n"
    "ISAPI Filter 'C:\\Program Files (x86)\\Common Files\\Microsoft Shared\\Web Server Extensions\\50\\bin\\"
    "fpexedll.dll' could not be loaded due to a configuration problem. The current configuration only supports "
    "loading images built for a AMD64 processor architecture. The data field contains the error number.")


def test_iis6_cues_rank_the_iis6_rules_first(kb: KnowledgeBase) -> None:
    assert _report(kb, FRONTPAGE_XP64).causes[0].rule == "iis6-filter-arch"
    on_iis7 = FRONTPAGE_XP64.replace("for XP64", "")
    assert _report(kb, on_iis7).causes[0].rule == "isapi-filter-arch"
    copied = "Event Type: Error\nEvent Source: W3SVC\nEvent ID: 1039\nDescription:\nData: 0000: c1 00 00 00"
    report = _report(kb, copied)
    assert report.causes[0].rule == "iis6-filter-arch" and report.causes[0].confidence is Confidence.HIGH
    # NOTE: IIS 6 runs on Windows 5.2, which refuses an EXE built for Windows 6.0 with that same 193 (a DLL: UNCONFIRMED)
    assert _confidences(report)["iis6-os-version"] is Confidence.MEDIUM


def _confidences(report: ExplainReport) -> dict[str, Confidence]:
    return {str(c.rule): c.confidence for c in report.causes}


def test_an_iis7_global_module_failure_rules_out_the_iis6_rules(kb: KnowledgeBase) -> None:
    """Global modules and event 2280 came with IIS 7.0 ("IIS 6.0 N/A"): the IIS 6 rules are no cause there (audit7 F5)."""
    pasted = ("The Module DLL C:\\Windows\\system32\\inetsrv\\foo.dll failed to load.  The data is the error. "
              "C1 00 00 00")
    got = _confidences(_report(kb, pasted))
    assert got["global-module-arch"] is Confidence.HIGH
    assert {r: got[r] for r in ("iis6-filter-arch", "iis6-extension-arch", "iis6-isolation-wow64")} == dict.fromkeys(
        ("iis6-filter-arch", "iis6-extension-arch", "iis6-isolation-wow64"), Confidence.LOW)
    log = events_from_xml(_event_xml("Microsoft-Windows-IIS-W3SVC-WP", 2280, "C:\\m\\foo.dll", binary="c1000000"),
                          "Application.xml", kb)
    from_log = _confidences(build_report([], [log], kb))
    assert from_log["global-module-arch"] is Confidence.HIGH and from_log.get("iis6-filter-arch", Confidence.LOW) \
        is Confidence.LOW


def test_mixed_iis6_and_iis7_evidence_rules_out_neither(kb: KnowledgeBase) -> None:
    """A text that shows IIS 6 (W3SVC 1039) and an IIS 7+ cue keeps the IIS 6 rules' confidence."""
    copied = ("Event Type: Error\nEvent Source: W3SVC\nEvent ID: 1039\nDescription:\nData: 0000: c1 00 00 00\n"
              "(we also checked applicationHost.config)")
    report = _report(kb, copied)
    assert report.causes[0].rule == "iis6-filter-arch" and report.causes[0].confidence is Confidence.HIGH


def test_the_193_entry_lists_the_iis6_filter_rule(kb: KnowledgeBase) -> None:
    assert "iis6-filter-arch" in [c.rule for c in kb.entry("bad-exe-format").causes]


def test_w3svc_1039_in_an_event_log_is_an_iis6_filter(kb: KnowledgeBase) -> None:
    log = events_from_xml(_event_xml("W3SVC", 1039, "C:\\f\\filter.dll", binary="c1000000"), "System.xml", kb)
    report = build_report([], [log], kb)
    assert report.causes[0].rule == "iis6-filter-arch" and report.causes[0].confidence is Confidence.HIGH
    missing = events_from_xml(_event_xml("W3SVC", 1039, "C:\\f\\filter.dll", binary="7e000000"), "S.xml", kb)
    assert build_report([], [missing], kb).causes[0].confidence is Confidence.MEDIUM


@pytest.mark.parametrize("text", ["503", "Service Unavailable", "HTTP Error 503. The service is unavailable."])
def test_short_forms_of_503_give_the_same_leads(kb: KnowledgeBase, text: str) -> None:
    full = _report(kb, "HTTP Error 503 - Service Unavailable\nThe application pool is stopped.")
    short = _report(kb, text)
    assert [x.entry.id for x in short.explanations] == ["http-503-pool"]
    assert [c.rule for c in short.causes] == [c.rule for c in full.causes]
    assert _lead(short) == _lead(full) == "not:http-503-pool"


def test_a_bare_503_inside_other_words_is_not_a_status(kb: KnowledgeBase) -> None:
    assert not _report(kb, "listening on port 503").recognised


def test_a_cut_off_message_of_a_one_architecture_assembly_is_a_low_lead(kb: KnowledgeBase) -> None:
    report = _report(kb, "Could not load file or assembly 'Oracle.DataAccess' or one of its dependencies. ...")
    assert report.causes[0].rule == "managed-assembly-arch" and report.causes[0].confidence is Confidence.LOW
    assert not _report(kb, "Could not load file or assembly 'Newtonsoft.Json' or one of its dependencies. ...")\
        .recognised
    full = _report(kb, "Could not load file or assembly 'Oracle.DataAccess' or one of its dependencies. An attempt "
                       "was made to load a program with an incorrect format.")
    assert full.causes[0].confidence is Confidence.HIGH


def test_adodb_800a0e7d_is_a_follow_on_of_a_provider(kb: KnowledgeBase) -> None:
    report = _report(kb, "ADODB.Recordset error '800a0e7d'\nThe connection cannot be used to perform this "
                         "operation. It is either closed or invalid in this context.")
    assert report.causes[0].rule == "com-inproc-arch" and report.causes[0].confidence is Confidence.MEDIUM


def test_0x8000808c_is_decoded_as_not_bitness(kb: KnowledgeBase) -> None:
    report = _report(kb, "Failed to start application '/LM/W3SVC/1/ROOT', ErrorCode '0x8000808c'.")
    assert _lead(report) == "not:hostfxr-resolve-failure"


def test_class_not_registered_for_iis_admin_classes_is_not_bitness(kb: KnowledgeBase) -> None:
    text = ("Retrieving the COM class factory for component with CLSID {2B72133B-3F5B-4602-8952-803546CE3344} "
            "failed due to the following error: 80040154 Class not registered (Exception from HRESULT: 0x80040154 "
            "(REGDB_E_CLASSNOTREG)).")
    report = _report(kb, text)
    assert _lead(report) == "not:iis-admin-class-not-registered"
    assert all(c.confidence is Confidence.LOW for c in report.causes)
    other = _report(kb, "Retrieving the COM class factory for component with CLSID {00000000-1111-2222-3333-"
                        "444444444444} failed due to the following error: 80040154 Class not registered")
    assert _lead(other) == "com-inproc-arch"


def test_a_pinvoke_bad_image_format_is_the_native_library(kb: KnowledgeBase) -> None:
    report = _report(kb, "BadImageFormatException: An attempt was made to load a program with an incorrect format. "
                         "(Exception from HRESULT: 0x8007000B)")
    assert report.causes[0].rule == "native-library-arch" and report.causes[0].confidence is Confidence.HIGH


# --------------------------------------------------------------------------- 2. generic evidence, usual readings
@pytest.mark.parametrize(("text", "lead"), [
    ("HTTP Error 500.30 - ANCM In-Process Start Failure", "not:http-500-30"),
    (("HTTP Error 500.19 - Internal Server Error\nThe requested page cannot be accessed because the related "
     "configuration data for the page is invalid."), "not:http-500-19"),
    ('HTTP Error 500.21 - Internal Server Error\nHandler "iisnode" has a bad module "iisnode" in its module list',
     "not:http-500-21-bad-module"),
    (("HTTP Error 503. The service is unavailable.\nThe Module DLL C:\\Program Files\\IIS\\Asp.Net Core Module\\V2\\"
     "aspnetcorev2.dll failed to load. The data is the error."), "not:ancm-module-load"),
    (("HTTP Error 500.31 - ANCM Failed to Find Native Dependencies\nThe specified version of Microsoft.NetCore.App "
     "or Microsoft.AspNetCore.App was not found."), "not:http-500-31"),
])
def test_generic_evidence_leads_with_its_usual_reading(kb: KnowledgeBase, text: str, lead: str) -> None:
    report = _report(kb, text)
    assert _lead(report) == lead
    assert isinstance(report.leading, OtherCause) and report.leading.usual
    assert report.causes and all(c.rank > 1 for c in report.causes)  # bitness stays listed, after it


@pytest.mark.parametrize(("text", "lead"), [
    (("HTTP Error 500.19 - Internal Server Error\nThe requested page cannot be accessed because the related "
     "configuration data for the page is invalid.\nError Code 0x8007007e"), "binary-missing"),
    (('I set the pool to 32-bit. HTTP Error 500.21 - Internal Server Error\nHandler "iisnode" has a bad module '
     '"iisnode" in its module list'), "global-module-arch"),
    (("HTTP Error 503. The service is unavailable.\nThe Module DLL C:\\Program Files\\IIS\\Asp.Net Core Module\\V2\\"
     "aspnetcorev2.dll failed to load. The data is the error.\nData: c1 00 00 00"), "global-module-arch"),
    (("HTTP Error 500.31 - ANCM Failed to Find Native Dependencies\nThe pool runs 32-bit; only the x64 runtime is "
     "installed."), "aspnetcore-runtime-missing"),
])
def test_the_cues_that_drop_a_usual_reading(kb: KnowledgeBase, text: str, lead: str) -> None:
    assert _lead(_report(kb, text)) == lead


def test_hostfxrs_download_link_is_not_an_architecture(kb: KnowledgeBase) -> None:
    text = ("HTTP Error 500.31 - ANCM Failed to Find Native Dependencies\nThe specified framework can be found at: "
            "https://aka.ms/dotnet-core-applaunch?framework=Microsoft.NETCore.App&arch=x64&rid=win10-x64")
    assert _lead(_report(kb, text)) == "not:http-500-31"


def test_usual_readings_are_marked_in_text_and_json(kb: KnowledgeBase) -> None:
    out = CliRunner().invoke(main, ["explain", "HTTP Error 500.30 - ANCM In-Process Start Failure"]).output
    assert "most often this is not a bitness problem" in " ".join(out.split())
    doc = json.loads(CliRunner().invoke(main, ["explain", "--format", "json", "HTTP Error 500.30"]).output)
    jsonschema.validate(doc, SCHEMA)
    assert doc["not_bitness"][0]["usual"] is True and doc["not_bitness"][0]["rank"] == 1


# --------------------------------------------------------------------------- 3. corrections
def test_was_5010_dumps_by_process_id_and_is_sourced(kb: KnowledgeBase) -> None:
    entry = kb.entry("event-5010")
    commands = [s.command for s in entry.read_next]
    assert "procdump -ma -h w3wp.exe" not in commands
    assert any("appcmd list wp" in c for c in commands) and any(c.startswith("procdump") and "PID" in c
                                                                  for c in commands)
    assert entry.unconfirmed is None and any("procdump" in s.ref.lower() for s in entry.sources)


def test_0x80131018_is_not_a_native_dll_in_bin(kb: KnowledgeBase) -> None:
    entry = kb.entry("not-an-assembly")
    assert "ignores" in entry.meaning and "a native DLL in bin alone does not give it" in entry.meaning
    assert any("CompilationSection.cs" in s.ref for s in entry.sources)
    page = (DOCS / "rules" / "binary-invalid.md").read_text("utf-8")
    assert "CompilationSection.cs" in page and "COR_E_ASSEMBLYEXPECTED" in page


def test_500_33_has_no_bitness_cause(kb: KnowledgeBase) -> None:
    entry = kb.entry("http-500-33")
    assert entry.specificity is Specificity.NOT_BITNESS and not entry.causes
    assert any("HandlerResolver.cpp" in s.ref for s in entry.sources)
    assert "In-Process Handler Load Failure" in entry.meaning
    assert _lead(_report(kb, "HTTP Error 500.33 - ANCM Request Handler Load Failure")) == "not:http-500-33"


def test_ancm_1027_carries_the_handler_and_hostfxr_texts(kb: KnowledgeBase) -> None:
    rh = _event_xml("IIS AspNetCore Module V2", 1027, "Could not find 'aspnetcorev2_inprocess.dll'. Exception "
                    "message:\r\nIt was not possible to find any compatible framework version")
    fxr = _event_xml("IIS AspNetCore Module V2", 1027, "Unable to load 'C:\\app\\hostfxr.dll'. This might be "
                     "caused by a bitness mismatch between IIS application pool and published application.")
    other = _event_xml("IIS AspNetCore Module V2", 1027, "Some other general error.")
    log = events_from_xml(rh + fxr + other, "Application.xml", kb)
    report = build_report([], [log], kb)
    event_signals = {(s.entry_id, s.evidence) for h in report.events for s in h.signals if s.via.value == "event"}
    assert event_signals == {("event-ancm-1028", "IIS AspNetCore Module V2/1027"),
                             ("ancm-hostfxr-bitness", "IIS AspNetCore Module V2/1027")}
    entry = kb.entry("event-ancm-1028")
    assert all(s in entry.meaning for s in ("500.31", "500.32", "500.33"))
    assert [k.event_id for k in entry.text_events] == [1027]


def test_docs_name_w3svc_1002_next_to_application_hang() -> None:
    text = " ".join((DOCS / "explain.md").read_text("utf-8").split())
    assert "Application Hang 1002 and Application Error 1000 share their ids with W3SVC 1002" in text


@pytest.mark.parametrize("entry_id", ["event-5002", "event-5009", "event-5011", "event-2281", "http-503-pool"])
def test_iis7_filters_are_not_a_cause_of_a_worker_that_fails(kb: KnowledgeBase, entry_id: str) -> None:
    assert "isapi-filter-arch" not in [c.rule for c in kb.entry(entry_id).causes]


def test_the_503_of_2214_and_2268_is_iis6(kb: KnowledgeBase) -> None:
    for entry_id in ("event-2214", "event-2268"):
        assert "IIS 6" in kb.entry(entry_id).meaning and "500.0" in kb.entry(entry_id).meaning


def test_native_arm64_pools_are_offered_unverified() -> None:
    fix = flip_pool("P", Arch.ARM64, Arch.ARM64)
    assert fix.verified is False and fix.note and "is currently the only option supported" in fix.note
    assert flip_pool("P", Arch.X64, Arch.ARM64).verified is None  # emulated x64 stays verifiable
    split = move_to_new_pool((("S", "/a"),), "P-arm64", Arch.ARM64, "P", "v4.0", "Integrated", Arch.ARM64)
    assert split.verified is False and split.note and "is currently the only option supported" in split.note


def test_runtime_missing_page_gives_ancms_search_order() -> None:
    page = (DOCS / "rules" / "aspnetcore-runtime-missing.md").read_text("utf-8")
    assert "HostFxrResolver.cpp" in page and "where.exe" in page and "InstallLocation" in page


def test_500_31_in_a_32bit_pool_can_be_the_version(kb: KnowledgeBase) -> None:
    entry = kb.entry("http-500-31")
    assert "simply not installed" in entry.meaning and entry.usual and entry.usual_unless == ("arch",)


def test_sysnative_only_from_a_32bit_host(kb: KnowledgeBase) -> None:
    step = next(s for s in kb.entry("class-not-registered").steps if "Sysnative" in s.command)
    assert "32-bit" in step.how and "64-bit prompt" in step.how


def test_iis_express_defaults_are_marked_as_assumptions() -> None:
    page = (DOCS / "iisexpress.md").read_text("utf-8")
    assert "ASSUMPTION: that default is documented for Visual Studio 2015 only" in page
    assert "ASSUMPTION (no source found): the pool's `enable32BitAppOnWin64` has no effect" in " ".join(
        page.split())


def test_0x8007052e_is_the_share_not_a_password_change(kb: KnowledgeBase) -> None:
    entry = kb.entry("logon-failure")
    assert "remote share" in (entry.not_bitness or "") and "password change" not in entry.meaning


def test_comexp_form_is_sourced() -> None:
    page = (DOCS / "rules" / "com-inproc-arch.md").read_text("utf-8")
    assert "Setting Process-Wide Security Using DCOMCNFG" in page


# --------------------------------------------------------------------------- the measure
def test_field_texts_meet_the_issues_goal() -> None:
    figures = field_measure(field_cases())
    right, bitness = figures["bitness_first"]
    wrong, non = figures["non_bitness_led"]
    assert bitness >= 23 and non >= 22
    assert right >= bitness - 1 and wrong <= 1
    assert figures["false_high"][0] == 0


def test_field_texts_lead_the_same_wrapped_at_60_columns(kb: KnowledgeBase) -> None:
    """Every field text, hard-wrapped as a mail client would, leads with the same explanation."""
    for case in field_cases():
        text = next(c["text"] for kind in ("bitness", "not_bitness") for c in _FIELD[kind] if c["name"] == case.name)
        assert _lead(_report(kb, wrap60(text))) == case.lead, case.name


@pytest.mark.parametrize("cue", ["on Windows Server 2003 x64", "after editing the metabase", "inetinfo.exe crashed",
                                 "in IIS5 isolation mode", "IIS 6.0 server", "adsutil.vbs set w3svc/..."])
def test_each_iis6_cue_ranks_the_iis6_rules_first(kb: KnowledgeBase, cue: str) -> None:
    text = ("ISAPI Filter 'C:\\f\\filter.dll' could not be loaded due to a configuration problem. The current "
            f"configuration only supports loading images built for a AMD64 processor architecture. ({cue})")
    want = "iis6-isolation-wow64" if "isolation" in cue else "iis6-filter-arch"
    assert _report(kb, text).causes[0].rule == want
