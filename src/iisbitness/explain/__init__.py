"""``iisbitness explain``: from an error message, code or event log to the likely bitness causes.

Layers (each module's docstring gives shapes, errors and sources):
    knowledge.toml  the knowledge base, as data         kb.py        loads and validates it
    codes.py        error numbers in any spelling      match.py     text -> signals
    events.py       .evtx / event XML -> Event         report.py    signals -> ExplainReport
    correlate.py    scan findings x events (for ``scan --event-log``)
    spans.py        the patterns matched in a text of any size (the ``regex`` module, re's matches); line breaks
Formats: :mod:`iisbitness.formats.explain_text`, :mod:`iisbitness.formats.explain_json`.
"""

from __future__ import annotations

from iisbitness.explain.correlate import Correlation, FindingKey, correlate
from iisbitness.explain.events import Event, EventLogError, EventLogRead, read_events
from iisbitness.explain.kb import KnowledgeBase, load_kb
from iisbitness.explain.report import ExplainReport, build_report

__all__ = [
           "Correlation",
           "Event",
           "EventLogError",
           "EventLogRead",
           "ExplainReport",
           "FindingKey",
           "KnowledgeBase",
           "build_report",
           "correlate",
           "load_kb",
           "read_events",
]
