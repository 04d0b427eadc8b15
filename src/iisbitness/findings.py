"""Findings, fixes and the rule type.

A :class:`Finding` says what the user will see, why, where in the configuration, and how to fix
it. Fixes carry model edits (:mod:`iisbitness.model.edits`) so that they can be verified on a
copy of the model before they are offered (:mod:`iisbitness.fixes.verify`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import NewType

from iisbitness.arch import Arch, sort_arches
from iisbitness.loadplan.plan import Evidence, Load, LoadPlan
from iisbitness.model.edits import Edit
from iisbitness.model.source import ConfigSource

RuleId = NewType("RuleId", str)
"""A permanent kebab-case rule id, e.g. ``global-module-arch``."""


class Severity(IntEnum):
    """How bad a finding is. ``--fail-on`` compares against these."""

    NOTE = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        """Lower-case name: ``note``, ``warning``, ``error``."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class LineReplacement:
    """Lines ``start`` to ``end - 1`` of a file (1-based) replaced by ``text`` (whole lines, with
    their line endings); ``start == end`` inserts ``text`` before line ``start``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class FileEdit:
    """A fix's change to one configuration file, as text (``scan --format sarif`` ``fixes``).

    Attributes:
        file: the file as :class:`iisbitness.model.source.ConfigSource` names it.
        replacements: non-overlapping, in file order.
    """

    file: str
    replacements: tuple[LineReplacement, ...]


class EffectKind(str, Enum):
    """What else a fix changes, read from the load plan before and after it (:mod:`iisbitness.fixes.effects`)."""

    UNLOADED = "unloaded"
    """A process no longer loads a module or filter (a preCondition now false, an application moved away)."""
    LOADED = "loaded"
    """A process now loads a module or filter it did not (a preCondition now true)."""
    ARCH = "arch"
    """A worker runs at another architecture: every application and binary in it with it."""
    NEW_POOL = "new-pool"
    """A new worker process: a pool the fix creates, with the settings it gets."""


@dataclass(frozen=True, slots=True)
class SideEffect:
    """One change a fix makes besides clearing its finding: a difference between the load plan before
    and after it, for one process.

    Attributes:
        kind: see :class:`EffectKind`.
        pool: the worker's pool (None for another process). process: ``w3wp.exe``, ``inetinfo.exe``, ...
        name: UNLOADED/LOADED: the configuration entry (module or filter name); ARCH and NEW_POOL: the pool.
        load_kind: UNLOADED/LOADED: ``global-module``, ``isapi-filter``, ...; else None.
        ran: UNLOADED: True when the process loaded it before (it ran there), False when it failed to load
            (the pool stopped), None when not known.
        security: UNLOADED: the entry is an authentication, authorization or request-filtering module or
            filter (:func:`iisbitness.fixes.effects.is_security`): the sites it protected are served without it.
        before, after: the process's architecture before and after (None where it did not exist / is gone).
        moved_from: NEW_POOL: the architecture its applications ran at before, where they all ran at one (a split
            takes them from a 64-bit worker; aspnetcore-multiple-inprocess's new pool copies its pool's); else None.
            Not in the JSON (``before`` stays None there: the pool did not exist).
        applications: the ``Site/app`` labels the process serves after the fix (ARCH, NEW_POOL), or whose
            process no longer loads the entry (UNLOADED for an application moved to another pool).
        binaries: ARCH: how many binaries of the process run at the new architecture.
        settings: NEW_POOL: the pool's settings as the fix writes them, ``(attribute path, value)``, e.g.
            ``("processModel.identityType", "SpecificUser")``; an encrypted password shows as ``(encrypted)``.
        like: NEW_POOL: the pool whose settings were copied.
        isapi: ARCH of an IIS 6 worker (the server-wide switch): the ISAPI filter and extension DLLs (file names) it
            loads before and after the fix, the same file or its build for the other architecture, which run at the
            new bitness with it (the extensions of every application of the pool, named); NEW_POOL of an IIS 6 worker
            (IIS 5 isolation mode left): those it loads that another process (inetinfo.exe, dllhost.exe) loaded at
            another bitness before. IIS 7+: empty (a flip or split changes its own pools only).
        handlers: UNLOADED of a module: the handler mappings of the applications the worker serves (those moved,
            for a moved application) whose ``modules`` name it, ``(name, path, verb, applications)`` each: their
            requests then fail with HTTP 500.21 "Handler ... has a bad module ... in its module list" (KB 943891:
            500.21 module not recognized). Empty when none does.
        bypassed: UNLOADED of a module: the handler mappings of those applications that name it and applied in the
            worker before the fix, but whose own preCondition is false in it after (``bitness64`` in a worker now
            32-bit): IIS skips them and their requests go to the next mapping that matches (often ``StaticFile``), so
            the application's code silently stops serving them; the same ``(name, path, verb, applications)``.
    """

    kind: EffectKind
    pool: str | None
    process: str
    name: str
    load_kind: str | None = None
    ran: bool | None = None
    security: bool = False
    before: Arch | None = None
    after: Arch | None = None
    applications: tuple[str, ...] = ()
    binaries: int = 0
    settings: tuple[tuple[str, str], ...] = ()
    like: str | None = None
    isapi: tuple[str, ...] = ()
    handlers: tuple[tuple[str, str, str, tuple[str, ...]], ...] = ()
    bypassed: tuple[tuple[str, str, str, tuple[str, ...]], ...] = ()
    moved_from: Arch | None = None
    site: str | None = None
    """IIS Express: the site of the project whose ``iisexpress.exe`` this is (:attr:`Process.site`,
    ``process_site`` in JSON): two projects of one pool are two processes, and a side effect names its own. None
    elsewhere."""

    @property
    def breaks_requests(self) -> bool:
        """True when requests of handler mappings fail (:attr:`handlers`) or silently go to another mapping
        (:attr:`bypassed`) after it."""
        return bool(self.handlers or self.bypassed)

    @property
    def where(self) -> str:
        """The process, as a side effect's line names it: the pool (``w3wp.exe`` of a pool), ``iisexpress.exe of site
        'S'`` under IIS Express (:attr:`site`), or the process (``aspnet_wp.exe``)."""
        return f"{self.process} of site '{self.site}'" if self.site is not None else self.pool or self.process

    @property
    def removes_security(self) -> bool:
        """True when it takes a security module or filter (:attr:`security`) out of a process: the sites it protected
        are then served without it."""
        return self.kind is EffectKind.UNLOADED and self.security


@dataclass(frozen=True, slots=True)
class Fix:
    """One way to fix a finding.

    Attributes:
        summary: one sentence.
        label: a few words (at most about 40 characters) naming the change for a finding's ``fix`` line in
            text output, where the finding already names the binary, the pool and the process, e.g.
            ``preCondition="bitness32"`` or ``run the pool as 32-bit (x86)``; equal labels of one cause are
            listed once with their numbers.
        commands: copy-pasteable commands for cmd.exe (appcmd, adsutil.vbs, regsvr32, ...), in order.
        powershell: the same change as PowerShell (WebAdministration) lines, in order; may be empty.
        edits: the configuration edits the commands make, checked against the model.
        verified: True when re-analysis with the edits clears the finding and breaks nothing
            else; None when the fix changes nothing the model holds (a rebuild, a workaround).
        note: what to know before running it.
        file_edits: the same change as text edits of the configuration files (computed only when
            asked, ``ScanOptions.text_fixes``; what ``iisbitness fix`` would write for this fix alone).
        side_effects: what else the fix changes, this fix alone against the server as it is (verification
            fills it: the load plans before and after compared per process).
        breaks: the binaries (file names; a rule id when none) a fix offered although re-analysis shows it breaks
            them would stop loading (IIS 6's server-wide switch, ``verified=False``: its note says each in full);
            empty otherwise. Not in the JSON (the note says it).
        unverified_because: why the fix is not verified (``verified=False``), in verification's words as its note
            says them, without their opening "Not verified: " and final period (``fix`` names the fixes it does not
            take with it): the sentences from its first reason on, e.g. an application not checked at the new
            architecture, a configuration IIS refuses, "Re-analysis: this would also break: ...", native ARM64
            workers; None for a fix verified or advice. Set wherever ``verified=False`` is set. Not in the JSON
            (the note says it).
    """

    summary: str
    label: str
    commands: tuple[str, ...] = ()
    powershell: tuple[str, ...] = ()
    edits: tuple[Edit, ...] = ()
    verified: bool | None = None
    note: str | None = None
    file_edits: tuple[FileEdit, ...] = ()
    side_effects: tuple[SideEffect, ...] = ()
    breaks: tuple[str, ...] = ()
    unverified_because: str | None = None

    @property
    def removes(self) -> tuple[SideEffect, ...]:
        """The side effects that take a module or filter out of a process (:attr:`EffectKind.UNLOADED`)."""
        return tuple(e for e in self.side_effects if e.kind is EffectKind.UNLOADED)

    @property
    def breaks_requests(self) -> bool:
        """True when requests fail after this fix: it takes out of a worker a module that handler mappings name
        (:attr:`SideEffect.breaks_requests`: HTTP 500.21, KB 943891; or those mappings are skipped and their requests go
        to another mapping). Every reader asks this: the fix ranking, "What
        to do first" and ``fix`` (which takes such a fix only when asked for by number)."""
        return any(e.breaks_requests for e in self.side_effects)

    @property
    def removes_security(self) -> tuple[str, ...]:
        """The security modules and filters this fix takes out of a worker (:attr:`SideEffect.removes_security`), each
        once: the sites they protected are then served without them, open where they were closed (a pool that failed to
        start serves again, unauthenticated). ``fix`` takes such a fix only when asked for by number."""
        return tuple(dict.fromkeys(e.name for e in self.side_effects if e.removes_security))


@dataclass(frozen=True, slots=True)
class RejectedFix:
    """A fix that re-analysis showed would not work as is, and why."""

    summary: str
    reason: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A bitness problem, located and explained.

    Attributes:
        rule: rule id. severity: how bad. evidence: how the mismatch is known: ``read`` from the binary's
            headers against a process architecture that is configured; ``inferred`` when the binary's
            architecture comes from its folder or the process's is a default assumption (IIS Express,
            :attr:`iisbitness.loadplan.plan.Process.arch_assumption`; the cause then says which).
        pool, site, application: where (None when server-wide).
        process, process_arch: the loading process (``w3wp.exe``, ``inetmgr.exe``) and its arch.
        binary: the path as configured; resolved: the file in the image, or None.
        binary_arch: the architectures whose processes can load the binary.
        config: the configuration entry to edit (file, 1-based line).
        symptom: what the user sees. cause: why.
        fixes: verified or advisory fixes; rejected_fixes: fixes re-analysis ruled out.
        chain: dependency chain when a dependency is what does not fit.
        process_arch_assumed: the process's architecture is a default assumption, not a setting that was read (IIS
            Express under Visual Studio's unrecorded "64 bit IIS Express" option,
            :attr:`iisbitness.loadplan.plan.Process.arch_assumption`, iis-express-facts.md F2.1).
        binary_not_checked: the scan could not check the binary: it could not be read at all
            (:attr:`iisbitness.loadplan.plan.BinaryRef.unreadable`, of the load the finding is about), it is absent
            from the image where nothing says whether the server has it (:attr:`iisbitness.loadplan.plan.Load.
            not_checked`: binary-missing's warnings: the other build only, a copy that may be partial, a file reached
            through System32 -> SysWOW64 redirection, a folder that does not decide its architecture), or whether
            any process loads it depends on an OS architecture the scan only assumed (an ARM64X/ARM64EC image,
            binary-invalid). Such a binary also leaves the applications of its worker partly checked, and
            :attr:`cause` says what to give the scan; its fixes, if any, act on what the image shows, and the fix
            of another finding whose worker still loads it is not verified. Not coverage's "not checked"
            (:meth:`iisbitness.report.Report.unchecked`: applications).
        binary_target: for a binary read whose headers name no process of this server that loads it (``binary_arch``
            empty: IA64, ARM32, an ARM64X/ARM64EC image off Windows on Arm), its platform target (``"ARM64X"``), so
            that a format says what it is instead of "unknown"; None otherwise.
    """

    rule: RuleId
    severity: Severity
    evidence: Evidence
    pool: str | None
    site: str | None
    application: str | None
    process: str | None
    process_arch: Arch | None
    binary: str | None
    resolved: str | None
    binary_arch: tuple[Arch, ...]
    config: ConfigSource | None
    symptom: str
    cause: str
    fixes: tuple[Fix, ...] = ()
    rejected_fixes: tuple[RejectedFix, ...] = ()
    chain: tuple[str, ...] = ()
    process_arch_assumed: bool = False
    process_site: str | None = None
    """IIS Express: the site of the project whose ``iisexpress.exe`` the finding is about
    (:attr:`iisbitness.loadplan.plan.Process.site`), part of :attr:`key`: two projects of one pool are two processes,
    and a fix of one project's leaves the other's finding standing. None elsewhere."""
    binary_not_checked: bool = False
    binary_target: str | None = None
    partial_copy: tuple[str, ...] = ()
    """binary-missing's one warning for Windows' own IIS modules absent from a populated folder (the copy may be
    partial: :attr:`iisbitness.loadplan.plan.Absence.partial_copy`): that folder as the user names it, then the file
    names it lacks, sorted; empty for every other finding. What a fix's note says of it, not parsed from
    :attr:`binary` (``fixes.verify``)."""

    @property
    def arch_inferred(self) -> bool:
        """True when the binary's own architecture was inferred from its folder (the file is not in the image), not
        read from its headers: :attr:`evidence` is ``inferred`` for that, and also for a file that was read in a
        process whose architecture is assumed (:attr:`read_worker_assumed`). Every format says one or the other."""
        return self.evidence is Evidence.INFERRED and not (self.process_arch_assumed and self.resolved)

    @property
    def read_worker_assumed(self) -> bool:
        """True when the binary was read (it is in the image, its architecture known) and the process's architecture
        is the assumption (:attr:`process_arch_assumed`): "read from its headers; iisexpress.exe x86 assumed"."""
        return self.process_arch_assumed and self.resolved is not None and self.evidence is not Evidence.UNKNOWN

    @property
    def key(self) -> tuple[str, ...]:
        """Identity across re-analyses: rule, pool, site, application, binary, process, and under IIS Express the
        process's site (:attr:`process_site`), only there: SARIF's fingerprints (``"|".join(key)``) of every other
        finding stay what they were."""
        key = (self.rule, (self.pool or "").lower(), (self.site or "").lower(), (self.application or "").lower(),
               (self.binary or "").lower(), self.process or "")
        return key if self.process_site is None else (*key, self.process_site.lower())

    @property
    def sort_key(self) -> tuple[object, ...]:
        """Stable report order: pool, site, application, severity (worst first), rule, binary."""
        return ((self.pool or "~").lower(), (self.site or "").lower(), self.application or "", -self.severity,
                self.rule, (self.binary or "").lower())

    @classmethod
    def for_load(cls, load: Load, rule: RuleId, severity: Severity, symptom: str, cause: str,
                 fixes: tuple[Fix, ...] = ()) -> Finding:
        """A finding about one load, copying process, pool, binary and config location from it."""
        arches = load.binary.arches
        evidence = load.binary.evidence
        if load.process.arch_assumption is not None:
            # NOTE: the process's own architecture is a default assumption (IIS Express, facts F2.1)
            cause += f" {load.process.name} runs as {load.process.arch.value} by assumption: {load.process.arch_assumption}."
            evidence = Evidence.INFERRED if evidence is Evidence.READ else evidence
        return cls(
            rule=rule, severity=severity, evidence=evidence,
            pool=load.process.pool.name if load.process.pool else None,
            site=load.site, application=load.application,
            process=load.process.name, process_arch=load.process.arch,
            binary=load.binary.configured, resolved=load.binary.resolved,
            binary_arch=tuple(sort_arches(arches)) if arches is not None else (),
            config=load.source, symptom=symptom, cause=cause, fixes=fixes, chain=load.binary.chain,
            process_arch_assumed=load.process.arch_assumption is not None, process_site=load.process.site,
            binary_not_checked=load.binary.unreadable or load.not_checked,
            binary_target=_no_process_target(load),
        )


def _no_process_target(load: Load) -> str | None:
    """:attr:`Finding.binary_target`: the platform target of ``load``'s binary when it was read and loads in no
    process of the server; None otherwise."""
    image = load.binary.image
    if image is None or not image.is_pe or image.loadable_by:
        return None
    return image.platform_target.value


Check = Callable[[LoadPlan], Iterator[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule: permanent id, default severity, one-line summary, and its check.

    ``check`` is pure: everything it uses comes from the load plan. ``iisexpress`` / ``iisexpress_detail``: the
    summary and the detail (else the check's docstring) as an IIS Express scan states them, where the server's words
    speak of an application pool's worker: IIS Express has no WAS and no pool processes, one ``iisexpress.exe`` per
    project's site, 32-bit or 64-bit by the project's setting (iis-express-facts.md F4.1, F2.1-F2.3); empty: the
    server's words fit both.
    """

    id: RuleId
    severity: Severity
    summary: str
    check: Check
    aliases: tuple[str, ...] = ()
    iisexpress: str = ""
    iisexpress_detail: str = ""

    def title(self, iisexpress: bool = False) -> str:
        """The one-line summary, in IIS Express's terms when ``iisexpress``."""
        return (self.iisexpress or self.summary) if iisexpress else self.summary

    def detail(self, iisexpress: bool = False) -> str:
        """What the rule finds, one paragraph (the check's docstring, or :attr:`iisexpress_detail` under IIS
        Express), whitespace collapsed."""
        text = self.iisexpress_detail if iisexpress and self.iisexpress_detail else (self.check.__doc__ or "")
        return " ".join(text.split())


def rule(rule_id: str, severity: Severity, summary: str, *, iisexpress: str = "",
         iisexpress_detail: str = "") -> Callable[[Check], Rule]:
    """Decorator: wrap a check function as a :class:`Rule` (no registration side effect); ``iisexpress`` and
    ``iisexpress_detail``: its words under IIS Express where the server's speak of a pool (:class:`Rule`)."""

    def wrap(fn: Check) -> Rule:
        return Rule(RuleId(rule_id), severity, summary, fn, iisexpress=iisexpress, iisexpress_detail=iisexpress_detail)

    return wrap
