"""Verify fixes against the model before they are offered.

Each fix with edits is applied to a copy of the server model; the load plan is rebuilt and every
rule re-run. A fix is kept (``verified=True``) only if the finding it fixes is gone and no new
warning or error appears; otherwise it is dropped as a :class:`iisbitness.findings.RejectedFix`
that says what it would break, and the finding stays (the sqlfluff "unsafe fix" discipline).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from iisbitness.findings import Finding, Fix, RejectedFix, Severity
from iisbitness.fixes.edits import Edit, apply_all
from iisbitness.loadplan import PlanContext
from iisbitness.model import Server

RunRules = Callable[[Server, PlanContext], list[Finding]]


def _describe(f: Finding) -> str:
    where = f.pool or f.site or "server"
    what = f.binary or f.application or ""
    return f"{f.rule} in '{where}'" + (f" ({what})" if what else "")


def verify(findings: Sequence[Finding], server: Server, ctx: PlanContext, run_rules: RunRules) -> list[Finding]:
    """Return ``findings`` with each fix verified or moved to ``rejected_fixes``.

    Args:
        findings: the findings of ``server`` as analysed now.
        server: the model they came from.
        ctx: the planning context (its caches make re-planning cheap).
        run_rules: builds the plan of a server and runs every rule on it.
    """
    baseline = {f.key for f in findings}
    cache: dict[tuple[Edit, ...], list[Finding]] = {}
    out: list[Finding] = []
    for finding in findings:
        kept: list[Fix] = []
        rejected: list[RejectedFix] = list(finding.rejected_fixes)
        for fix in finding.fixes:
            if not fix.edits:
                kept.append(fix)
                continue
            if fix.edits not in cache:
                cache[fix.edits] = run_rules(apply_all(server, fix.edits), ctx)
            after = cache[fix.edits]
            if finding.key in {a.key for a in after}:
                rejected.append(RejectedFix(fix.summary, "re-analysis with this change still shows the problem"))
                continue
            new = [a for a in after if a.key not in baseline and a.severity >= Severity.WARNING]
            if new:
                broken = "; ".join(_describe(a) for a in new[:4]) + (f"; and {len(new) - 4} more" if len(new) > 4 else "")
                rejected.append(RejectedFix(fix.summary, f"it would break: {broken}"))
                continue
            kept.append(replace(fix, verified=True))
        out.append(replace(finding, fixes=tuple(kept), rejected_fixes=tuple(rejected)))
    return out

