"""Texts as users paste them: HTML error pages, localised Event Viewer details, event XML (issue: robust explain)."""

from __future__ import annotations

import pytest

from iisbitness.explain.codes import Confidence
from iisbitness.explain.kb import KnowledgeBase
from iisbitness.explain.match import match_text


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
