"""``--format json`` for scan: the ``iisbitness/scan/2`` document (schema in schema/scan-2.json,
described in docs/scan-json.md). Sorted keys, no timestamps: the same scan gives the same bytes.

Findings and fixes carry the numbers text and HTML show (:mod:`iisbitness.formats.causes`): a finding's
``number`` is ``fix --finding N``, a fix's ``number`` is ``[N]`` in text and ``fix --fix N``. Each distinct fix
is written once, in the document's ``fixes`` table, and each cause's pools once, in its ``causes`` table;
findings refer to them by number (``fix_numbers``, ``cause_number``), so that the document grows linearly with pools
(issue 25: a global module's preCondition fix names every pool, and it serves every pool's finding)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from iisbitness.findings import Finding, Fix, SideEffect
from iisbitness.formats import indented_json
from iisbitness.formats.causes import ReportView, cause_key, view
from iisbitness.report import CoverageStatus, Observation, Report


def effect_dict(e: SideEffect) -> dict[str, Any]:
    """One side effect of a fix as JSON-ready data (``scan/2``'s ``$defs/side_effect``; ``fix/1``'s ``side_effects``)."""
    out: dict[str, Any] = {"kind": e.kind.value, "pool": e.pool, "process": e.process, "name": e.name, "load_kind": e.load_kind,
           "ran": e.ran, "security": e.security, "before": e.before.value if e.before else None,
           "after": e.after.value if e.after else None, "applications": list(e.applications),
           "binaries": e.binaries, "settings": [{"path": k, "value": v} for k, v in e.settings], "like": e.like}
    if e.isapi:  # NOTE: optional, added to scan/2 (an IIS 6 switch): every other document is byte-for-byte as before
        out["isapi"] = list(e.isapi)
    if e.handlers:  # NOTE: optional, added to scan/2 (a module handler mappings name, unloaded): as above
        out["handlers"] = _mappings(e.handlers)
    if e.bypassed:  # NOTE: optional, added to scan/2 (such mappings whose preCondition no longer holds): as above
        out["bypassed"] = _mappings(e.bypassed)
    if e.site is not None:  # NOTE: optional, added to scan/2 (IIS Express: the project's iisexpress.exe): as above
        out["process_site"] = e.site
    return out


def _mappings(rows: tuple[tuple[str, str, str, tuple[str, ...]], ...]) -> list[dict[str, Any]]:
    return [{"name": n, "path": p, "verb": v, "applications": list(apps)} for n, p, v, apps in rows]


def _fix(fix: Fix, number: int) -> dict[str, Any]:
    return {"summary": fix.summary, "commands": list(fix.commands), "powershell": list(fix.powershell),
            "verified": fix.verified, "note": fix.note, "number": number, "label": fix.label,
            "side_effects": [effect_dict(e) for e in fix.side_effects]}


def finding_dict(f: Finding, number: int, v: ReportView, cause: int) -> dict[str, Any]:
    """One finding as JSON-ready data: ``number`` its place in the report (1-based), ``v`` the report's view
    (its fixes' numbers, into the document's ``fixes``), ``cause`` its cause's number (into ``causes``);
    ``process_site`` only under IIS Express (:attr:`Finding.process_site`).

    Raises:
        KeyError: a fix of ``f`` is not in ``v`` (``v`` is not the view of ``f``'s report).
    """
    out = {"number": number, "cause_number": cause,
        "rule": f.rule, "severity": f.severity.label, "evidence": f.evidence.value,
        "pool": f.pool, "site": f.site, "application": f.application,
        "process": f.process, "process_arch": f.process_arch.value if f.process_arch else None,
        "binary": f.binary, "resolved": f.resolved, "binary_arch": [a.value for a in f.binary_arch],
        "config": {"file": f.config.file, "line": f.config.line} if f.config else None,
        "symptom": f.symptom, "cause": f.cause, "chain": list(f.chain),
        "fix_numbers": list(dict.fromkeys(_number(v, x) for x in f.fixes)),
        # NOTE: kept in the finding: not numbered, at most one per fix, each of bounded size (verify.py names
        # four breakages at most), so they grow with findings, not with findings x pools
        "rejected_fixes": [{"summary": r.summary, "reason": r.reason} for r in f.rejected_fixes],
    }
    if f.process_site is not None:  # NOTE: IIS Express only (added within version 2): absent elsewhere
        out["process_site"] = f.process_site
    if f.process_arch_assumed:  # NOTE: only where true (added within version 2): the text's "iisexpress.exe x86 assumed"
        out["process_arch_assumed"] = True
    return out


def _observation(o: Observation) -> dict[str, Any]:
    """One event of ``scan --event-log`` with the verdict ``explain`` gives it (``reading``, ``confidence``, ``lead``)."""
    return {"time": o.time, "provider": o.provider, "event_id": o.event_id, "message": o.message,
            "finding": o.finding_index, "scope": o.scope, "reading": o.reading, "confidence": o.confidence,
            "lead": o.lead, "usual": o.usual, "possible": list(o.possible),
            # NOTE: only where an event confirms a finding --select/--ignore left out (added within scan/2)
            **({"unreported_rule": o.unreported_rule} if o.unreported_rule else {})}


def _number(v: ReportView, fix: Fix) -> int:
    n = v.number(fix)
    if n is None:
        raise KeyError(fix.summary)
    return n


def coverage_dict(report: Report) -> dict[str, Any]:
    """The report's coverage: counts per status, ``complete``, and each application's entry."""
    n = report.coverage_counts()
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
    cause_of = {cause_key(c.first): i for i, c in enumerate(v.causes, 1)}
    causes = [cause_of[cause_key(f)] for f in report.findings]
    members: dict[int, list[int]] = {}
    for i, c in enumerate(causes, 1):
        members.setdefault(c, []).append(i)
    return {
        "schema": report.schema,
        "server": {"kind": s.kind, "image": s.image, "config_file": s.config_file, "os_arch": s.os_arch.value,
                   "os_arch_from": s.os_arch_from, "config_only": s.config_only,
                   # NOTE: only where true (added within scan/2): every other document is as before
                   **({"iisexpress_config": True} if s.iisexpress_config else {}),
                   # NOTE: added within version 2, present only when not empty: documents without it are as before
                   **({"inferred": list(s.inferred)} if s.inferred else {}),
                   # NOTE: added within version 2, present only for a web farm's shared configuration
                   **({"shared_config": s.shared_config} if s.shared_config else {})},
        "pools": [{"name": p.name, "worker_arch": p.worker_arch.value,
                   "enable32BitAppOnWin64": p.enable_32bit_app_on_win64, "enable32BitAppOnWin64_from": p.enable_32bit_from,
                   "managedRuntimeVersion": p.managed_runtime_version, "managedPipelineMode": p.pipeline_mode,
                   "applications": list(p.applications), "process": p.process, "idle": p.idle, "defined": p.defined,
                   "manual_start": p.manual_start,
                   # NOTE: IIS Express only (added within scan/2): the row is a project's iisexpress.exe, whose bitness
                   # the project decides; enable32BitAppOnWin64 is derived from it (IIS Express ignores the attribute)
                   **({"process_site": p.site, "enable32BitAppOnWin64_derived": True} if s.kind == "iisexpress" else {})}
                  for p in report.pools],
        "coverage": coverage_dict(report),
        "findings": [finding_dict(f, i, v, c) for i, (f, c) in enumerate(zip(report.findings, causes), 1)],
        "fixes": [_fix(n.fix, n.number) for n in v.fixes],
        "causes": [{"number": i, "pools": list(c.pools), "findings": members[i]} for i, c in enumerate(v.causes, 1)],
        # NOTE: "refused" only where true (added within scan/2): every other document is byte-for-byte as before
        "problems": [{"file": p.file, "line": p.line, "message": p.message, **({"refused": True} if p.refused else {})}
                     for p in report.problems],
        "observations": [_observation(o) for o in report.observations],
        # NOTE: with --event-log only (events_read not null), as documented: a document without one has no key, as
        # before the key was added (the schema has it optional)
        **({"other_events": [_observation(o) for o in report.other_events]} if report.events_read is not None else {}),
        "events_read": report.events_read,
        "summary": report.counts(),
        "rules": list(report.rules),
        # NOTE: only with a selection that left findings out (added within scan/2): other documents are as before
        **({"unreported": dict(Counter(report.unreported))} if report.unreported else {}),
        # NOTE: check-app --server only, when the application's pool already fails (added within scan/2)
        **({"server_findings": _server_findings(report)} if report.server_findings else {}),
    }


def _server_findings(report: Report) -> dict[str, object]:
    """:attr:`Report.server_findings` as JSON: whether ``--ignore-server-findings`` accepted them, whether the pool
    already fails by them (``fails``: :meth:`Report.server_failing`), counts as ``summary``, and one entry each (rule,
    severity, pool, process, binary, configuration entry, symptom, ``not_checked``: a could-not-check finding)."""
    counts = Counter(f.severity.label for f in report.server_findings)
    return {"accepted": report.server_findings_accepted, "fails": bool(report.server_failing()),
            "summary": {s: counts.get(s, 0) for s in ("error", "warning", "note")},
            "findings": [{"rule": f.rule, "severity": f.severity.label, "pool": f.pool, "process": f.process,
                          "process_arch": f.process_arch.value if f.process_arch else None, "binary": f.binary,
                          "config": {"file": f.config.file, "line": f.config.line} if f.config else None,
                          "symptom": f.symptom, "not_checked": f.binary_not_checked}
                         for f in report.server_findings]}


def render(report: Report) -> str:
    """The report as indented JSON text with sorted keys."""
    return indented_json.dumps(report_dict(report)) + "\n"


def render_many(reports: list[Report]) -> str:
    """Several reports (``demo`` scans more than one image) as a JSON list."""
    return indented_json.dumps([report_dict(r) for r in reports]) + "\n"
