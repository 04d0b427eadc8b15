"""W3SVC 1039 / 1009 / 1037 (IIS 6's own service events) named without Event Viewer's "Source:" and "Event ID:"
labels, as people write them in a sentence ("W3SVC 1039: %1 is not a valid Win32 application"): read as IIS 6, as the
labelled copy is, so the IIS 7+ rules (global modules, isapiFilters, ASP.NET Core) are no longer ranked high
(explain8's report: eight IIS 7+ rules came out high)."""

from __future__ import annotations

import pytest

from iisbitness.explain.codes import Confidence
from iisbitness.explain.kb import KnowledgeBase
from iisbitness.explain.report import build_report

_IIS7_RULES = ("global-module-arch", "isapi-filter-arch", "isapi-extension-arch", "aspnetcore-inprocess-arch")


@pytest.mark.parametrize("text", [
    "W3SVC 1039: %1 is not a valid Win32 application",
    "Event ID 1039, W3SVC: %1 is not a valid Win32 application.",
    "We get W3SVC event 1039 on start, then: %1 is not a valid Win32 application",
])
def test_unlabelled_w3svc_1039_is_iis6(kb: KnowledgeBase, text: str) -> None:
    report = build_report([("arg", text)], [], kb)
    got = {str(c.rule): c.confidence for c in report.causes}
    assert report.causes[0].rule == "iis6-filter-arch" and report.causes[0].confidence is Confidence.HIGH
    assert all(got.get(rule, Confidence.LOW) is Confidence.LOW for rule in _IIS7_RULES), got
    assert "event-w3svc-1039" in {e.entry.id for e in report.explanations}


@pytest.mark.parametrize("text", [
    "W3SVC-WP 1039: %1 is not a valid Win32 application",  # IIS 7+'s worker provider, not IIS 6's service
    "W3SVC 10390: %1 is not a valid Win32 application",
])
def test_other_providers_and_numbers_are_not_iis6(kb: KnowledgeBase, text: str) -> None:
    report = build_report([("arg", text)], [], kb)
    got = {str(c.rule): c.confidence for c in report.causes}
    assert got["global-module-arch"] is Confidence.HIGH
