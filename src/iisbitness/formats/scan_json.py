"""``--format json`` for scan: the ``iisbitness/scan/2`` document (schema in schema/scan-2.json,
described in docs/scan-json.md). Sorted keys, no timestamps: the same scan gives the same bytes.

Findings and fixes carry the numbers text and HTML show (:mod:`iisbitness.formats.causes`): a finding's
``number`` is ``fix --finding N``, a fix's ``number`` is ``[N]`` in text and ``fix --fix N``."""

from __future__ import annotations

import json as _json
from typing import Any

from iisbitness.findings import Finding, Fix, SideEffect
from iisbitness.formats.causes import ReportView, cause_key, view
from iisbitness.report import CoverageStatus, Report


def _effect(e: SideEffect) -> dict[str, Any]:
    return {"kind": e.kind.value, "pool": e.pool, "process": e.process, "name": e.name, "load_kind": e.load_kind,
            "ran": e.ran, "security": e.security, "before": e.before.value if e.before else None,
            "after": e.after.value if e.after else None, "applications": list(e.applications),
            "binaries": e.binaries, "settings": [{"path": k, "value": v} for k, v in e.settings], "like": e.like}


def _fix(fix: Fix, number: int | None) -> dict[str, Any]:
    return {"summary": fix.summary, "commands": list(fix.commands), "powershell": list(fix.powershell),
            "verified": fix.verified, "note": fix.note, "number": number, "label": fix.label,
            "side_effects": [_effect(e) for e in fix.side_effects]}


def finding_dict(f: Finding, number: int = 1, v: ReportView | None = None,
                 pools: tuple[str, ...] | None = None) -> dict[str, Any]:
    """One finding as JSON-ready data: ``number`` its place in the report (1-based), ``v`` the report's view
    (fix numbers), ``pools`` every pool of the finding's cause (default: its own)."""
    return {"number": number, "pools": list(pools if pools is not None else (f.pool,) if f.pool else ()),
        "rule": f.rule, "severity": f.severity.label, "evidence": f.evidence.value,
        "pool": f.pool, "site": f.site, "application": f.application,
        "process": f.process, "process_arch": f.process_arch.value if f.process_arch else None,
        "binary": f.binary, "resolved": f.resolved, "binary_arch": [a.value for a in f.binary_arch],
        "config": {"file": f.config.file, "line": f.config.line} if f.config else None,
        "symptom": f.symptom, "cause": f.cause, "chain": list(f.chain),
        "fixes": [_fix(x, v.number(x) if v else None) for x in f.fixes],
        "rejected_fixes": [{"summary": r.summary, "reason": r.reason} for r in f.rejected_fixes],
    }


def coverage_dict(report: Report) -> dict[str, Any]:
    """The report's coverage: counts per status, ``complete``, and each application's entry."""
    n = {s: sum(c.status is s for c in report.coverage) for s in CoverageStatus}
    return {
        "complete": not n[CoverageStatus.PARTLY] and not n[CoverageStatus.NOT_CHECKED],
        "checked": n[CoverageStatus.CHECKED], "partly_checked": n[CoverageStatus.PARTLY],
        "not_checked": n[CoverageStatus.NOT_CHECKED],
        "applications": [{"application": c.application, "pool": c.pool, "physical_path": c.physical_path,
                          "status": c.status.value, "reasons": list(c.reasons), "remedy": c.remedy}
                         for c in report.coverage],
    }


def report_dict(report: Report) -> dict[str, Any]:
    """The whole report as JSON-ready data (``iisexpress`` only for IIS Express scans)."""
    out = _report_dict(report)
    if report.projects or report.server.kind == "iisexpress":
        out["iisexpress"] = [
            {"project": p.name, "project_file": p.project_file, "kind": p.kind, "site": p.site, "pool": p.pool,
             "arch": p.arch.value, "process": p.process, "decided_by": p.decided_by, "assumed": p.assumed,
             "reason": p.reason, "switch": p.switch, "switch_at": p.switch_at, "output": p.output}
            for p in report.projects]
    return out


def _report_dict(report: Report) -> dict[str, Any]:
    s = report.server
    v = view(report)
    pools = {cause_key(c.first): c.pools for c in v.causes}
    return {
        "schema": report.schema,
        "server": {"kind": s.kind, "image": s.image, "config_file": s.config_file, "os_arch": s.os_arch.value,
                   "os_arch_from": s.os_arch_from, "config_only": s.config_only},
        "pools": [{"name": p.name, "worker_arch": p.worker_arch.value,
                   "enable32BitAppOnWin64": p.enable_32bit_app_on_win64, "enable32BitAppOnWin64_from": p.enable_32bit_from,
                   "managedRuntimeVersion": p.managed_runtime_version, "managedPipelineMode": p.pipeline_mode,
                   "applications": list(p.applications), "process": p.process, "idle": p.idle, "defined": p.defined,
                   "manual_start": p.manual_start}
                  for p in report.pools],
        "coverage": coverage_dict(report),
        "findings": [finding_dict(f, i, v, pools.get(cause_key(f))) for i, f in enumerate(report.findings, 1)],
        "problems": [{"file": p.file, "line": p.line, "message": p.message} for p in report.problems],
        "observations": [{"time": o.time, "provider": o.provider, "event_id": o.event_id, "message": o.message,
                          "finding": o.finding_index, "scope": o.scope} for o in report.observations],
        "events_read": report.events_read,
        "summary": report.counts(),
        "rules": list(report.rules),
    }


def render(report: Report) -> str:
    """The report as indented JSON text with sorted keys."""
    return _json.dumps(report_dict(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_many(reports: list[Report]) -> str:
    """Several reports (``demo`` scans more than one image) as a JSON list."""
    return _json.dumps([report_dict(r) for r in reports], indent=2, sort_keys=True, ensure_ascii=False) + "\n"
