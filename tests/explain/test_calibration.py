"""Issue 15: confidence follows specificity. Generic or non-bitness evidence never gives a HIGH bitness
cause; architecture-specific evidence still does, with the right rule first (figures: calibration.py)."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from iisbitness.explain.codes import Confidence
from iisbitness.explain.kb import KnowledgeBase, Specificity
from iisbitness.explain.report import ExplainReport, OtherCause, build_report
from tests.explain.calibration import CORPUS_EVENTS, Case, cases, measure

SCHEMA = json.loads(resources.files("iisbitness.formats").joinpath("schema/explain-1.json").read_text("utf-8"))

ISSUE_500_30 = "HTTP Error 500.30 - ASP.NET Core app failed to start"
ISSUE_1007 = ("Application '/LM/W3SVC/1477694151/ROOT' with physical root 'C:\\home\\site\\wwwroot\\' failed to load "
              "coreclr. Exception message:\nCLR worker thread exited prematurely")
ISSUE_500_19 = ("HTTP Error 500.19 - Internal Server Error\nThe requested page cannot be accessed because the related "
                "configuration data for the page is invalid.\nError Code 0x8007000d\nConfig Error Configuration file "
                "is not well-formed XML")

_CASES = cases()


def _high(report: ExplainReport) -> list[str]:
    return [c.rule for c in report.causes if c.confidence is Confidence.HIGH]


@pytest.mark.parametrize("text", [ISSUE_500_30, ISSUE_1007, ISSUE_500_19], ids=["500.30", "ancm-1007", "500.19-0d"])
def test_issue_texts_get_no_high_bitness_cause(kb: KnowledgeBase, text: str) -> None:
    report = build_report([("arg", text)], [], kb)
    assert report.recognised
    assert _high(report) == []
    assert not report.bitness_likely
    assert all(c.confidence <= Confidence.MEDIUM for c in report.causes)


def test_500_30_is_possible_and_says_read_the_stdout_log(kb: KnowledgeBase) -> None:
    report = build_report([("arg", ISSUE_500_30)], [], kb)
    assert [c.confidence for c in report.causes] == [Confidence.MEDIUM] * len(report.causes)
    assert "stdoutLogEnabled" in report.next_steps[0].command  # read next comes before scanning
    assert report.explanations[0].specificity is Specificity.GENERIC


def test_1007_ranks_the_app_exception_first(kb: KnowledgeBase) -> None:
    report = build_report([("arg", ISSUE_1007)], [], kb)
    lead = report.leading
    assert isinstance(lead, OtherCause) and lead.entry_id == "app-exception" and lead.rank == 1
    assert "exception" in lead.what
    assert all(c.rank > 1 for c in report.causes)


def test_500_19_malformed_config_is_decoded_as_not_bitness(kb: KnowledgeBase) -> None:
    report = build_report([("arg", ISSUE_500_19)], [], kb)
    lead = report.leading
    assert isinstance(lead, OtherCause) and lead.entry_id == "invalid-config-data"
    assert "malformed configuration" in lead.what
    assert all(c.confidence is Confidence.LOW for c in report.causes)  # 0x8007000D rules out the module reading


@pytest.mark.parametrize(("code", "entry_id"), [
    ("0x8007000D", "invalid-config-data"), ("0x80131040", "assembly-version-mismatch"), ("0x80070020", "file-in-use"),
    ("0x80070005", "access-denied"), ("0x80070021", "config-locked"), ("0x800700B7", "duplicate-config"),
    ("0x8007052E", "logon-failure"), ("0xE0434352", "clr-exception-code"),
])
def test_every_non_bitness_code_is_decoded_honestly(kb: KnowledgeBase, code: str, entry_id: str) -> None:
    report = build_report([("arg", f"HRESULT {code}")], [], kb)
    assert [o.entry_id for o in report.others] == [entry_id]
    assert all(c.confidence <= Confidence.MEDIUM for c in report.causes)
    out = CliRunner().invoke(main, ["explain", f"HRESULT {code}"]).output
    assert "this is not a bitness problem:" in " ".join(out.split())


def test_architecture_specific_evidence_stays_high(kb: KnowledgeBase) -> None:
    for text, rule in [("%1 is not a valid Win32 application.", "isapi-extension-arch"),
                       ("HRESULT 0x800700C1", "isapi-extension-arch"),
                       ("HTTP Error 500.32 - ANCM Failed to Load dll", "aspnetcore-inprocess-arch")]:
        report = build_report([("arg", text)], [], kb)
        assert report.causes[0].rule == rule and report.causes[0].confidence is Confidence.HIGH, text
        assert report.bitness_likely and report.next_steps[0].command == "iisbitness scan"


def test_0x8007000b_needs_its_wording_to_be_high(kb: KnowledgeBase) -> None:
    alone = build_report([("arg", "Exception from HRESULT: 0x8007000B")], [], kb)
    worded_text = ("An attempt was made to load a program with an incorrect format. "
                   "(Exception from HRESULT: 0x8007000B)")
    worded = build_report([("arg", worded_text)], [], kb)
    assert alone.causes[0].confidence is Confidence.MEDIUM
    assert worded.causes[0].rule == "managed-assembly-arch" and worded.causes[0].confidence is Confidence.HIGH


def test_the_exception_name_alone_is_no_more_than_its_code(kb: KnowledgeBase) -> None:
    """'System.BadImageFormatException' (or COR_E_BADIMAGEFORMAT / ERROR_BAD_FORMAT) with no message was HIGH while
    its code 0x8007000B alone is MEDIUM: the type is also what a CLR-version mismatch, a reference assembly and a
    native DLL loaded as an assembly throw (facts D5), so only the wording makes it architecture-specific."""
    for text in ("System.BadImageFormatException", "COR_E_BADIMAGEFORMAT", "ERROR_BAD_FORMAT"):
        report = build_report([("arg", text)], [], kb)
        assert report.causes and report.causes[0].confidence is Confidence.MEDIUM, text
    message = "System.BadImageFormatException: An attempt was made to load a program with an incorrect format."
    worded = build_report([("arg", message)], [], kb)
    assert worded.causes[0].confidence is Confidence.HIGH


def test_event_data_193_makes_a_load_failure_specific(kb: KnowledgeBase) -> None:
    text = "The HTTP Filter DLL C:\\f\\urlscan.dll failed to load. The data is the error.\nData: c1 00 00 00"
    report = build_report([("arg", text)], [], kb)
    assert report.causes[0].rule == "isapi-filter-arch" and report.causes[0].confidence is Confidence.HIGH
    plain = build_report([("arg", text.split("\n")[0])], [], kb)
    assert plain.causes[0].confidence is Confidence.MEDIUM


def test_runtime_newer_overrides_bad_image_format(kb: KnowledgeBase) -> None:
    text = ("BadImageFormatException: Could not load file or assembly 'X'. This assembly is built by a runtime "
            "newer than the currently loaded runtime and cannot be loaded.")
    report = build_report([("arg", text)], [], kb)
    assert not report.bitness_likely and isinstance(report.leading, OtherCause)
    assert report.leading.entry_id == "newer-runtime"


@pytest.mark.parametrize("case", [c for c in _CASES if c.bitness], ids=lambda c: c.name)
def test_bitness_set_ranks_the_right_rule_first(case: Case) -> None:
    assert case.top == case.rule, case.origin
    assert case.report.causes[0].confidence is (Confidence.HIGH if case.specific else Confidence.MEDIUM), case.origin


@pytest.mark.parametrize("case", [c for c in _CASES if not c.bitness], ids=lambda c: c.name)
def test_non_bitness_set_gets_no_high_bitness_cause(case: Case) -> None:
    assert not case.high, (case.origin, _high(case.report))
    if case.first:
        lead = case.report.leading
        assert isinstance(lead, OtherCause) and lead.entry_id == case.first, case.origin


@pytest.mark.skipif(not CORPUS_EVENTS.is_dir(), reason="shared event-log corpus not available")
def test_corpus_exports_get_no_high_bitness_cause() -> None:
    corpus = [c for c in _CASES if c.origin == "corpus"]
    assert len(corpus) == 22
    assert [c.name for c in corpus if c.high] == []  # 7 of 22 were HIGH before issue 15


def test_precision_and_recall() -> None:
    figures = measure(_CASES)
    assert figures["top1_recall"][0] == figures["top1_recall"][1]
    assert figures["high_precision"][0] == figures["high_precision"][1] > 0
    assert figures["high_recall"][0] == figures["high_recall"][1] > 0
    assert figures["false_high"][0] == 0
    assert figures["not_bitness_first"][0] == figures["not_bitness_first"][1]


def test_json_carries_specificity_and_validates() -> None:
    out = CliRunner().invoke(main, ["explain", "--format", "json", ISSUE_1007]).output
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["bitness_likely"] is False
    assert doc["not_bitness"][0]["id"] == "app-exception" and doc["not_bitness"][0]["rank"] == 1
    assert {c["specificity"] for c in doc["causes"]} == {"generic"}
    assert sorted(c["rank"] for c in doc["causes"]) == [2, 3]
    x = next(e for e in doc["explanations"] if e["id"] == "event-ancm-1007")
    assert x["bitness_confidence"] == "medium" and x["read_next"]


def test_old_documents_still_validate() -> None:
    """The schema change is additive: a document without the issue-15 fields is still valid."""
    out = CliRunner().invoke(main, ["explain", "--format", "json", "HRESULT 0x800700C1"]).output
    doc = json.loads(out)
    for key in ("not_bitness", "bitness_likely"):
        doc.pop(key)
    for c in doc["causes"]:
        c.pop("specificity"), c.pop("rank")
    for x in doc["explanations"]:
        for key in ("specificity", "bitness_confidence", "not_bitness", "read_next"):
            x.pop(key)
    jsonschema.validate(doc, SCHEMA)



def test_bad_image_format_inside_an_exception_message_stays_bitness(kb: KnowledgeBase) -> None:
    text = ("Application '/LM/W3SVC/1/ROOT' failed to start. Exception message:\nSystem.BadImageFormatException: "
            "Could not load file or assembly 'Native.Wrapper'. An attempt was made to load a program with an "
            "incorrect format.")
    report = build_report([("arg", text)], [], kb)
    assert report.causes[0].rule == "managed-assembly-arch" and report.bitness_likely
    assert report.others == ()  # no "this is not a bitness problem" line next to a BadImageFormatException
