"""Baselines: findings accepted on a server, kept out of the report's findings and its exit code.

A baseline is a JSON file (``iisbitness/baseline/1``) listing accepted findings by their stable
identity (:attr:`iisbitness.findings.Finding.key`: rule, pool, site, application, binary,
process, and under IIS Express ``process_site``, the project's site whose ``iisexpress.exe`` it is), each with an optional ``note`` saying why it was accepted. ``scan --write-baseline FILE``
writes one from the current findings; ``scan --baseline FILE`` moves matching findings to
``Report.suppressed`` (SARIF shows them as suppressed results; text and JSON leave them out).
A finding that changes (another binary, another pool) no longer matches and is reported again.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from iisbitness.config.jsonfile import read_json
from iisbitness.errors import ConfigError
from iisbitness.findings import Finding
from iisbitness.report import Report

BASELINE_SCHEMA = "iisbitness/baseline/1"
MAX_BASELINE_BYTES = 64 * 1024 * 1024
"""Largest baseline read, in bytes (as configuration files; 100,000 accepted findings take about 25 MB)."""
_FIELDS = ("rule", "pool", "site", "application", "binary", "process")


def entry(f: Finding) -> dict[str, Any]:
    """A baseline entry for ``f``: its key fields as the finding shows them (``process_site`` only where the finding has
    one: IIS Express), and an empty note."""
    out: dict[str, Any] = {"rule": f.rule, "pool": f.pool, "site": f.site, "application": f.application,
                           "binary": f.binary, "process": f.process, "note": ""}
    if f.process_site is not None:
        out["process_site"] = f.process_site
    return out


def _key(e: dict[str, Any]) -> tuple[str, ...]:
    """:attr:`Finding.key` of a baseline entry (``process_site`` where it has one)."""
    v = [str(e.get(k) or "") for k in _FIELDS]
    key = (v[0], v[1].lower(), v[2].lower(), v[3].lower(), v[4].lower(), v[5])
    site = e.get("process_site")
    return key if site is None else (*key, str(site).lower())


def read_baseline(path: Path) -> frozenset[tuple[str, ...]]:
    """The keys of the findings ``path`` accepts.

    Raises:
        ConfigError: the file cannot be read, is not a regular file, is over :data:`MAX_BASELINE_BYTES`, is not
            UTF-8 JSON (any nesting depth: :func:`iisbitness.config.jsonfile.read_json`), or is not an
            ``iisbitness/baseline/1`` document.
    """
    doc, _ = read_json(path, str(path), MAX_BASELINE_BYTES, "baseline")
    if not isinstance(doc, dict) or doc.get("schema") != BASELINE_SCHEMA or not isinstance(doc.get("accepted"), list):
        raise ConfigError(str(path), f'not a baseline: expected {{"schema": "{BASELINE_SCHEMA}", "accepted": [...]}}')
    bad = [i for i, e in enumerate(doc["accepted"]) if not isinstance(e, dict) or not e.get("rule")]
    if bad:
        raise ConfigError(str(path), f"accepted[{bad[0]}] is not an object with a \"rule\"")
    return frozenset(_key(e) for e in doc["accepted"])


def render_baseline(reports: list[Report]) -> str:
    """A baseline accepting every finding of ``reports`` (sorted, stable bytes)."""
    entries = {f.key: entry(f) for r in reports for f in r.findings}
    doc = {"schema": BASELINE_SCHEMA, "accepted": [entries[k] for k in sorted(entries)]}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def apply_baseline(report: Report, accepted: frozenset[tuple[str, ...]]) -> Report:
    """``report`` with the accepted findings moved from ``findings`` to ``suppressed``."""
    keep = tuple(f for f in report.findings if f.key not in accepted)
    gone = tuple(f for f in report.findings if f.key in accepted)
    return replace(report, findings=keep, suppressed=report.suppressed + gone)
