"""Verify fixes against the model before they are offered, for both IIS generations.

Each fix with edits is applied to a copy of the server model (by the caller's ``reanalyse``); the
load plan is rebuilt and every rule re-run. A fix that leaves its finding in place is dropped as a
:class:`iisbitness.findings.RejectedFix`. One that clears it without any new warning or error is
``verified=True``. One that clears it but breaks something else is handled by the generation's
:class:`Breakage` policy:

- IIS 7+ (:attr:`Breakage.REJECT`): rejected with what it would break; a per-pool or per-app fix
  is always there instead (the sqlfluff "unsafe fix" discipline: the finding stays).
- IIS 6 (:attr:`Breakage.OFFER_UNVERIFIED`): the worker bitness is server-wide (facts G4), so
  there is no narrower alternative; the switch is offered with ``verified=False`` and a note
  listing every load it would break.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from iisbitness.findings import Finding, Fix, RejectedFix, Severity
from iisbitness.model.edits import Edit

Reanalyse = Callable[[tuple[Edit, ...]], list[Finding]]
"""Apply edits to a copy of the model, re-plan, and return every finding of the result."""


class Breakage(Enum):
    """What to do with a fix that clears its finding but adds others."""

    REJECT = "reject"
    OFFER_UNVERIFIED = "offer-unverified"


def _describe(f: Finding) -> str:
    where = f.pool or f.site or "server"
    what = f.binary or f.application or ""
    return f"{f.rule} in '{where}'" + (f" ({what})" if what else "")


def _describe_load(f: Finding) -> str:
    where = f.site or f.pool or "server"
    return f"{f.rule} {f.binary or ''} ({f.process or ''} {f.process_arch.value if f.process_arch else ''}, {where})"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What re-analysis with some edits made shows, against the findings before.

    Attributes:
        after: every finding of the edited model. remaining: the targeted findings still there.
        added: findings at warning or above that were not there before.
    """

    after: tuple[Finding, ...]
    remaining: tuple[Finding, ...]
    added: tuple[Finding, ...]

    @property
    def clears(self) -> bool:
        """True when every targeted finding is gone and nothing at warning or above is new."""
        return not self.remaining and not self.added


def outcome(before: Collection[tuple[str, ...]], targets: Collection[tuple[str, ...]],
            after: Sequence[Finding]) -> Outcome:
    """Compare findings ``after`` some edits with the keys ``before``, for the ``targets`` keys."""
    return Outcome(tuple(after), tuple(a for a in after if a.key in targets),
                   tuple(a for a in after if a.key not in before and a.severity >= Severity.WARNING))


def check_edits(findings: Sequence[Finding], targets: Collection[tuple[str, ...]], edits: tuple[Edit, ...],
                reanalyse: Reanalyse) -> Outcome:
    """Re-analyse with ``edits`` (one fix, or several fixes combined) made: the same test
    :func:`verify` applies to each fix alone, for the findings whose keys are ``targets``."""
    return outcome({f.key for f in findings}, set(targets), reanalyse(edits))


Scope = Callable[[tuple[Edit, ...]], frozenset[str] | None]
"""The application pools (lower-case names) an edit set can change, or None when it can change anything."""


def verify(findings: Sequence[Finding], reanalyse: Reanalyse, breakage: Breakage, *,
           scope: Scope | None = None, reanalyse_pools: Reanalyse | None = None) -> list[Finding]:
    """Return ``findings`` with each fix verified, rejected, or (IIS 6) offered with what it breaks.

    Args:
        findings: the findings of the server as analysed now.
        reanalyse: re-runs the analysis on a copy of the model with the edits made.
        breakage: the generation's policy for fixes that break something else.
        scope: which pools an edit set can change (:func:`iisbitness.model.edits.touched_pools`).
        reanalyse_pools: like ``reanalyse``, but returns only the findings of the pools ``scope`` names
            (the other pools' loads are the same objects before and after, so their findings cannot
            change); used for a fix whose finding is in one of those pools, so that verifying a
            per-pool fix costs that pool, not the server (issue 11).

    Only what the comparison needs is kept per edit set (the keys after, and the new findings), so
    memory stays bounded however many fixes a large server offers.
    """
    baseline = {f.key for f in findings}
    cache: dict[tuple[tuple[Edit, ...], bool], tuple[frozenset[tuple[str, ...]], tuple[Finding, ...]]] = {}
    out: list[Finding] = []
    for finding in findings:
        kept: list[Fix] = []
        rejected: list[RejectedFix] = list(finding.rejected_fixes)
        for fix in finding.fixes:
            if not fix.edits:
                kept.append(fix)
                continue
            pools = scope(fix.edits) if scope is not None and reanalyse_pools is not None else None
            scoped = pools is not None and finding.pool is not None and finding.pool.lower() in pools
            key = (fix.edits, scoped)
            if key not in cache:
                after = (reanalyse_pools if scoped and reanalyse_pools is not None else reanalyse)(fix.edits)
                result = outcome(baseline, (), after)
                cache[key] = (frozenset(a.key for a in after), result.added)
            after_keys, added = cache[key]
            if finding.key in after_keys:
                rejected.append(RejectedFix(fix.summary, "re-analysis with this change still shows the problem"))
                continue
            new = list(added)
            if not new:  # NOTE: a fix built unverifiable (native ARM64 pools, issue 23) stays unverified
                kept.append(replace(fix, verified=fix.verified is not False))
            elif breakage is Breakage.REJECT:
                broken = "; ".join(_describe(a) for a in new[:4]) + (f"; and {len(new) - 4} more" if len(new) > 4 else "")
                rejected.append(RejectedFix(fix.summary, f"it would break: {broken}"))
            else:
                broken = "; ".join(dict.fromkeys(_describe_load(a) for a in new))
                note = (fix.note + " " if fix.note else "") + f"Re-analysis: this would also break: {broken}."
                kept.append(replace(fix, verified=False, note=note))
        out.append(replace(finding, fixes=tuple(kept), rejected_fixes=tuple(rejected)))
    return out
