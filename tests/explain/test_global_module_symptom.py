"""Which symptom a module of the other bitness gives (facts-findings item 6), and that explain and the scan say the same.

KB 942055's HTTP 500.19 with 0x800700C1 ("the bitness of the specified module is different than that of the
application pool") is a page a running worker sends for a request: the module is one the worker loads while serving
requests, an httpCompression scheme DLL the compression module loads (KB 4468361's 500.19, the WSUS xpress scheme). A
global module is loaded at worker start (facts D2): W3SVC-WP 2282, the worker serves no request, and once rapid-fail
protection stops the pool (WAS 5002) every site of it answers 503. explain ranked global-module-arch first, HIGH, for a
500.19 page with 0x800700C1, and did not list compression-scheme-arch at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iisbitness.api import scan
from iisbitness.explain.codes import Confidence
from iisbitness.explain.kb import KnowledgeBase
from iisbitness.explain.report import ExplainReport, RankedCause, build_report
from tests.conftest import CORPUS, fixture, make_image

PAGE_500_19 = ("HTTP Error 500.19 - Internal Server Error\nThe requested page cannot be accessed because the related "
               "configuration data for the page is invalid.\nError Code 0x800700c1")
EVENT_2282 = ("HTTP Error 503. The service is unavailable.\nThe Module DLL 'C:\\Program Files\\Fabrikam\\auth.dll' could "
              "not be loaded due to a configuration problem. The current configuration only supports loading images "
              "built for a AMD64 processor architecture. The data field contains the error number.")
CONFIG = CORPUS / "iis-config-2" / "applicationhost--jaimeparramilic__PROYECTO1-INGRESOS__applicationHost.config"


def _causes(kb: KnowledgeBase, text: str) -> list[RankedCause]:
    report: ExplainReport = build_report([("arg", text)], [], kb)
    return list(report.causes)


def test_a_500_19_page_with_0x800700c1_is_a_compression_scheme_not_a_global_module(kb: KnowledgeBase) -> None:
    causes = _causes(kb, PAGE_500_19)
    assert causes[0].rule == "compression-scheme-arch" and causes[0].confidence is Confidence.HIGH
    [glob] = [c for c in causes if c.rule == "global-module-arch"]
    assert glob.confidence is not Confidence.HIGH  # NOTE: unlikely, not impossible: another pool's 503 in one paste


def test_a_503_with_event_2282_is_still_the_global_module(kb: KnowledgeBase) -> None:
    causes = _causes(kb, EVENT_2282)
    assert causes[0].rule == "global-module-arch" and causes[0].confidence is Confidence.HIGH


def test_no_500_19_entry_names_a_global_module_as_its_cause(kb: KnowledgeBase) -> None:
    entries = [e for e in kb.entries if e.id in ("http-500-19", "http-500-19-module")]
    assert len(entries) == 2
    assert all(c.rule != "global-module-arch" for e in entries for c in e.causes)


def test_the_scan_says_503_for_a_global_module_and_500_19_for_a_scheme_dll(tmp_path: Path) -> None:
    """A real configuration (64-bit DefaultAppPool) whose copy holds x86 builds in System32\\inetsrv: every module
    there is a global module of the other bitness, and gzip.dll a compression scheme DLL of it."""
    if not CONFIG.is_file():
        pytest.skip("no shared corpus")
    text = CONFIG.read_text(encoding="utf-8-sig")
    names = {m.lower() for m in re.findall(r"System32\\inetsrv\\([A-Za-z_0-9]+\.dll)", text, re.IGNORECASE)}
    image = make_image(tmp_path, CONFIG, {f"Windows/System32/inetsrv/{n}": fixture("module_x86.dll") for n in names})
    findings = scan(image).findings
    modules = [f for f in findings if f.rule == "global-module-arch"]
    schemes = [f for f in findings if f.rule == "compression-scheme-arch"]
    assert modules and schemes
    assert all("HTTP 503" in f.symptom and "2282" in f.symptom and "500.19" not in f.symptom for f in modules)
    assert all("500.19" in f.symptom and "503" not in f.symptom for f in schemes)
