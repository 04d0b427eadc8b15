"""The report: the one document every output format reads (capa's ResultDocument idea).

Formats never see the model or the load plan; they read a :class:`Report`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import Enum

from iisbitness.arch import Arch
from iisbitness.findings import Finding, Severity
from iisbitness.loadplan.plan import Coverage, CoverageStatus
from iisbitness.model.source import ConfigSource, Problem
from iisbitness.slots import direct_init

SCAN_SCHEMA = "iisbitness/scan/2"

__all__ = ["Coverage", "CoverageStatus", "LoadEntry", "Observation", "PoolSummary", "ProjectSummary", "Report",
           "ServerSummary", "Verdict"]


@dataclass(frozen=True, slots=True)
class ServerSummary:
    """What was scanned.

    Attributes:
        kind: ``iis7+``, ``iis6`` or ``iisexpress``. image: the image folder (or ``live``). config_file: the
        main configuration file read. os_arch / os_arch_from: the OS architecture and how it was
        decided. config_only: the image holds none of the configured binaries. absent_from: what a file not found is
        absent from, as the text and HTML say it ("the image"; ``check-app`` without ``--server``: "the build
        folder", which holds nothing of the server). iisexpress_config: the configuration read as a server's is IIS
        Express's (its global modules under ``%IIS_BIN%``): its pools are not the processes that run its sites.
        inferred: where the image holds some of the configured binaries (not :attr:`config_only`), the Windows paths of
        those a process loads that it lacks and whose architecture was inferred from their folder, not read
        (``Windows\\System32`` holds the OS's own build, say); empty otherwise. shared_config: the folder
        redirection.config names when :attr:`config_file` is the web farm's shared configuration, which every server
        using it runs (:attr:`iisbitness.model.iis7.Server.shared_config`); "" otherwise.
    """

    kind: str
    image: str
    config_file: str
    os_arch: Arch
    os_arch_from: str
    config_only: bool
    absent_from: str = "the image"
    iisexpress_config: bool = False
    inferred: tuple[str, ...] = ()
    shared_config: str = ""


@dataclass(frozen=True, slots=True)
class PoolSummary:
    """An application pool's worker as analysed.

    Attributes:
        name, worker_arch, enable_32bit_app_on_win64, enable_32bit_from, managed_runtime_version,
        pipeline_mode, applications (``Site/app`` labels), process (the w3wp.exe path), idle
        (hosts no application: its worker never starts), defined (False: applications name the pool but the
        configuration does not define it, so no worker ever starts; rule ``pool-undefined``), manual_start (why
        it does not start by itself: ``pool 'X' has autoStart="false"`` or its sites' ``serverAutoStart="false"``;
        None when it does), site (IIS Express: the site of the project whose ``iisexpress.exe`` the row is, one row
        per project even where two projects' sites share the pool; None elsewhere).
    """

    name: str
    worker_arch: Arch
    enable_32bit_app_on_win64: bool
    enable_32bit_from: str
    managed_runtime_version: str
    pipeline_mode: str
    applications: tuple[str, ...]
    process: str
    idle: bool
    defined: bool = True
    manual_start: str | None = None
    site: str | None = None


@dataclass(frozen=True, slots=True)
class ProjectSummary:
    """IIS Express: a Visual Studio project and the ``iisexpress.exe`` that runs it (iis-express-facts.md F2).

    Attributes:
        name, project_file, kind (``aspnet`` / ``aspnetcore``), site, pool: the project and its site.
        arch, process: the ``iisexpress.exe`` architecture and path. decided_by: ``project``,
        ``project-user``, ``launch-profile``, ``launch-profile-default``, ``option``, ``os`` or ``vs-default``;
        assumed: True when that is a default assumption; reason: the sentence that says which and why.
        switch, switch_at: where a developer flips it (``project-property`` / ``launch-profile``, file:line).
        output: ASP.NET Core: which build or publish folder was analysed ("" otherwise).
    """

    name: str
    project_file: str
    kind: str
    site: str
    pool: str
    arch: Arch
    process: str
    decided_by: str
    assumed: bool
    reason: str
    switch: str
    switch_at: str
    output: str


@dataclass(frozen=True, slots=True)
class Observation:
    """An event-log entry joined to the report (``scan --event-log``).

    Attributes:
        time, provider, event_id, message: from the event. finding_index: index into
        ``Report.findings`` of the finding it confirms, or None when no finding explains it.
        scope: ``finding`` (the event names the finding's pool, or only that finding loads the binary it
        names) or ``binary`` (it names a binary that workers of several pools load, and no pool: it shows the
        binary failing in one of them, not in this finding's pool in particular).
        reading, confidence, lead, usual: how the event reads on its own, as ``explain`` shows it (``bitness``
        or ``not-bitness``; ``high``/``medium``/``low``; the leading scan rule or not-bitness entry id; whether
        the not-bitness reading is only the evidence's usual one).
    """

    time: str
    provider: str
    event_id: int
    message: str
    finding_index: int | None
    scope: str = "finding"
    reading: str = "bitness"
    confidence: str = "medium"
    lead: str = ""
    usual: bool = False
    """With ``reading`` ``not-bitness``: only the evidence's usual reading (bitness stays possible)."""
    possible: tuple[int, ...] = ()
    """With ``finding_index`` None: indexes into ``Report.findings`` of the findings the event names (pool or
    binary) but does not confirm (its evidence is generic: WAS 5002 says the pool was disabled, not why)."""
    unreported_rule: str = ""
    """With ``finding_index`` None: the rule of a finding ``--select``/``--ignore`` left out of the report that the
    event confirms (:attr:`Report.unreported_findings`), so that the event never reads as one no finding explains;
    "" otherwise."""


LOADS_SCHEMA = "iisbitness/loads/1"


class Verdict(str, Enum):
    """What happens when a process comes to load a binary (the load map, ``scan --loads``)."""

    LOADS = "loads"
    CANNOT_LOAD = "cannot-load"
    MISSING = "missing"
    INVALID = "invalid"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"


@direct_init  # NOTE: one per load of the load map (issue 25)
@dataclass(frozen=True, slots=True)
class LoadEntry:
    """One binary one process would load (or skips), as the load map shows it.

    Attributes:
        process, process_arch, pool: the loading process (``w3wp.exe`` of a pool, ``inetmgr.exe``,
            ``inetinfo.exe``, ``dllhost.exe``, IIS 6's ``aspnet_wp.exe``) and its architecture.
        kind: why it loads (``global-module``, ``bin-assembly``, ...). name: the configuration entry.
        site, application: where, for per-application loads.
        configured: the path as configured; windows_path: as the process resolves it; resolved: the
            file in the image, or None.
        binary_arch: the architectures that can load the binary (read or inferred); empty when unknown.
        evidence: ``read``, ``inferred`` or ``unknown``.
        verdict: see :class:`Verdict`. reason: why, in a sentence.
        config: the configuration entry (file, line).
        skip_reason: for a ``skipped`` entry, the kind of reason
            (:class:`iisbitness.loadplan.plan.SkipReason` value: ``precondition``, ``restricted``, ``no-managed-code``,
            ``no-aspnet-script-map``, ``module-not-enabled``); None for every other verdict.
        process_site: IIS Express: the site of the project whose ``iisexpress.exe`` this is
            (:attr:`iisbitness.loadplan.plan.Process.site`: one process per project, so two projects of one pool are
            two processes); None elsewhere.
    """

    process: str
    process_arch: Arch
    pool: str | None
    kind: str
    name: str
    site: str | None
    application: str | None
    configured: str
    windows_path: str | None
    resolved: str | None
    binary_arch: tuple[Arch, ...]
    evidence: str
    verdict: Verdict
    reason: str
    config: ConfigSource
    skip_reason: str | None = None
    process_site: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a scan found, in a stable order.

    ``suppressed`` holds findings a baseline accepted (``scan --baseline``); they count for
    nothing (exit code, summary) and only SARIF shows them, as suppressed results.
    """

    server: ServerSummary
    pools: tuple[PoolSummary, ...]
    findings: tuple[Finding, ...]
    problems: tuple[Problem, ...]
    rules: tuple[str, ...]
    observations: tuple[Observation, ...] = ()
    schema: str = SCAN_SCHEMA
    loads: tuple[LoadEntry, ...] | None = None
    """The load map, when the scan was asked for it (``ScanOptions.load_map``); None otherwise."""
    projects: tuple[ProjectSummary, ...] = ()
    """IIS Express scans only: each Visual Studio project and its ``iisexpress.exe``."""
    suppressed: tuple[Finding, ...] = ()
    events_read: int | None = None
    """With ``scan --event-log``: how many events the logs held (bitness-related or not); None without it."""
    other_events: tuple[Observation, ...] = ()
    """With ``scan --event-log``: the recognised events that read as another problem (``reading`` ``not-bitness``:
    an ANCM 1007 whose exception is the app's own), as ``explain`` reads them; never in :attr:`observations`."""
    coverage: tuple[Coverage, ...] = ()
    """What was read of each application (:mod:`iisbitness.loadplan.coverage`): every format says what was not."""
    unreported: tuple[str, ...] = ()
    """The rule of each finding that ``--select`` / ``--ignore`` left out of :attr:`findings`, in report order (every
    rule runs, for verification; the selection only chooses what is reported): the text and HTML say how many were
    not shown (:meth:`hidden_words`), so that a selection never reads as a clean server."""
    server_findings: tuple[Finding, ...] = ()
    """``check-app --server`` only: the server's own findings about the whole worker of the pool the application runs
    in (no site: a global module it cannot load, say), which the server has with or without the build; not in
    :attr:`findings` (the build's). IIS answers HTTP 503 for every request to a pool whose worker cannot start, so
    they count in the pool table, the closing lines and the exit code (:meth:`worst`) unless
    :attr:`server_findings_accepted`."""
    server_findings_accepted: bool = False
    """``check-app --ignore-server-findings``: :attr:`server_findings` are said but leave the exit code alone."""
    application_pools: tuple[str, ...] = ()
    """``check-app --server`` only: the pool (or pools, an application named in two sites' configurations aside: one)
    the checked application runs in, as :attr:`pools` names them; empty elsewhere. The text's pool table shows only
    their rows (a pipeline's log, not the server's 500 pools; ``--verbose`` shows every pool). Not in the JSON, whose
    ``pools`` and findings' ``pool`` say it."""
    unreported_findings: tuple[Finding, ...] = ()
    """The findings :attr:`unreported` counts, unverified (no fix of theirs is checked): ``scan --event-log`` matches
    events against them too (:attr:`Observation.unreported_rule`); no format lists them."""

    def hidden_words(self) -> str:
        """The findings this report does not show, as a sentence for a summary line: ``16 more findings accepted by
        the baseline, not shown.``, ``3 more findings of rules not selected (global-module-arch,
        managed-assembly-arch: --select/--ignore), not shown.``, both as ``N more findings not shown: ...``; "" when
        every finding is shown. Up to four rules are named, then how many more."""
        k, n = len(self.suppressed), len(self.unreported)
        if not k and not n:
            return ""
        rules = list(dict.fromkeys(self.unreported))
        named = ", ".join(rules[:4]) + (f" and {len(rules) - 4} more" if len(rules) > 4 else "")
        selected = f"of rules not selected ({named}: --select/--ignore)"
        baseline = "accepted by the baseline"
        if not n:
            return f"{k} more finding{'s' if k != 1 else ''} {baseline}, not shown."
        if not k:
            return f"{n} more finding{'s' if n != 1 else ''} {selected}, not shown."
        return f"{k + n} more findings not shown: {n} {selected}, {k} {baseline}."

    def refusals(self) -> tuple[Problem, ...]:
        """The problems about configuration IIS itself refuses (:attr:`Problem.refused`: a web.config answered with
        HTTP 500.19, a section of applicationHost.config IIS fails to read), in report order. Like :meth:`unchecked`,
        they keep a report from reading clean: the text's closing line and the HTML say so, and
        ``--fail-on-incomplete`` fails on them."""
        return tuple(p for p in self.problems if p.refused)

    def refusal_words(self) -> str:
        """``IIS refuses 2 parts of this configuration`` for a summary line; "" when :meth:`refusals` is empty."""
        n = len(self.refusals())
        return f"IIS refuses {n} part{'s' if n != 1 else ''} of this configuration" if n else ""

    def unchecked(self) -> tuple[Coverage, ...]:
        """The applications not (fully) checked: not checked first, then partly checked, each in site order."""
        return (tuple(c for c in self.coverage if c.status is CoverageStatus.NOT_CHECKED)
                + tuple(c for c in self.coverage if c.status is CoverageStatus.PARTLY))

    def coverage_counts(self) -> dict[CoverageStatus, int]:
        """Applications per coverage status, every status present (0 when none): what every format counts."""
        c = Counter(x.status for x in self.coverage)
        return {s: c.get(s, 0) for s in CoverageStatus}

    def checked_nothing(self) -> bool:
        """True when the scan could not list a single application: every coverage entry stands for an input that
        was not read (named by its file, not an application: ``<sites>`` kept in a ``configSource`` file the scan
        does not read, an IIS Express folder with no web project, a project no site leads to), so no pool had an
        application to check and the report is empty because nothing was read (``scan`` exits 2 on it).

        False when the server has no site at all (nothing to check), and when applications were listed, even with
        none of their folders read (a configuration-only image): the server's configuration (global modules,
        filters, handler mappings, pools) was still checked, a partial scan ``--fail-on-incomplete`` gates on."""
        return bool(self.coverage) and not any(c.site or c.pool for c in self.coverage)

    def unread_inputs(self) -> tuple[str, ...]:
        """When :meth:`checked_nothing`: why, as ``file:line: message`` (``file: message`` without a line): the
        coverage's own reasons first (from the problems of the files it names, as the readers put them), then the
        report's other problems (an IIS Express project file left out, which is why no project was found); empty
        otherwise."""
        if not self.checked_nothing():
            return ()
        files = {c.application for c in self.coverage}
        said = [f"{p.where}: {p.message}"
                for p in sorted(self.problems, key=lambda p: p.file not in files)]
        return tuple(dict.fromkeys(said or (r if r.startswith(f"{c.application}: ") else f"{c.application}: {r}"
                                            for c in self.coverage for r in c.reasons)))

    def coverage_words(self) -> str:
        """Coverage in a few words for a summary line: ``all 12 applications checked``, ``3 of 12 applications
        not checked, 1 partly checked``; ``nothing checked: no application could be listed (1 input not read)``
        when :meth:`checked_nothing`; "" when the server has no application."""
        n = len(self.coverage)
        if not n:
            return ""
        if self.checked_nothing():
            return f"nothing checked: no application could be listed ({n} input{'s' if n != 1 else ''} not read)"
        apps = f"application{'s' if n != 1 else ''}"
        counts = self.coverage_counts()
        none, part = counts[CoverageStatus.NOT_CHECKED], counts[CoverageStatus.PARTLY]
        if not none and not part:
            return f"all {n} {apps} checked" if n > 1 else "1 of 1 application checked"
        words = [f"{none} of {n} {apps} not checked"] if none else []
        if part:
            words.append(f"{part} partly checked" if none else f"{part} of {n} {apps} partly checked")
        return ", ".join(words)

    def counts(self) -> dict[str, int]:
        """Findings per severity label (``error``, ``warning``, ``note``), all three present."""
        c = Counter(f.severity.label for f in self.findings)
        return {s.label: c.get(s.label, 0) for s in sorted(Severity, reverse=True)}

    def worst(self) -> Severity | None:
        """The highest severity among findings (and :attr:`server_findings` unless accepted), or None."""
        counted = self.findings if self.server_findings_accepted else self.findings + self.server_findings
        return max((f.severity for f in counted), default=None)

    def server_failing(self) -> tuple[Finding, ...]:
        """The :attr:`server_findings` that stop the pool (or every application of it): its errors the scan checked.
        Not a could-not-check warning (``binary_not_checked``: not in the image, architecture unknown), which
        coverage says (the application partly checked), nor another warning."""
        return tuple(f for f in self.server_findings if f.severity is Severity.ERROR and not f.binary_not_checked)

    def server_findings_groups(self) -> tuple[tuple[str, tuple[Finding, ...]], ...]:
        """check-app --server: :attr:`server_findings` in up to two groups, each with the words that open it: those
        that stop the pool (:meth:`server_failing`: ``The pool this application runs in (Pool) already fails: 1
        error of the server not caused by the build ...``), then the others (``... has 3 could-not-check warnings of the
        server not caused by the build: binaries its worker loads that are not in the image ...; they fail the gate at
        --fail-on warning only ...``).
        Empty when there are none. Each group says how it counts in the exit code (:meth:`worst`: at its severity,
        as the build's own findings, unless :attr:`server_findings_accepted`)."""
        if not self.server_findings:
            return ()
        failing = self.server_failing()
        rest = tuple(f for f in self.server_findings if not (f.severity is Severity.ERROR and not f.binary_not_checked))
        accepted = "accepted by --ignore-server-findings: the exit code leaves them out"
        groups: list[tuple[str, tuple[Finding, ...]]] = []
        if failing:
            pools = ", ".join(dict.fromkeys(f.pool or f.process or "?" for f in failing))
            n = len(failing)
            gate = accepted if self.server_findings_accepted else (
                "they fail the gate at --fail-on error (the default), unless --ignore-server-findings")
            words = (f"The pool this application runs in ({pools}) already fails: {n} error{'s' if n != 1 else ''} of "
                     f"the server not caused by the build (see iisbitness scan of the server); {gate}:")
            groups.append((words, failing))
        if rest:
            pools = ", ".join(dict.fromkeys(f.pool or f.process or "?" for f in rest))
            n = len(rest)
            unchecked = sum(f.binary_not_checked for f in rest)
            if unchecked == n:
                what = f"{n} could-not-check {max(f.severity for f in rest).label}{'s' if n != 1 else ''}"
            else:
                what = f"{n} finding{'s' if n != 1 else ''}" + (f" ({unchecked} could-not-check)" if unchecked else "")
            why = (": binaries its worker loads that are not in the image (architecture unknown), so whether they stop "
                   "it is not known (see Coverage: partly checked)" if unchecked else "")
            worst = max(f.severity for f in rest)
            gate = accepted if self.server_findings_accepted else (
                f"they fail the gate at --fail-on {worst.label}"
                + (" (the default)" if worst is Severity.ERROR else " only") + ", unless --ignore-server-findings")
            words = (f"The pool this application runs in ({pools}) {'also has' if failing else 'has'} {what} of the "
                     f"server not caused by the build{why}; {gate}:")
            groups.append((words, rest))
        return tuple(groups)

    def server_findings_words(self) -> str:
        """The words that open the first of :meth:`server_findings_groups` ("" when there are none): whether the
        pool already fails, or only has findings of the server the scan could not check."""
        groups = self.server_findings_groups()
        return groups[0][0] if groups else ""
