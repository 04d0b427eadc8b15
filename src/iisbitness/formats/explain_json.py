"""``iisbitness explain --format json``: the :class:`~iisbitness.explain.report.ExplainReport` as JSON.

Shape: ``render(report) -> str``, one JSON object, ``"schema": "iisbitness/explain/1"``, keys sorted,
two-space indent, no timestamps other than event times. Described by ``formats/schema/explain-1.json``
(shipped in the package; the tests validate every output against it) and docs/explain.md.
Codes are strings ``"0x800700C1"``. Never raises.

Issue 15 added, additively: ``specificity``, ``bitness_confidence``, ``not_bitness`` and ``read_next`` on each
explanation; ``specificity`` and ``rank`` on each cause; the top-level ``not_bitness`` list (ranked
not-bitness explanations, ``rank`` shared with ``causes``) and ``bitness_likely``.
"""

from __future__ import annotations

import json

from iisbitness.explain.codes import format_code
from iisbitness.explain.kb import Step
from iisbitness.explain.match import Signal
from iisbitness.explain.report import SCHEMA, EventHit, ExplainReport, Explanation, OtherCause

__all__ = ["render", "to_document"]

Json = dict[str, object]


def _step(step: Step) -> Json:
    return {"how": step.how, "command": step.command}


def _signal(s: Signal) -> Json:
    return {"via": s.via.value, "confidence": s.confidence.label, "evidence": s.evidence, "line": s.line,
            "code": format_code(s.code) if s.code is not None else None, "binary": s.binary, "detail": s.detail}


def _explanation(x: Explanation) -> Json:
    e = x.entry
    return {
        "id": e.id, "kind": e.kind.value, "title": e.title, "meaning": e.meaning,
        "confidence": x.confidence.label, "signals": [_signal(s) for s in x.signals],
        "causes": [{"rank": n, "rule": c.rule, "why": c.why} for n, c in enumerate(x.causes, 1)],
        "steps": [_step(s) for s in e.steps],
        "sources": [{"key": s.key, "ref": s.ref} for s in e.sources],
        "unconfirmed": e.unconfirmed,
        "specificity": x.specificity.value, "bitness_confidence": x.bitness_confidence.label,
        "not_bitness": e.not_bitness, "read_next": [_step(s) for s in e.read_next],
    }


def _other(o: OtherCause) -> Json:
    return {"id": o.entry_id, "what": o.what, "score": o.score, "confidence": o.confidence.label, "rank": o.rank,
            "read_next": [_step(s) for s in o.read_next], "usual": o.usual}


def _event(hit: EventHit) -> Json:
    ev = hit.event
    return {
        "origin": hit.origin, "time": ev.time, "provider": ev.provider, "event_source": ev.event_source,
        "event_id": ev.event_id, "level": ev.level, "computer": ev.computer, "channel": ev.channel,
        "record_id": ev.record_id, "message": ev.message, "binary": ev.binary, "pool": ev.pool,
        "error_code": format_code(ev.error_code) if ev.error_code is not None else None,
        "entries": sorted({s.entry_id for s in hit.signals}),
        "reading": hit.verdict.reading if hit.verdict else None,
        "confidence": hit.verdict.confidence.label if hit.verdict else None,
        "lead": hit.verdict.lead if hit.verdict else None,
        "usual": hit.verdict.usual if hit.verdict else False,
    }


def to_document(report: ExplainReport) -> Json:
    """The JSON-ready dict (what :func:`render` serialises)."""
    return {
        "schema": SCHEMA,
        "recognised": report.recognised,
        "inputs": [{"kind": i.kind, "name": i.name, "format": i.format, "events_read": i.events_read}
                   for i in report.inputs],
        "explanations": [_explanation(x) for x in report.explanations],
        "causes": [{"rule": c.rule, "summary": report.rules.get(c.rule, ""), "score": c.score,
                    "confidence": c.confidence.label, "supported_by": list(c.supported_by),
                    "specificity": c.specificity.value, "rank": c.rank}
                   for c in report.causes],
        "not_bitness": [_other(o) for o in report.others],
        "bitness_likely": report.bitness_likely,
        "events": [_event(h) for h in report.events],
        "problems": [{"path": p.path, "record": p.record, "message": p.message} for p in report.problems],
        "next_steps": [_step(s) for s in report.next_steps],
    }


def render(report: ExplainReport) -> str:
    """Sorted, indented JSON with a trailing newline."""
    return json.dumps(to_document(report), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
