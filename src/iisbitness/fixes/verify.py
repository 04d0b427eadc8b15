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

Not every new finding is a breakage (:func:`outcome`, ``Outcome.shown``); these are named in the fix's note, and
the fix is kept (verified when nothing else is new, but for the first case):

- a ``binary-missing`` finding about a file re-analysis could not check (:attr:`Finding.binary_not_checked`, decided
  from the load: :attr:`~iisbitness.loadplan.plan.Load.not_checked`), each case in its own words (:func:`_not_checked`):
  its folder is not in the image (a configuration-only copy, a file reached through System32 -> SysWOW64 redirection,
  or a copy that left that folder out while it holds the other architecture's build: "Not checked, as the image does
  not hold its folder: ..."), or the image holds a populated ``inetsrv`` that lacks some of Windows' own modules
  (:attr:`Finding.partial_copy`: "The image's copy of FOLDER may be partial: A, B not checked."); and a
  ``binary-invalid`` warning about a file in the image the scan could not read (permission denied: "Not checked, as
  the scan could not read it: ..."; it said "it would break"). It breaks nothing
  the scan knows of, but the fix's result depends on a file nobody checked: the fix is offered **not verified**
  (:func:`_held_back`). A file that re-analysis finds missing on the server, or of the wrong architecture, is a
  breakage: for a compression scheme DLL, say, HTTP 500.19 on the pool's responses (rules/compression_scheme_arch.py,
  rules/binary_missing.py).
- in a worker the fix creates (a pool ``pool-undefined`` defines, the new pool of a split), what its applications
  need whatever its architecture: a file missing from a folder the image holds (``binary-missing`` error without
  another view's copy), a file that is not a PE image (``binary-invalid``). The fix reveals these, a worker now
  exists to show them, it does not cause them ("Once it runs, the new pool will also show: ...").

A fix that runs an application at another architecture (a pool flip, a split's new pool) that the scan did not read
whole (not, or partly, checked: its folder absent from the image, on a drive not mapped; :mod:`iisbitness.loadplan.
coverage`), or whose ``bin`` folder could not be listed whole (unreadable, cut at its size limit: :attr:`iisbitness.loadplan.plan.PoolOutlook.unread`) is
not verified, whatever else re-analysis shows: what that ``bin`` holds at the new architecture is unknown, and
"verified" would vouch for it (:func:`_unlisted`). Its note says which application and why. An application partly
checked only because its worker loads, at its current architecture, a binary the scan could not read or check
(:attr:`Coverage.worker_binaries`) is judged by what the worker loads after the fix instead (:func:`_unchecked_after`):
a flip that moves it to the copy the image holds (read, so checked) is verified; one after which it still loads a file
nobody checked is not.

A ``handler-module-skipped`` finding a fix adds is no breakage either: it is the fix's side effect (a module taken out
of a worker, the handler mappings that name it failing with 500.21 or skipped), said there and ranked by it.

A binary of the wrong architecture in a new worker (any finding whose binary's architectures exclude the process's),
a file the new worker looks for in its own WOW64 view while the image has the other view's copy, and anything new
in a worker that existed before stay breakages: the fix chose that architecture or that move.

Every kept fix carries its side effects (:mod:`iisbitness.fixes.effects`): the load plans before and after it,
compared per process. A fix that takes a module or filter out of a process is ranked after the fixes of the
same finding that keep it (issue 20).
"""

from __future__ import annotations

import ntpath
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum

from iisbitness.arch import Arch
from iisbitness.config.apphost import config_refused, shared_config_unread
from iisbitness.findings import EffectKind, Finding, Fix, RejectedFix, Severity, SideEffect
from iisbitness.fixes.effects import side_effects
from iisbitness.loadplan.plan import AspNetCoreHost, Coverage, CoverageStatus, LoadPlan, Unchecked
from iisbitness.model.edits import Edit
from iisbitness.model.iis7 import Server
from iisbitness.model.source import Problem


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
    _effects: tuple[SideEffect, ...] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def side_effects(self) -> tuple[SideEffect, ...]:
        """What the edits change besides the findings (:func:`iisbitness.fixes.effects.side_effects`), compared at
        the first call and kept (verification asks twice per fix: issue 25)."""
        if self._effects is None:
            object.__setattr__(self, "_effects", side_effects(self.before, self.after))
        assert self._effects is not None
        return self._effects


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
        added: findings at warning or above that were not there before and that the edits break (the module
            docstring says which new findings are not breakages).
        side_effects: what else the edits change (the load plans before and after, compared per process).
        shown: the other new findings at warning or above: what re-analysis could not check (a ``binary-missing``
            warning) and what a worker the edits create reveals rather than causes.
    """

    after: tuple[Finding, ...]
    remaining: tuple[Finding, ...]
    added: tuple[Finding, ...]
    side_effects: tuple[SideEffect, ...] = ()
    shown: tuple[Finding, ...] = ()

    @property
    def clears(self) -> bool:
        """True when every targeted finding is gone and nothing at warning or above is broken."""
        return not self.remaining and not self.added


_NO_FOLDER = "Not checked, as the image does not hold its folder"
_UNREAD = "Not checked, as the scan could not read it"


def _not_checked(f: Finding) -> tuple[str, str] | None:
    """For a ``binary-missing`` finding about a file the scan could not check (:attr:`Finding.binary_not_checked`,
    decided from the load's :attr:`~iisbitness.loadplan.plan.BinaryRef.not_checked`), what a fix's note says of it:
    ``(why, what)``, ``("The image's copy of FOLDER may be partial", the names of Windows' own modules it lacks)``
    (:attr:`Finding.partial_copy`) or ``("Not checked, as the image does not hold its folder", file)`` (the other
    build only, a file reached through System32 -> SysWOW64 redirection, a folder that does not decide its
    architecture); ``("Not checked, as the scan could not read it", file)`` for ``binary-invalid``'s could-not-check
    warning (a file in the image it could not read: permission denied, say; :attr:`BinaryRef.unreadable
    <iisbitness.loadplan.plan.BinaryRef.unreadable>`), which says nothing of the file on the server either; None for
    any other finding: a file known to be missing on the server, or not a valid PE, is a breakage, not this."""
    if not f.binary_not_checked or f.rule not in ("binary-missing", "binary-invalid"):
        return None
    if f.rule == "binary-invalid":
        return _UNREAD, f.binary or ""
    if f.partial_copy:
        return f"The image's copy of {f.partial_copy[0]} may be partial", ", ".join(f.partial_copy[1:])
    return _NO_FOLDER, f.binary or ""


def _wrong_arch(f: Finding) -> bool:
    return bool(f.binary_arch) and f.process_arch is not None and f.process_arch not in f.binary_arch


def _other_view(plan: LoadPlan, f: Finding) -> bool:
    """True when the load ``f`` is about is absent only from its process's view: the image has the other WOW64
    view's copy, or the process looks where no server has the file (:class:`iisbitness.loadplan.plan.Absence`)."""
    pool, binary = (f.pool or "").lower(), (f.binary or "").lower()
    return any(ld.binary.absent is not None and (ld.binary.absent.other_view is not None or ld.binary.absent.why)
               for ld in plan.loads if ld.process.pool is not None and ld.process.pool.name.lower() == pool
               and ld.binary.configured.lower() == binary)


_AS_EFFECTS = frozenset({"handler-module-skipped"})
"""Rules whose new findings a fix's side effects already say (:mod:`iisbitness.fixes.effects`): never a breakage."""

_REVEALED = frozenset({"binary-missing", "binary-invalid"})
"""Rules whose findings in a new worker do not depend on the architecture it runs at (unless :func:`_other_view`)."""


def _revealed(f: Finding, created: frozenset[str], plan: LoadPlan | None) -> bool:
    """True when the new finding ``f`` is not a breakage (the module docstring): not checked, or what a worker
    the edits create (``created``: lower-case pool names) shows whatever its architecture."""
    if _not_checked(f) is not None:
        return True
    if f.pool is None or f.pool.lower() not in created or f.rule not in _REVEALED or _wrong_arch(f):
        return False
    return plan is None or not _other_view(plan, f)


def outcome(before: Collection[tuple[str, ...]], targets: Collection[tuple[str, ...]],
            after: Sequence[Finding], analysis: Analysis | None = None) -> Outcome:
    """Compare findings ``after`` some edits with the keys ``before``, for the ``targets`` keys; with the
    ``analysis`` they come from, a new finding that is not a breakage (the module docstring) is ``shown``."""
    effects = analysis.side_effects if analysis is not None else ()
    created = frozenset(e.pool.lower() for e in effects if e.kind is EffectKind.NEW_POOL and e.pool is not None)
    plan = analysis.after if analysis is not None else None
    # NOTE: a handler-module-skipped finding a fix adds is the fix's side effect already (a module it takes out of a
    # worker, with the mappings that name it: SideEffect.handlers, bypassed): said there and ranked by it, not a rejection
    new = [a for a in after if a.key not in before and a.severity >= Severity.WARNING and a.rule not in _AS_EFFECTS]
    shown = tuple(a for a in new if _revealed(a, created, plan))
    return Outcome(tuple(after), tuple(a for a in after if a.key in targets),
                   tuple(a for a in new if a not in shown), effects, shown)


def _listed(items: Sequence[str]) -> str:
    """The first four of ``items``, ``; ``-separated, then how many more."""
    return "; ".join(items[:4]) + (f"; and {len(items) - 4} more" if len(items) > 4 else "")


def _shown_note(shown: Sequence[Finding]) -> str:
    """The fix's note for what re-analysis could not check, each case in its own words (:func:`_not_checked`), and
    what a new worker will show (empty when none)."""
    unchecked: dict[str, list[str]] = {}
    revealed = []
    for a in shown:
        said = _not_checked(a)
        if said is None:
            revealed.append(a)
            continue
        unchecked.setdefault(said[0], []).append(said[1])
    out = []
    for why, files in unchecked.items():
        out.append(f"{why}: {_listed(list(dict.fromkeys(files)))}{'.' if why in (_NO_FOLDER, _UNREAD) else ' not checked.'}")
    if revealed:
        out.append(f"Once it runs, the new pool will also show: {_listed([_describe(a) for a in revealed])} (at either architecture: "
                   "not caused by this fix).")
    return " ".join(out)


_UNCHECKED_WHY = {Unchecked.ABSENT: "not in the image",
                  Unchecked.OS_UNDECIDED: "loads only on Windows on Arm, and the OS architecture was assumed"}
"""How :func:`_unchecked_after` says each :class:`Unchecked` but :attr:`Unchecked.UNREADABLE` (the file's own problem),
:attr:`Unchecked.DEPENDENCY` (the dependency named), :attr:`Unchecked.INFERRED` (its own sentence: the file, and
what to copy) and :attr:`Unchecked.RUNTIME` (the .NET install's folder, and the drive to pass)."""


def _unchecked_index(plan: LoadPlan) -> dict[tuple[str, str, str], list[tuple[Arch, str, str | None]]]:
    """Per process (:attr:`Process.key`: a pool's worker, IIS Express's per site, and the processes outside pools:
    IIS Manager's ``inetmgr.exe``, IIS 6's ``inetinfo.exe`` and ``aspnet_wp.exe``), ``(its architecture, file, why)``
    for each binary it loads that the scan could not check: :meth:`LoadPlan.unchecked`, the one decision coverage reads
    too; one walk per plan (issue 25). The file as configured; for a vendor's file whose architecture was only inferred
    from its folder (:attr:`Unchecked.INFERRED`), its path as the worker resolves it (the file to copy) and no why."""
    out: dict[tuple[str, str, str], list[tuple[Arch, str, str | None]]] = {}
    for ld, why_not in plan.unchecked():
        b = ld.binary
        if why_not is Unchecked.INFERRED:
            out.setdefault(ld.process.key, []).append((ld.process.arch, b.windows_path or b.configured, None))
            continue
        if why_not is Unchecked.RUNTIME and isinstance(ld.entry, AspNetCoreHost) and ld.entry.runtime is not None:
            # NOTE: the .NET install of that architecture, on a drive the image does not hold: what to pass, said
            runtime = ld.entry.runtime
            out.setdefault(ld.process.key, []).append(
                (ld.process.arch, runtime.dotnet_root, f"the .NET runtime of that architecture, not read: {runtime.unread}"))
            continue
        dep = plan.unchecked_dependency(ld) if why_not is Unchecked.DEPENDENCY else None
        why = (f"its dependency {dep.name} not checked" if dep is not None
               else _UNCHECKED_WHY.get(why_not) or f"not read: {b.problem}")
        out.setdefault(ld.process.key, []).append((ld.process.arch, b.configured, why))
    return out


def _unchecked_after(analysis: Analysis, shown: Sequence[Finding]) -> str:
    """The note for a fix after which a worker it runs at another architecture (an ``ARCH`` or ``NEW_POOL`` side
    effect) loads a binary the scan could not check (:func:`_unchecked_index` of the plan after the edits); "" when
    none. Such a fix is not verified: its result depends on a file nobody checked. One that moves the worker to the
    copy the image holds (read, checked) is not held back by the file it no longer loads. Files the ``shown``
    findings name (:func:`_shown_note` says them in their own words) are not named twice."""
    # NOTE: every process moved, a pool's or not (IIS 6's aspnet_wp.exe), by its identity (Process.key); a side effect
    # that names no site (a new pool) stands for each process of its pool
    moved = [((e.process, (e.pool or "").lower(), e.site.lower() if e.site is not None else None), e.after)
             for e in analysis.side_effects if e.kind in (EffectKind.ARCH, EffectKind.NEW_POOL) and e.after is not None]
    if not moved:
        return ""  # NOTE: the index is a walk of the plan: only for a fix that moves a worker (issue 25)
    index = analysis.after.derived("verify:unchecked", _unchecked_index)
    if not index:
        return ""
    said = {n.lower() for a in shown if _not_checked(a) is not None
            for n in (a.partial_copy[1:] if a.partial_copy else (a.binary or "",))}
    found = False
    named: list[str] = []
    inferred: list[str] = []
    for (name, pool, site), after in moved:
        keys = [(name, pool, site)] if site is not None else [k for k in index if k[:2] == (name, pool)]
        for arch, configured, why in (u for k in keys for u in index.get(k, ())):
            if arch is not after:
                continue
            if why is None:
                inferred.append(configured)
            elif configured.lower() not in said and ntpath.basename(configured).lower() not in said:
                found = True
                named.append(f"{configured} ({why})")
            else:
                found = True
    notes: list[str] = []
    if found and not named:
        notes.append("Not verified: at that architecture its worker loads what the scan could not check.")
    elif named:
        notes.append(f"Not verified: at that architecture its worker loads {_listed(list(dict.fromkeys(named)))}, "
                     "which the scan could not check.")
    if inferred:
        files = list(dict.fromkeys(inferred))
        where = "(in the image, or on a drive --drive maps)"
        if analysis.after.iisexpress is not None:
            # NOTE: a solution folder's scan holds no machine: the developer machine's drive is what to pass
            drives = sorted({f[0].upper() for f in files if ntpath.splitdrive(f)[0]})
            where = (f"with {' '.join(f'--drive {d}=/path/to/copy' for d in drives) or '--drive C=/path/to/copy'} (the "
                     f"developer machine's drive, or a copy holding {'it' if len(files) == 1 else 'them'} at the same "
                     "paths)")
        notes.append(f"Not verified: at that architecture its worker loads {_listed(files)}, "
                     f"{'a vendor file' if len(files) == 1 else 'vendor files'} the image does not hold, whose "
                     "architecture was only inferred from the folder, not read; give the "
                     f"scan {'a copy of it' if len(files) == 1 else 'copies of them'} to check {where}.")
    return " ".join(notes)


def _held_back(analysis: Analysis, result: Outcome, unchecked: Mapping[str, Coverage]) -> str:
    """Why a fix that clears its finding is still not verified, or "": an application it runs at another
    architecture was not read whole (:func:`_unlisted`), the worker it runs at another architecture loads a binary
    the scan could not check (:func:`_unchecked_after`), or another new finding is about a file the scan could not
    check (:func:`_not_checked`; named in the note by :func:`_shown_note`)."""
    held = _join(_unlisted(analysis, unchecked), _unchecked_after(analysis, result.shown))
    if held is None and any(_not_checked(a) is not None for a in result.shown):
        held = "Not verified: after it, a worker loads a file the scan could not check."
    return held or ""


def _unlisted(analysis: Analysis, unchecked: Mapping[str, Coverage]) -> str:
    """The note for the applications the edits run at another architecture (an ``ARCH`` or ``NEW_POOL`` side
    effect) that the scan did not read whole: not (fully) checked (``unchecked``, by lower-case ``Site/path``: its
    folder absent from the image, on a drive not mapped, a web.config not read), or whose ``bin`` that worker could
    not list whole (the edited plan's outlook); "" when none. Such a fix is not verified: what those applications
    load at the new architecture is unknown, and "verified" would vouch for it. An application IIS refuses
    (:attr:`Coverage.refused`) is said in a sentence of its own, naming where: the file is to be corrected, nothing
    is to be given the scan."""
    unread: list[str] = []
    uncovered: list[Coverage] = []
    for e in analysis.side_effects:
        if e.kind not in (EffectKind.ARCH, EffectKind.NEW_POOL) or e.after is None:
            continue
        # NOTE: a process outside pools that runs applications at another architecture (IIS 6's aspnet_wp.exe) too;
        # a gap that is only a binary a process loads at its current architecture is judged after the fix instead,
        # for the process moved, pool or not (_unchecked_after): the flip to the build the image holds leaves it behind
        uncovered += [c for a in e.applications if (c := unchecked.get(a.lower())) is not None
                      and not set(c.reasons) <= set(c.worker_binaries)]
        if e.pool is None:
            continue
        outlook = analysis.after.outlook_of(e.pool)
        mine = {a.lower() for a in e.applications}
        unread += [f"{app} at {e.after.value} ({why})" for app, why in (outlook.unread_at(e.after) if outlook else ())
                   if app.lower() in mine]
    notes: list[str] = []
    seen = list({c.application: c for c in uncovered}.values())
    if refused := [c for c in seen if c.refused]:
        # NOTE: nothing is to be given the scan: IIS answers the application with 500.19 until the file is corrected
        at = list(dict.fromkeys(c.refused for c in refused))
        apps = [c.application if len(at) == 1 else f"{c.application} ({c.refused})" for c in refused]
        which = (", ".join(apps[:-1]) + " and " if len(apps) > 1 else "") + apps[-1] if len(apps) <= 4 else _listed(apps)
        which += f" ({at[0]}, HTTP 500.19)" if len(at) == 1 else " (HTTP 500.19)"
        they = "it loads" if len(refused) == 1 else "they load"
        notes.append(f"Not verified: IIS refuses the configuration of {which}, so what {they} at that architecture is "
                     "unknown until that is corrected.")
    if uncovered := [c for c in seen if not c.refused]:
        seen = uncovered
        named = [f"{c.application} ({_why(c)})" for c in seen]
        if len(seen) == 1:
            how = "not checked" if seen[0].status is CoverageStatus.NOT_CHECKED else "only partly checked"
            said = f"{named[0]} was {how}, so what it loads"
        else:
            said = f"{_listed(named)} were not (fully) checked, so what they load"
        notes.append(f"Not verified: {said} at that architecture is unknown; the coverage says what to give the scan.")
    if unread:
        notes.append(f"Not verified: the bin folder of {_listed(list(dict.fromkeys(unread)))} could not be listed "
                     "whole, so what it loads at that architecture is unknown; give the scan a readable copy of it.")
    return " ".join(notes)


def _why(c: Coverage) -> str:
    """The first reason of ``c`` without the application's own name in front of it, nor its full stop."""
    why = c.reasons[0] if c.reasons else c.status.value
    return why.removeprefix(f"{c.application}: ").rstrip(".")


Scope = Callable[[tuple[Edit, ...]], frozenset[str] | None]
"""The application pools (lower-case names) an edit set can change, or None when it can change anything."""


def _order(effects: tuple[SideEffect, ...]) -> tuple[bool, bool]:
    """:func:`_rank`'s key of a fix with side effects ``effects``: whether requests of a handler mapping fail after
    it (:attr:`Fix.breaks_requests`), whether it unloads anything that ran (or might have: :attr:`SideEffect.ran` not
    False) or a security module. Taking out a module that never loaded there (its file missing on the server, or of
    the wrong architecture: ``ran`` False) takes nothing from the sites: such a fix is not ranked after advice."""
    # NOTE: whether any effect unloads, not the tuple of them: a global module's fix unloads it from every pool
    return any(e.breaks_requests for e in effects), any(e.kind is EffectKind.UNLOADED and (e.ran is not False or e.security)
                                                        for e in effects)


def _rank(fixes: list[Fix], orders: list[tuple[bool, bool]] | None = None) -> tuple[Fix, ...]:
    """Fixes that keep every module and filter where it is loaded first, those after which requests of handler
    mappings fail (HTTP 500.21: :attr:`SideEffect.handlers`) last (stable otherwise); ``orders``: :func:`_order` of
    each fix's side effects, in the same order, when the caller has them (:func:`verify` works them out once per edit
    set: a global module's fix is ranked again for each finding of the module, its effects one per pool, issue 25)."""
    keys = orders if orders is not None else [_order(f.side_effects) for f in fixes]
    return tuple(f for _, f in sorted(zip(keys, fixes, strict=True), key=lambda p: p[0]))


def verify(findings: Sequence[Finding], reanalyse: Reanalyse, breakage: Breakage, *,
           scope: Scope | None = None, reanalyse_pools: Reanalyse | None = None,
           everything: Sequence[Finding] | None = None, unchecked: Mapping[str, Coverage] | None = None,
           unverifiable: str = "") -> list[Finding]:
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
        unchecked: the coverage of each application the scan did not read whole (by lower-case ``Site/path``): a
            fix that runs one at another architecture is not verified (:func:`_unlisted`).
        unverifiable: why no fix can be verified, or "" (:func:`fixes_unverifiable`:
            the configuration read is not the one IIS runs, or IIS refuses part of it): every kept fix with edits is
            then ``verified=False``, this in its note; rejections stand (the finding stays after them anyway).

    Only what the comparison needs is kept per edit set (the keys after, and the new findings), so
    memory stays bounded however many fixes a large server offers.
    """
    baseline = {f.key for f in (everything if everything is not None else findings)}
    cache: dict[tuple[tuple[Edit, ...], bool], tuple[frozenset[tuple[str, ...]], tuple[Finding, ...],
                                                    tuple[SideEffect, ...], str, str, tuple[bool, bool]]] = {}
    out: list[Finding] = []
    for finding in findings:
        kept: list[Fix] = []
        orders: list[tuple[bool, bool]] = []
        rejected: list[RejectedFix] = list(finding.rejected_fixes)
        for fix in finding.fixes:
            if not fix.edits:
                kept.append(fix)
                orders.append(_order(fix.side_effects))
                continue
            pools = scope(fix.edits) if scope is not None and reanalyse_pools is not None else None
            scoped = pools is not None and finding.pool is not None and finding.pool.lower() in pools
            key = (fix.edits, scoped)
            if key not in cache:
                analysis = (reanalyse_pools if scoped and reanalyse_pools is not None else reanalyse)(fix.edits)
                result = outcome(baseline, (), analysis.findings, analysis)
                cache[key] = (frozenset(a.key for a in analysis.findings), result.added, result.side_effects,
                              _shown_note(result.shown), _held_back(analysis, result, unchecked or {}),
                              _order(result.side_effects))
            after_keys, added, effects, shown, unlisted, order = cache[key]
            if finding.key in after_keys:
                rejected.append(RejectedFix(fix.summary, "re-analysis with this change still shows the problem"))
                continue
            new = list(added)
            if new and breakage is Breakage.REJECT:
                rejected.append(RejectedFix(fix.summary, f"it would break: {_listed([_describe(a) for a in new])}"))
                continue
            orders.append(order)
            # NOTE: one copy of the fix with everything verification says of it (dataclasses.replace: 2.5 us a call)
            if not new and unlisted:  # NOTE: a bin not listed at the new architecture: nothing to vouch for there
                said = _join(unlisted, shown)
                kept.append(replace(fix, side_effects=effects, verified=False, note=_join(fix.note, said),
                                    unverified_because=_because(fix, said)))
            elif not new:  # NOTE: a fix built unverifiable (native ARM64 pools, issue 23) stays unverified
                kept.append(replace(fix, side_effects=effects, verified=fix.verified is not False,
                                    note=_join(fix.note, shown),
                                    unverified_because=_because(fix, shown) if fix.verified is False else None))
            else:
                broken = "; ".join(dict.fromkeys(_describe_load(a) for a in new))
                said = _join(_join(f"Re-analysis: this would also break: {broken}.", unlisted), shown)
                breaks = tuple(dict.fromkeys(ntpath.basename(a.binary) if a.binary else a.rule for a in new))
                kept.append(replace(fix, side_effects=effects, verified=False, note=_join(fix.note, said),
                                    breaks=breaks, unverified_because=_because(fix, said)))
        if unverifiable:
            kept = [replace(x, verified=False, note=_join(x.note, unverifiable), unverified_because=_because(x, unverifiable))
                    if x.edits else x for x in kept]
        ranked = _rank(kept, orders)
        if len(rejected) == len(finding.rejected_fixes) and _same(ranked, finding.fixes):
            out.append(finding)  # NOTE: advisory fixes only (no edits), in their order: nothing to copy (4 us a finding)
        else:
            out.append(replace(finding, fixes=ranked, rejected_fixes=tuple(rejected)))
    return out


def _same(fixes: tuple[Fix, ...], before: tuple[Fix, ...]) -> bool:
    """True when ``fixes`` are the very objects ``before`` holds, in the same order (verification changed none)."""
    return len(fixes) == len(before) and all(a is b for a, b in zip(fixes, before, strict=True))


def _join(note: str | None, more: str | None) -> str | None:
    """``note`` and ``more`` as one note (None when both are empty)."""
    return " ".join(x for x in (note, more) if x) or None


def _because(fix: Fix, said: str | None) -> str | None:
    """:attr:`Fix.unverified_because` of ``fix`` once verification adds ``said`` to its note (sentences whose first
    opens with "Not verified: " or "Re-analysis: this would also break: "): the reason ``fix`` already has, ``said``
    after it; else ``said`` without its opening "Not verified: " and final period (verification's own words, before
    they go into the note: no note is read back)."""
    if not said:
        return fix.unverified_because
    if fix.unverified_because is None:
        return said.removeprefix("Not verified: ").rstrip(".")
    return f"{fix.unverified_because}. {said}".rstrip(".")


def fixes_unverifiable(problems: Sequence[Problem], server: Server) -> str:
    """Why no fix of the server can be verified, or "": the configuration read is not the one IIS runs (shared
    configuration not read: :func:`shared_config_unread`), or IIS refuses part of it (:func:`config_refused`), so
    re-analysis of an edited copy says nothing about what IIS would do with it (:func:`verify`'s ``unverifiable``).
    Names the file and line. ``server``: the model read (its ``config_file``, and its applications IIS refuses alone,
    which leave the rest of the server verifiable)."""
    if (p := shared_config_unread(problems)) is not None:
        return (f"Not verified: the shared configuration {p.where} enables was not read, so the applicationHost.config "
                "read is not the one IIS runs.")
    if (p := config_refused(problems, server)) is not None:
        return (f"Not verified: IIS refuses {p.where} (see IIS refuses), so it does not run this configuration as "
                "written; correct that first.")
    return ""
