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

Every kept fix carries its side effects (:mod:`iisbitness.fixes.effects`): the load plans before and after it,
compared per process. A fix that takes a module or filter out of a process is ranked after the fixes of the
same finding that keep it (issue 20).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from iisbitness.findings import EffectKind, Finding, Fix, RejectedFix, Severity, SideEffect
from iisbitness.fixes.effects import side_effects
from iisbitness.loadplan.plan import LoadPlan
from iisbitness.model.edits import Edit


@dataclass(frozen=True, slots=True)
class Analysis:
    """The server re-analysed with some edits made.

    Attributes:
        findings: every finding of the edited model (every rule, whatever the report shows).
        before: the load plan without the edits; after: with them (both of the whole server, or both of
            the same pools only).
    """

    findings: list[Finding]
    before: LoadPlan
    after: LoadPlan

    @property
    def side_effects(self) -> tuple[SideEffect, ...]:
        """What the edits change besides the findings (:func:`iisbitness.fixes.effects.side_effects`)."""
        return side_effects(self.before, self.after)


Reanalyse = Callable[[tuple[Edit, ...]], Analysis]
"""Apply edits to a copy of the model, re-plan, and return every finding of the result with both plans."""


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
        side_effects: what else the edits change (the load plans before and after, compared per process).
    """

    after: tuple[Finding, ...]
    remaining: tuple[Finding, ...]
    added: tuple[Finding, ...]
    side_effects: tuple[SideEffect, ...] = ()

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
    analysis = reanalyse(edits)
    return replace(outcome({f.key for f in findings}, set(targets), analysis.findings),
                   side_effects=analysis.side_effects)


Scope = Callable[[tuple[Edit, ...]], frozenset[str] | None]
"""The application pools (lower-case names) an edit set can change, or None when it can change anything."""


def _rank(fixes: list[Fix]) -> tuple[Fix, ...]:
    """Fixes that keep every module and filter where it is loaded first (stable otherwise)."""
    # NOTE: whether any effect unloads, not the tuple of them: a global module's fix unloads it from every pool,
    # and each finding of the module ranks that fix again (issue 25)
    return tuple(sorted(fixes, key=lambda x: any(e.kind is EffectKind.UNLOADED for e in x.side_effects)))


def verify(findings: Sequence[Finding], reanalyse: Reanalyse, breakage: Breakage, *,
           scope: Scope | None = None, reanalyse_pools: Reanalyse | None = None,
           everything: Sequence[Finding] | None = None) -> list[Finding]:
    """Return ``findings`` with each fix verified, rejected, or (IIS 6) offered with what it breaks, with its side
    effects, ranked (:func:`_rank`).

    Args:
        findings: the findings of the server as analysed now, whose fixes to verify.
        reanalyse: re-runs the analysis on a copy of the model with the edits made.
        breakage: the generation's policy for fixes that break something else.
        scope: which pools an edit set can change (:func:`iisbitness.model.edits.touched_pools`).
        reanalyse_pools: like ``reanalyse``, but returns only the findings of the pools ``scope`` names
            (the other pools' loads are the same objects before and after, so their findings cannot
            change); used for a fix whose finding is in one of those pools, so that verifying a
            per-pool fix costs that pool, not the server (issue 11).
        everything: every finding of every rule, when ``findings`` is a selection (``--select``, ``--ignore``):
            a fix is judged against all of them, so that what is shown never changes what is verified (issue 20).

    Only what the comparison needs is kept per edit set (the keys after, and the new findings), so
    memory stays bounded however many fixes a large server offers.
    """
    baseline = {f.key for f in (everything if everything is not None else findings)}
    cache: dict[tuple[tuple[Edit, ...], bool],
                tuple[frozenset[tuple[str, ...]], tuple[Finding, ...], tuple[SideEffect, ...]]] = {}
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
                analysis = (reanalyse_pools if scoped and reanalyse_pools is not None else reanalyse)(fix.edits)
                result = outcome(baseline, (), analysis.findings)
                cache[key] = (frozenset(a.key for a in analysis.findings), result.added, analysis.side_effects)
            after_keys, added, effects = cache[key]
            fix = replace(fix, side_effects=effects)
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
        out.append(replace(finding, fixes=_rank(kept), rejected_fixes=tuple(rejected)))
    return out
