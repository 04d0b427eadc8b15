"""``scan --loads --format json``: the ``iisbitness/loads/1`` document (schema in schema/loads-1.json,
described in docs/loads.md). Sorted keys, no timestamps: the same scan gives the same bytes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from iisbitness.formats import indented_json
from iisbitness.report import LOADS_SCHEMA, LoadEntry, Report, Verdict


def entry_dict(e: LoadEntry) -> dict[str, Any]:
    """One load-map entry as JSON-ready data; ``skip_reason`` only on a ``skipped`` entry, ``process_site`` only on an
    IIS Express process's (both added to loads/1 after its first release: optional fields)."""
    out: dict[str, Any] = {
        "process": e.process, "process_arch": e.process_arch.value, "pool": e.pool, "kind": e.kind,
        "name": e.name, "site": e.site, "application": e.application, "configured": e.configured,
        "windows_path": e.windows_path, "resolved": e.resolved, "binary_arch": [a.value for a in e.binary_arch],
        "evidence": e.evidence, "verdict": e.verdict.value, "reason": e.reason,
        "config": {"file": e.config.file, "line": e.config.line}}
    if e.skip_reason is not None:
        out["skip_reason"] = e.skip_reason
    if e.process_site is not None:
        out["process_site"] = e.process_site
    return out


def loads_dict(report: Report) -> dict[str, Any]:
    """The load map of ``report`` (empty when the scan did not build one)."""
    entries = report.loads or ()
    counts = Counter(e.verdict.value for e in entries)
    s = report.server
    return {"schema": LOADS_SCHEMA,
            "server": {"kind": s.kind, "image": s.image, "config_file": s.config_file, "os_arch": s.os_arch.value},
            "loads": [entry_dict(e) for e in entries],
            "summary": {v.value: counts.get(v.value, 0) for v in Verdict}}


def render(reports: list[Report]) -> str:
    """One map as an object, several (``demo``) as a list; indented, sorted keys."""
    data: Any = loads_dict(reports[0]) if len(reports) == 1 else [loads_dict(r) for r in reports]
    return indented_json.dumps(data) + "\n"
