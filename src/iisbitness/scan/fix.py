"""``iisbitness fix``: choose verified fixes, verify them together, and plan or write the change.

One path for an offline image and the live server (the live path only adds appcmd to recycle or
start the pools touched, :func:`pool_actions`):

1. scan as :func:`iisbitness.scan.pipeline.scan` does (same backend, same rules), keeping its plan, planning context
   and every rule's findings (:func:`iisbitness.scan.pipeline.analysed`): the choice re-analyses against them, the
   server planned once;
2. for each chosen finding (``--rule``, ``--finding``) not yet cleared by the fixes already taken,
   take its first fix that verification marked ``verified=True`` and that still clears every
   targeted finding, adding none, when re-analysed *together* with the fixes already taken
   (each fix re-analysed in the pools its edits change, on the model with the fixes taken made, and the combined
   edits once on the whole server: :func:`_choose`); a fix that conflicts is left out, with why.
   ``--fix N`` takes fix N as ``scan`` numbers it (the caller's ``numbering``) for every finding offering it;
   the plan carries the side effects of all the fixes taken together (:attr:`FixPlan.side_effects`);
3. turn the combined edits into byte-level file changes (the backend's ``changes``);
4. ``--apply``: write them (:func:`iisbitness.fixes.write.write_changes`) and scan again.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic, Protocol, TypeVar, cast

from iisbitness.config.apphost import config_refused, shared_config_unread
from iisbitness.errors import CacheError, FixError, IisBitnessError, ServerImageError
from iisbitness.findings import Finding, Fix, SideEffect
from iisbitness.fixes.commands import APPCMD
from iisbitness.fixes.plan import FileChange
from iisbitness.fixes.verify import Analysis, Outcome, outcome
from iisbitness.fixes.write import Step, Target, Written, write_changes
from iisbitness.image.detect import detect_os_arch
from iisbitness.image.server_image import ServerImage
from iisbitness.model.edits import Edit, MoveToNewPool, SetPoolArch
from iisbitness.model.edits import touched_pools as pools_of_edits
from iisbitness.model.source import Problem
from iisbitness.pe.facts import BinaryFacts
from iisbitness.pe.prefetch import read_ahead
from iisbitness.pe.store import SqliteFactStore
from iisbitness.report import Report
from iisbitness.scan.backend import Backend
from iisbitness.scan.baseline import apply_baseline
from iisbitness.scan.pipeline import (
    Analysed,
    Progress,
    Reanalysis,
    ScanOptions,
    analysed,
    given_for,
    open_image,
    read_backend,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Chosen:
    """A fix taken into the plan: the finding's number (1-based, report order) and the fix."""

    number: int
    finding: Finding
    fix: Fix


Numbering = Callable[[Report], Sequence[Fix]]
"""A report's distinct fixes in the order ``scan`` numbers them (``[1]`` first): the caller's presentation
(:func:`iisbitness.formats.causes.view`), so that ``fix --fix N`` is what ``scan`` showed as ``[N]``."""


class FixNumberError(IisBitnessError):
    """``--fix N`` names no fix of the scan, or one that changes no configuration."""


@dataclass(frozen=True, slots=True)
class Left:
    """A chosen finding the plan does not fix, and why."""

    number: int
    finding: Finding
    reason: str


@dataclass(frozen=True)
class FixPlan:
    """What ``fix`` would do.

    Attributes:
        report: the scan before. chosen: the fixes taken, in order. cleared: numbers of the
        findings the combined edits clear (the targeted ones and any others they also clear).
        left: chosen findings not fixed. edits: the combined edits. changes: the file changes.
        targets: those changes with their real paths. outcome: re-analysis of the combined edits.
        live: the live server (``appcmd`` can recycle its pools).
    """

    report: Report
    chosen: tuple[Chosen, ...]
    cleared: tuple[int, ...]
    left: tuple[Left, ...]
    edits: tuple[Edit, ...]
    changes: tuple[FileChange, ...]
    targets: tuple[Target, ...]
    outcome: Outcome | None
    live: bool

    @property
    def side_effects(self) -> tuple[SideEffect, ...]:
        """What the chosen fixes, all together, change besides the findings (the load plans compared)."""
        return self.outcome.side_effects if self.outcome is not None else ()

    @property
    def plan_id(self) -> str:
        """12 hex digits naming exactly what ``--apply`` would write: each file, its bytes as read and as written
        (SHA-256 of them all). The dry run prints it; ``fix --apply --plan ID`` writes only a plan of that id, so a
        file changed since the dry run, or a fix number that now means another fix, refuses instead of writing
        what was not reviewed."""
        digest = hashlib.sha256()
        for c in self.changes:
            for part in (c.shown.encode("utf-8"), hashlib.sha256(c.before).digest(), hashlib.sha256(c.after).digest()):
                digest.update(len(part).to_bytes(4, "big") + part)
        return digest.hexdigest()[:12]

    @property
    def commands(self) -> tuple[str, ...]:
        """The equivalent appcmd / adsutil.vbs commands of the chosen fixes, in order, once each."""
        return tuple(dict.fromkeys(c for ch in self.chosen for c in ch.fix.commands))

    @property
    def powershell(self) -> tuple[str, ...]:
        """The same as PowerShell lines, in order, once each."""
        return tuple(dict.fromkeys(c for ch in self.chosen for c in ch.fix.powershell))


def _fixable(f: Finding) -> list[Fix]:
    return [x for x in f.fixes if x.verified is True and x.edits]


Key = tuple[str, ...]
"""A finding's :attr:`~iisbitness.findings.Finding.key`; its second item is the pool's lower-case name ("" for none)."""

M = TypeVar("M")


class Reanalyses(Protocol[M]):
    """What :func:`_choose` re-analyses with (:class:`iisbitness.scan.pipeline.Reanalysis`): a model of the server
    (``M``), the model with more edits made, and every finding of a model, of the whole server or of some pools."""

    def start(self) -> M:
        """The model as it is."""
        ...

    def edited(self, model: M, edits: tuple[Edit, ...]) -> M:
        """``model`` with ``edits`` made too, in order."""
        ...

    def analyse(self, model: M, pools: frozenset[str] | None) -> Analysis:
        """Every finding of every rule of ``model`` (of the pools ``pools`` names, lower case, when not None)."""
        ...


@dataclass(frozen=True, slots=True)
class _Tried:
    """A fix's edits added to those taken: the model with them made, and what re-analysis shows of the pools it
    re-analysed (``scope``; None: the whole server): each pool's finding keys, and whether it breaks anything; the
    whole server's analysis itself (None for a scoped one)."""

    model: object
    scope: frozenset[str] | None
    keys: dict[str, set[Key]]
    broken: bool
    analysis: Analysis | None = None


def _by_pool(keys: Iterable[Key]) -> dict[str, set[Key]]:
    out: dict[str, set[Key]] = {}
    for k in keys:
        out.setdefault(k[1], set()).add(k)
    return out


def _why_unverified(fix: Fix) -> str:
    """Why ``fix`` (``verified=False``) is not verified: verification's reason (:attr:`Fix.unverified_because`, set
    wherever a fix is made unverified; "its note says why" should one ever lack it)."""
    return fix.unverified_because or "its note says why"


def _not_taken(f: Finding, named: Callable[[Fix], str]) -> str:
    """The configuration changes ``f`` offers that verification did not vouch for (``verified=False``), each named
    (``named``: its number as ``scan`` shows it and label) with why: ``fix`` takes none of them; "" when none. Advice
    (no configuration change) is not named: ``fix`` never makes it."""
    return "; ".join(f"{named(x)} is not verified: {_why_unverified(x)}" for x in f.fixes
                     if x.edits and x.verified is False)


class _Chooser(Generic[M]):
    """One choice of fixes (:func:`_choose`), as it goes: the model with the fixes taken made, the findings they target
    and each pool's finding keys after them (per pool: its lower-case name, "" for none), and the re-analyses of the
    fixes tried since the last one taken (by the edits each adds), so that a fix two findings offer is re-analysed once.

    Attributes:
        before: every finding's key before any fix. chosen, left: the fixes taken and the findings left, so far.
        edits: the edits of the fixes taken, in order (``made``: the same, as a set). targets: pool -> the keys of the
        findings the fixes taken target. after: pool -> its finding keys with the fixes taken made (the pools a scoped
        re-analysis did not see keep what the last one that saw them showed). model: the model with those edits made.
        last: the whole server's analysis of those edits, when the last fix taken had one (None otherwise).
    """

    def __init__(self, report: Report, reanalyses: Reanalyses[M], everything: Sequence[Finding] | None,
                 numbering: Numbering | None, scoped: bool) -> None:
        self.report = report
        self.reanalyses = reanalyses
        self.numbering = numbering
        self.scoped = scoped
        self.before = {f.key for f in (report.findings if everything is None else everything)}
        self.chosen: list[Chosen] = []
        self.left: list[Left] = []
        self.edits: tuple[Edit, ...] = ()
        self.made: set[Edit] = set()
        self.targets: dict[str, set[Key]] = {}
        self.model = reanalyses.start()
        self.after = _by_pool(self.before)
        self.tried: dict[tuple[Edit, ...], _Tried] = {}
        self.last: Analysis | None = None
        self._shown: list[Fix] | None = None

    def named(self, fix: Fix) -> str:
        """``fix`` as a finding left names it: ``[N] label``, N as ``scan`` numbers it (``numbering``, asked once,
        at the first fix named), or ``'label'`` without a numbering or for a fix ``scan`` does not number."""
        if self.numbering is None:
            return f"'{fix.label}'"
        if self._shown is None:
            self._shown = list(self.numbering(self.report))
        return f"[{self._shown.index(fix) + 1}] {fix.label}" if fix in self._shown else f"'{fix.label}'"

    def leave(self, n: int, f: Finding, reason: str) -> None:
        """Leave finding ``n`` (``f``) unfixed for ``reason``, followed by each configuration change it offers that
        verification did not vouch for, with why (:func:`_not_taken`)."""
        others = _not_taken(f, self.named)
        self.left.append(Left(n, f, f"{reason}; {others}" if others else reason))

    def attempt(self, added: tuple[Edit, ...], whole: bool) -> _Tried:
        """Re-analyse the model with ``added`` made too: on the whole server (``whole``), else in the pools those
        edits change (:func:`iisbitness.model.edits.touched_pools`; nothing re-analysed when they change none)."""
        new = self.reanalyses.edited(self.model, added) if added else self.model
        scope = None if whole else pools_of_edits(added)
        if scope is not None and not scope:
            return _Tried(new, scope, {}, False)  # NOTE: every edit already made: nothing changes
        analysis = self.reanalyses.analyse(new, scope)
        found = analysis.findings if scope is None else [a for a in analysis.findings if a.key[1] in scope]
        return _Tried(new, scope, _by_pool(a.key for a in found),
                      bool(outcome(self.before, (), found, analysis).added), analysis if scope is None else None)

    def clears(self, t: _Tried, key: Key) -> bool:
        """True when the fix tried (``t``) breaks nothing and leaves neither the finding ``key`` nor any finding
        already targeted: those of the pools it re-analysed by its keys, the others' by :attr:`after`."""
        if t.broken:
            return False
        pools = self.targets.keys() if t.scope is None else t.scope
        wanted = [key, *(k for p in pools for k in self.targets.get(p, ()))]
        return not any(k in (t.keys if t.scope is None or k[1] in t.scope else self.after).get(k[1], ())
                       for k in wanted)

    def take(self, n: int, f: Finding, fix: Fix, added: tuple[Edit, ...], t: _Tried) -> None:
        """Take ``fix`` for finding ``n`` (``f``): its new edits (``added``) made, the pools ``t`` re-analysed given
        what it showed, ``f`` targeted, the fixes tried for earlier edits forgotten."""
        self.chosen.append(Chosen(n, f, fix))
        self.edits, self.model = self.edits + added, cast(M, t.model)
        self.made.update(added)
        self.last = t.analysis
        if t.scope is None:
            self.after = t.keys
        else:
            self.after.update({p: t.keys.get(p, set()) for p in t.scope})
        self.targets.setdefault(f.key[1], set()).add(f.key)
        self.tried.clear()

    def consider(self, n: int, want: Fix | None) -> None:
        """Fix finding ``n`` with its first fix (``want``: that fix) that clears it with the fixes taken, or leave
        it, with why; nothing when a fix already taken cleared it."""
        f = self.report.findings[n - 1]
        if self.chosen and f.key not in self.after.get(f.key[1], ()):
            return  # NOTE: cleared by a fix already taken
        fixes = _fixable(f) if want is None else [x for x in _fixable(f) if x == want]
        harmless = [x for x in fixes if not x.breaks_requests and not x.removes_security] if want is None else fixes
        if fixes and not harmless:
            # NOTE: verified is not harmless: a module handler mappings name taken out leaves their requests with
            # HTTP 500.21; a security module taken out leaves its sites served without it. Taken only when asked
            # for by number (fix --fix N), the side effect shown
            guards = [m for x in fixes for m in x.removes_security]
            broken = ("its verified fixes make requests of handler mappings fail (HTTP 500.21) or go to another mapping "
                      "(scan names them): take one knowingly with --fix N"
                      if any(e.bypassed for x in fixes for e in x.side_effects) else
                      "its verified fixes make requests of handler mappings fail (HTTP 500.21; scan "
                      "names them): take one knowingly with --fix N")
            self.leave(n, f, broken if not guards else
                       f"its verified fixes take the security module {', '.join(dict.fromkeys(guards))} out of "
                       "pools, whose sites are then served without it: take one knowingly with --fix N")
            return
        if not harmless:
            # NOTE: a binary the scan could not check is no configuration to fix: what to give the scan is its cause
            self.leave(n, f, f"not checked, so nothing to fix: {f.cause}" if f.binary_not_checked else
                       "no verified fix that changes configuration")
            return
        for fix in harmless:
            added = tuple(e for e in fix.edits if e not in self.made)
            t = self.tried.get(added)
            if t is None:
                t = self.tried[added] = self.attempt(added, not self.scoped)
            if not self.clears(t, f.key) and t.scope:
                # NOTE: left out only on the whole server's word: the pools a scoped re-analysis did not see
                # cannot make a fix clear, but a fix is never refused on less than main's check (issue 25)
                t = self.tried[added] = self.attempt(added, True)
            if self.clears(t, f.key):
                self.take(n, f, fix, added, t)
                return
            if t.analysis is not None:  # NOTE: a whole server's plan kept for each fix left out would add up
                self.tried[added] = replace(t, analysis=None)
        self.leave(n, f, "each verified fix conflicts with the fixes already chosen "
                         "(together they would leave a finding or add one)")

    def result(self) -> tuple[Outcome | None, bool]:
        """The outcome of the edits taken re-analysed on the whole server (once, unless the last fix taken had the
        whole server's analysis; None when none was taken), and whether it is what the scoped re-analyses showed
        (always when none was scoped)."""
        if not self.chosen:
            return None, True
        final = self.last or self.reanalyses.analyse(self.model, None)
        result = outcome(self.before, {k for keys in self.targets.values() for k in keys}, final.findings, final)
        return result, not (self.scoped and self.last is None and (
            not result.clears or {a.key for a in result.after} != {k for keys in self.after.values() for k in keys}))


def _choose(report: Report, numbers: Sequence[int | tuple[int, Fix]], reanalyses: Reanalyses[M],
            everything: Sequence[Finding] | None = None, progress: Progress | None = None, *, scoped: bool = True,
            numbering: Numbering | None = None) -> tuple[list[Chosen], list[Left], tuple[Edit, ...], Outcome | None]:
    """``numbers``: finding numbers (their first fix that works), or ``(finding number, fix)`` for that fix;
    ``everything``: every finding of every rule (the report may show a selection), which a fix must not add to;
    ``progress``: told which of ``numbers`` is being verified (``fix`` can take minutes on a large server);
    ``numbering``: the fixes as ``scan`` numbers them, so that a finding left unfixed names its fixes not taken by
    their ``[N]`` (by their label alone without it). A finding left says why of each fix it offers that changes
    configuration: a side effect ``fix`` takes only by number, a conflict, or verification's reason for one not
    verified (an application not checked, a configuration IIS refuses, ...).

    Each fix is judged with every fix taken before it made too, against every rule: it must clear its finding and
    leave every finding already targeted cleared, adding no breakage (:func:`iisbitness.fixes.verify.outcome`).
    ``scoped`` (issue 25): a fix whose new edits change only some pools (:func:`iisbitness.model.edits.touched_pools`)
    is re-analysed in those pools alone, on the model with the earlier fixes made, and the other pools keep what
    re-analysis showed of them before: a choice linear in the pools, not a whole-server re-analysis per finding. A fix
    that can change any pool (a global module's or a filter's preCondition, a compression scheme removed, IIS 6 and
    IIS Express switches) is re-analysed on the whole server; so is every fix a scoped re-analysis would leave out,
    before it is left out. The combined edits are then re-analysed on the whole server once (the outcome returned;
    none more when the last fix taken was re-analysed there); should that ever differ from what the scoped
    re-analyses showed, the choice is made again with whole-server re-analyses only (``scoped=False``: one per fix
    tried, as before issue 25), and a warning logged."""
    chooser = _Chooser(report, reanalyses, everything, numbering, scoped)
    for i, item in enumerate(numbers, 1):
        if progress is not None:
            progress(f"verifying the fixes together: finding {i} of {len(numbers)}")
        chooser.consider(*(item if isinstance(item, tuple) else (item, None)))
    result, same = chooser.result()
    if not same:
        log.warning("fix: the fixes chosen pool by pool re-analyse differently on the whole server; choosing again "
                    "with whole-server re-analyses")
        return _choose(report, numbers, reanalyses, everything, progress, scoped=False, numbering=numbering)
    return chooser.chosen, chooser.left, chooser.edits, result


class FindingNumberError(IisBitnessError):
    """``--finding N`` names no finding of the scan (an input error, not a refusal to write)."""


def select(report: Report, rules: Collection[str] = (), numbers: Collection[int] = ()) -> list[int]:
    """The 1-based numbers of the findings ``--rule`` and ``--finding`` choose (all when neither).

    Raises:
        FindingNumberError: a number is not a finding of the report.
    """
    bad = [n for n in numbers if not 1 <= n <= len(report.findings)]
    if bad:
        raise FindingNumberError(f"--finding {bad[0]}: the scan has {len(report.findings)} findings (numbered from 1)")
    return [i for i, f in enumerate(report.findings, 1)
            if (not rules or f.rule in rules) and (not numbers or i in numbers)]


def select_fixes(report: Report, fixes: Collection[int], numbering: Numbering) -> list[tuple[int, Fix]]:
    """``(finding number, fix)`` for every finding that offers one of the fixes numbered ``fixes``, in report order.

    Raises:
        FixNumberError: a number is not a fix of the report, or names advice (no configuration change) or a fix not
            verified (its reason said: :attr:`Fix.unverified_because`).
    """
    distinct = list(numbering(report))
    out: list[tuple[int, Fix]] = []
    for n in fixes:
        if not 1 <= n <= len(distinct):
            raise FixNumberError(f"--fix {n}: the scan has {len(distinct)} fixes (numbered from 1, as scan shows them)")
        fix = distinct[n - 1]
        if not (fix.verified is True and fix.edits):
            # NOTE: why, as a finding left says it (Fix.unverified_because): the number alone gave no reason
            why = f" ({_why_unverified(fix)})" if fix.verified is False and fix.edits else ""
            raise FixNumberError(f"--fix {n}: {fix.summary}: not a verified configuration change{why}; make it by hand")
        out += [(i, x) for i, f in enumerate(report.findings, 1) for x in f.fixes if x == fix]
    return sorted(out, key=lambda t: t[0])


def plan_fix(image: Path | None, options: ScanOptions | None = None, rules: Collection[str] = (),
             numbers: Collection[int] = (), fixes: Collection[int] = (), numbering: Numbering | None = None,
             accepted: frozenset[tuple[str, ...]] | None = None) -> FixPlan:
    """Scan, choose and verify fixes together, and plan the file changes (nothing is written).

    ``fixes`` (``--fix N``) are numbered by ``numbering``, as ``scan`` shows them; with ``rules`` or ``numbers``
    too, only the findings those choose are fixed with them. ``options.rules`` (``--select``/``--ignore``) and
    ``accepted`` (a ``--baseline``'s keys) leave findings out as ``scan`` does, so that finding and fix numbers
    are those of the same ``scan``; verification runs every rule either way.

    Raises:
        ServerImageError, ConfigError: as :func:`iisbitness.scan.pipeline.scan`; also a shared configuration
            (redirection.config) not in the image: the local file IIS does not run is never planned.
        FixError: a chosen element is not where the model read it, or a file cannot be edited.
        FindingNumberError, FixNumberError: ``numbers`` or ``fixes`` name nothing the scan has.
    """
    options = options or ScanOptions()
    img = open_image(image, options)
    os_arch, os_from = (options.os_arch, "--os-arch") if options.os_arch else detect_os_arch(img)
    backend = read_backend(img, os_arch, os_from, options)
    options = given_for(backend, options)  # NOTE: as scan_image does: the coverage fix reports is the scan's
    # NOTE: the scan's own plan, findings and planning context serve the choice below (issue 25: planning the server
    # and running every rule a second time was a fifth of fix at 300 pools); each binary is read once, and with
    # --cache through the cache, kept open until the choice is made
    store = SqliteFactStore(options.cache) if options.cache is not None else None
    try:
        facts = (BinaryFacts(store, options.on_read) if store is not None else
                 BinaryFacts(on_read=options.on_read, read_ahead=read_ahead()))
        try:
            scanned = analysed(backend, img, options, str(image) if image is not None else "live", facts, store)
        finally:
            facts.close()  # NOTE: stops reading ahead only: the choice's re-plans still read through the facts
        report = scanned.report
        if store is not None:
            try:
                store.flush()
            except CacheError as e:  # NOTE: as scan says it: the report is right, the cache not written
                report = replace(report, problems=report.problems + (Problem(str(options.cache), None, str(e)),))
        if accepted is not None:
            report = apply_baseline(report, accepted)
        chosen, left, edits, result = _chosen(backend, scanned, report, rules, numbers, fixes, numbering,
                                              options.progress)
    finally:
        if store is not None:
            try:
                store.close()  # NOTE: writes what the choice's re-plans read
            except CacheError as e:
                log.warning("fix: %s", e)
    if options.progress:
        options.progress("planning the file changes")
    return _planned(backend, img, report, chosen, left, edits, result, image is None)


def _chosen(backend: Backend, scanned: Analysed, report: Report, rules: Collection[str], numbers: Collection[int],
            fixes: Collection[int], numbering: Numbering | None, progress: Progress | None) -> tuple[list[Chosen], list[Left], tuple[Edit, ...], Outcome | None]:
    """:func:`plan_fix`'s choice of fixes on the scan ``scanned`` (``report``: its report, a baseline applied): the
    configuration checked to be the one IIS runs, the findings chosen, and :func:`_choose` given the scan's plan,
    planning context and every rule's findings, as they are (its re-analyses compare with them): the seam where the
    plan is built and handed to the chooser.

    Raises:
        ServerImageError: shared configuration unread, or a configuration IIS refuses. FindingNumberError,
            FixNumberError: as :func:`plan_fix`.
    """
    before, every = scanned.plan, scanned.every
    # NOTE: the problem says what is wrong, what IIS does and how to give what is missing; the error adds only what fix
    # does about it (it said again that IIS does not run the file, and the --share the problem names)
    if (shared := shared_config_unread(report.problems)) is not None:
        # NOTE: the plan would edit the local applicationHost.config, which IIS does not run under shared configuration
        raise ServerImageError(f"{shared.where}: {shared.message}; fix plans no edit of the local file (or run fix "
                               "where the shared file is)")
    if (refused := config_refused(report.problems, before.server.config_file)) is not None:
        # NOTE: IIS fails reading that section, so no edit of the file runs as verified until the refusal is corrected
        raise ServerImageError(f"{refused.where}: {refused.message}; fix plans no edit until this is corrected")

    items: list[int | tuple[int, Fix]] = list(select(report, rules, numbers))
    if fixes:
        if numbering is None:
            raise FixNumberError("--fix needs the scan's fix numbering")
        allowed = set(items) if rules or numbers else None
        items = [t for t in select_fixes(report, fixes, numbering) if allowed is None or t[0] in allowed]
    ids = {r.id for r in every}  # NOTE: the scan ran a rule --select names beyond these too; the choice never did
    everything = [f for f in scanned.everything if f.rule in ids]
    return _choose(report, items, Reanalysis(backend, scanned.ctx, before, every), everything, progress,
                   numbering=numbering)


def _planned(backend: Backend, img: ServerImage, report: Report, chosen: list[Chosen], left: list[Left],
             edits: tuple[Edit, ...], result: Outcome | None, live: bool) -> FixPlan:
    paths: dict[str, Path] = {}

    def read(shown: str) -> bytes:
        paths[shown] = img.host_of(shown)
        try:
            return paths[shown].read_bytes()
        except OSError as e:
            raise FixError(f"{shown}: cannot read: {e.strerror or e}") from e

    changes = tuple(backend.changes(edits, read)) if edits else ()
    after = {a.key for a in result.after} if result else None
    cleared = tuple(i for i, f in enumerate(report.findings, 1) if after is not None and f.key not in after)
    return FixPlan(report, tuple(chosen), cleared, tuple(left), edits, changes,
                   tuple(Target(paths[c.shown], c) for c in changes), result, live)


def apply_fix(plan: FixPlan, stamp: str | None = None, step: Step | None = None) -> list[Written]:
    """Write the plan's file changes safely, all files or none (:func:`iisbitness.fixes.write.write_changes`).

    Raises:
        FixError: a file changed since the plan read it, or is a symbolic link; nothing written.
        WriteRefused: a file cannot be written; the files already replaced were put back (the error says
            which, if any, could not be).
    """
    stamp = stamp or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return write_changes(plan.targets, stamp, step)


def touched_pools(plan: FixPlan) -> tuple[str, ...]:
    """The pools whose worker the plan changes: flipped pools, new pools, and the pools apps leave."""
    out: list[str] = []
    for e in plan.edits:
        if isinstance(e, SetPoolArch):
            out.append(e.pool)
        elif isinstance(e, MoveToNewPool):
            out += [e.new_pool, e.like_pool]
    return tuple(dict.fromkeys(out))


Run = Callable[[list[str]], str]
"""Runs a command and returns its standard output (``subprocess`` on the live server)."""


def _run(args: list[str]) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def pool_actions(plan: FixPlan, run: Run = _run) -> list[list[str]]:
    """Recycle each touched pool that is running, or start it when stopped (a pool rapid-fail
    protection stopped needs ``appcmd start apppool``; a recycle does nothing to it).
    Live server only; returns the commands run. UNTESTED on Windows here: ``run`` is injected by tests."""
    appcmd = APPCMD.replace("%windir%", "C:\\Windows")
    done: list[list[str]] = []
    for pool in touched_pools(plan):
        state = run([appcmd, "list", "apppool", pool, "/text:state"]).strip().lower()
        verb = "recycle" if state == "started" else "start"
        cmd = [appcmd, verb, "apppool", pool]
        run(cmd)
        done.append(cmd)
    return done
