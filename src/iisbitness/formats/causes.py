"""A presentation view of a :class:`Report` shared by the text and HTML formats (issue 14).

Findings are grouped by *cause* — the same rule, binary and configuration line — so that one wrong
global module hit by seven pools is shown once with the pools it hits (capa collapses repeats the
same way). Fixes are numbered once per report: equal fixes offered by several findings get one
number, and fixes of one cause with the same label (a pool flip for each of its pools) get consecutive
numbers. Past :data:`MANY`, causes alike (:func:`alike`: each site's own copy of one x86 DLL) are one
:class:`CauseGroup` (:func:`cause_entries`), in the page and the text. Nothing is analysed here: every value comes
from the report's findings, only grouped.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from iisbitness.arch import Arch
from iisbitness.findings import EffectKind, Finding, Fix, RejectedFix, Severity, SideEffect
from iisbitness.image.stock import is_iis_express_ancm, is_windows_own
from iisbitness.model.edits import BITNESS_ATTRIBUTES
from iisbitness.model.source import ConfigSource
from iisbitness.report import Report, ServerSummary

T = TypeVar("T")

def _each_pool(text: str, pool: str) -> str:
    """``text`` about one pool said of each pool of its cause (the cause's ``in`` line names them): ``in pool 'P'``
    and ``of pool 'P'`` become ``in each pool``, ``of each pool``."""
    return text.replace(f"pool '{pool}'", "each pool").replace(f"'{pool}'", "each pool")


def fix_key(fix: Fix) -> tuple[object, ...]:
    """What makes two fixes (of different findings) the same fix, as the report numbers them: summary, commands,
    note and verification; not the side effects (as many as the pools: hashing them per finding is quadratic)."""
    return (fix.summary, fix.commands, fix.powershell, fix.note, fix.verified)


def cause_key(f: Finding) -> tuple[object, ...]:
    """What makes two findings the same cause: rule, binary (case-insensitive) and configuration entry."""
    return (f.rule, (f.binary or "").lower(), f.config.file if f.config else None, f.config.line if f.config else None)


@dataclass(frozen=True, slots=True)
class NumberedFix:
    """A distinct fix of a report with its 1-based number."""

    number: int
    fix: Fix


@dataclass(frozen=True, slots=True)
class Cause:
    """Findings with one cause (rule, binary, configuration entry), in report order.

    Attributes:
        findings: the findings grouped here (at least one). pools: the distinct pools they hit, in
        order. places: the distinct ``Site/app`` labels. processes: distinct ``(process, arch)``.
        symptoms / causes: the distinct texts; when the texts differ only by the pool's name, one
        text that says ``each pool`` where the name was. fixes: numbers into
        :attr:`ReportView.fixes`. rejected: distinct fixes re-analysis ruled out.
    """

    findings: tuple[Finding, ...]
    pools: tuple[str, ...]
    places: tuple[str, ...]
    processes: tuple[tuple[str, Arch | None], ...]
    symptoms: tuple[str, ...]
    causes: tuple[str, ...]
    fixes: tuple[int, ...]
    rejected: tuple[RejectedFix, ...]

    @property
    def first(self) -> Finding:
        """The first finding: rule, binary, architecture and configuration entry are the same for all."""
        return self.findings[0]

    @property
    def severity(self) -> Severity:
        """The worst severity among the findings."""
        return max(f.severity for f in self.findings)

    @property
    def config(self) -> ConfigSource | None:
        """The configuration entry to edit."""
        return self.first.config


@dataclass(frozen=True, slots=True)
class ReportView:
    """A report's causes (worst first, then report order) and its distinct fixes, numbered."""

    report: Report
    causes: tuple[Cause, ...]
    fixes: tuple[NumberedFix, ...]
    numbers: dict[tuple[object, ...], int] = field(default_factory=dict, compare=False, repr=False)
    """Each distinct fix's key to its number (:meth:`number`)."""
    _counts: dict[str, dict[Severity, int]] | None = field(default=None, init=False, repr=False, compare=False)

    def fix(self, number: int) -> Fix:
        """The distinct fix numbered ``number`` (1-based)."""
        return self.fixes[number - 1].fix

    def number(self, fix: Fix) -> int | None:
        """The number of ``fix`` (or of the equal fix another finding offers), or None when not in this view."""
        return self.numbers.get(fix_key(fix))

    def fix_groups(self, cause: Cause) -> tuple[tuple[str, bool | None, tuple[int, ...]], ...]:
        """``cause``'s fixes as ``(label, verified, numbers)``, one entry per distinct label, verification and
        :func:`removal` text, in the order the findings offer them."""
        groups: dict[tuple[str, bool | None, str, tuple[str, ...]], list[int]] = {}
        for n in cause.fixes:
            fix = self.fix(n)
            groups.setdefault((fix.label, fix.verified, removal(fix, cause.pools), fix.breaks), []).append(n)
        return tuple((label, verified, tuple(ns)) for (label, verified, _, _), ns in groups.items())

    @property
    def verified_fixes(self) -> int:
        """How many distinct fixes re-analysis verified."""
        return sum(1 for n in self.fixes if n.fix.verified)

    def pools_hit(self) -> tuple[str, ...]:
        """Pools with at least one finding, in the report's pool order."""
        hit = {(f.pool or "").lower() for f in self.report.findings if f.pool}
        return tuple(p.name for p in self.report.pools if p.name.lower() in hit)

    def pool_counts(self, pool: str) -> dict[Severity, int]:
        """Findings per severity in ``pool``, the server's own that check-app --server keeps apart too
        (:attr:`Report.server_findings`: a pool whose worker cannot start never shows 0 errors)."""
        counts = self._counts
        if counts is None:  # NOTE: one walk of the findings for every pool's row, not one per pool (issue 25)
            counts = {}
            for f in self.report.findings + self.report.server_findings:
                low = (f.pool or "").lower()
                if low not in counts:
                    counts[low] = {s: 0 for s in Severity}
                counts[low][f.severity] += 1
            object.__setattr__(self, "_counts", counts)
        return dict(counts.get(pool.lower()) or {s: 0 for s in Severity})


def _distinct(items: list[T]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(items))


def _texts(findings: list[Finding], attr: str) -> tuple[str, ...]:
    raw = _distinct([str(getattr(f, attr)) for f in findings])
    if len(raw) == 1:
        return raw
    general = _distinct([_each_pool(str(getattr(f, attr)), f.pool) if f.pool else
                         str(getattr(f, attr)) for f in findings])
    return general if len(general) == 1 else raw


def view(report: Report) -> ReportView:
    """Group ``report``'s findings by cause and number its distinct fixes."""
    groups: dict[tuple[object, ...], list[Finding]] = {}
    for f in report.findings:
        groups.setdefault(cause_key(f), []).append(f)
    ordered = sorted(groups.values(), key=lambda fs: -max(f.severity for f in fs))  # NOTE: stable: report order
    numbers: dict[tuple[object, ...], int] = {}
    fixes: list[NumberedFix] = []
    causes: list[Cause] = []
    for fs in ordered:
        refs: list[int] = []
        offered = [x for f in fs for x in f.fixes]
        # NOTE: equal labels (one pool flip per pool) take consecutive numbers, so that text lists them as one
        rank = {label: i for i, label in enumerate(dict.fromkeys(x.label for x in offered))}
        for fix in sorted(offered, key=lambda x: rank[x.label]):
            key = fix_key(fix)
            if key not in numbers:
                numbers[key] = len(fixes) + 1
                fixes.append(NumberedFix(numbers[key], fix))
            refs.append(numbers[key])
        causes.append(Cause(
            findings=tuple(fs),
            pools=_distinct([f.pool for f in fs if f.pool]),
            places=_distinct([f"{f.site}{f.application or ''}" for f in fs if f.site]),
            processes=_distinct([(f.process, f.process_arch) for f in fs if f.process]),
            symptoms=_texts(fs, "symptom"), causes=_texts(fs, "cause"),
            fixes=_distinct(refs), rejected=_distinct([r for f in fs for r in f.rejected_fixes]),
        ))
    return ReportView(report, tuple(causes), tuple(fixes), numbers)


def _names(items: list[str], most: int = 3) -> str:
    items = sorted(set(items), key=str.lower)
    return ", ".join(items) if len(items) <= most else f"{len(items)} pools"


def inferred_note(server: ServerSummary, most: int = 4) -> str:
    """The sentence the text and HTML say of :attr:`ServerSummary.inferred` (binaries a process loads that an image
    holding other binaries lacks, whose architecture was inferred from their folder), or ``""`` when each of them is
    one of Windows' own IIS modules or a .NET Framework file, or IIS Express's ASP.NET Core Module
    (:func:`iisbitness.image.stock.is_windows_own`), installed for each architecture in its own folder. A vendor's file is named (up to ``most``, each name once): which build its installer put in a folder is the installer's choice, so the folder
    says less of it (a 32-bit DLL copied into System32 is the mismatch this tool looks for)."""
    paths = server.inferred
    vendor = [p for p in paths if not is_windows_own(p, server.os_arch)]
    if not vendor:
        return ""
    names = list(dict.fromkeys(file_name(p) for p in vendor))
    shown = ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
    own = len(paths) - len(vendor)
    # NOTE: IIS Express's ANCM named only where it is among them: a server's note never speaks of IIS Express
    ancm = any(is_iis_express_ancm(p, server.os_arch) for p in paths) if own else False
    also = ", or IIS Express's ASP.NET Core Module" if ancm else ""
    besides = f"; and {own} of Windows' own IIS or .NET Framework files{also}" if own else ""
    n = len(vendor)
    return (f"{n} vendor binar{'y' if n == 1 else 'ies'} a worker loads ({shown}{besides}) "
            f"{'is' if n == 1 else 'are'} not in {server.absent_from} and {'was' if n == 1 else 'were'} not read: "
            "the architecture is inferred from the folder (--loads names the rule); copy the files to check them.")


def _effects(fix: Fix | Sequence[SideEffect]) -> Sequence[SideEffect]:
    return fix.side_effects if isinstance(fix, Fix) else fix


def removal(fix: Fix | Sequence[SideEffect], above: Sequence[str] = ()) -> str:
    """What a fix (or its side effects) takes out of processes, for its label's line: ``PhpPool, IntranetPool
    then run without FabrikamVendorAuth`` (``9 pools ...`` past eight; ``all 7 pools ...`` when they are
    the pools ``above``, those the text's ``in`` line just named); "" when nothing."""
    by_name: dict[str, list[str]] = {}
    broken: dict[str, set[tuple[str, str, str]]] = {}
    bypassed: dict[str, set[tuple[str, str, str]]] = {}
    schemes: dict[str, None] = {}
    for e in _effects(fix):
        if e.kind is not EffectKind.UNLOADED:
            continue
        if e.load_kind == SCHEME_KIND:  # NOTE: a scheme is server-wide: out of every worker at once
            schemes[e.name] = None
            continue
        by_name.setdefault(e.name, []).append(e.where)
        broken.setdefault(e.name, set()).update((n, p, v) for n, p, v, _ in e.handlers)
        bypassed.setdefault(e.name, set()).update((n, p, v) for n, p, v, _ in e.bypassed)
    gone = [_no_scheme(name) for name in schemes]
    if not by_name:  # NOTE: most fixes take nothing out; ``above`` may name every pool of the server (issue 25)
        return "; ".join(gone)
    named = {p.lower() for p in above}

    def who(pools: list[str]) -> str:
        n = len(set(pools))
        return f"all {n} pools" if n > 3 and {p.lower() for p in pools} == named else _names(pools, 8)

    def fails(name: str) -> str:
        n, m = len(broken[name]), len(bypassed[name])
        return ((f": HTTP 500.21 on {n} handler mapping{'s' if n != 1 else ''}" if n else "")
                + (f"{'; ' if n else ': '}{m} handler mapping{'s' if m != 1 else ''} no longer appl"
                   f"{'y' if m != 1 else 'ies'}" if m else ""))

    return "; ".join([f"{who(pools)} then run{'s' if len(set(pools)) == 1 else ''} without {name}{fails(name)}"
                      for name, pools in by_name.items()] + gone)


SCHEME_KIND = "compression-scheme"
"""The ``load_kind`` of an :attr:`EffectKind.UNLOADED` side effect of a compression scheme removed (KB 4468361's fix):
no pool compresses with it any more (:func:`_no_scheme`)."""


def _no_scheme(name: str) -> str:
    return f"no pool compresses with '{name}' any more"


HANDLERS_SHOWN = 12
"""Past this many handler mappings a side effect breaks, its line names the first ones and a count."""


_ByModule = dict[str, tuple[list[str], dict[tuple[str, str, str, tuple[str, ...]], None]]]
"""Per module a fix takes out: the pools (or processes) it leaves, and the handler mappings concerned, each once in
order (:func:`_handler_lines`)."""


def _handler_lines(effects: Sequence[SideEffect]) -> list[str]:
    """Per module a fix takes out, the handler mappings whose requests then fail (:attr:`SideEffect.handlers`):
    ``DefaultAppPool: HTTP 500.21 on handler mappings that name CSPms: CSPGateway_zen *.zen, ... (verb *) in
    Default Web Site/csp``, grouped by verb and applications; "HTTP 500.21 Handler ... has a bad module ... in its
    module list" (IIS's error page; KB 943891: 500.21 "Module not recognized"); then those that no longer apply (:attr:`SideEffect.bypassed`)."""
    failing: _ByModule = {}
    bypassed: _ByModule = {}
    for e in effects:
        if e.kind is not EffectKind.UNLOADED:
            continue
        for mappings, by_name in ((e.handlers, failing), (e.bypassed, bypassed)):
            if mappings:
                pools, handlers = by_name.setdefault(e.name, ([], {}))
                pools.append(e.where)
                handlers.update(dict.fromkeys(mappings))
    return (_mapping_lines(failing, "HTTP 500.21 on the handler mapping{s} that name{name}: ")
            + _mapping_lines(bypassed, "the handler mapping{s} naming{name} no longer appl{ies} (a preCondition false in "
                             "the worker then): IIS skips {them}, and {their} requests go to the next mapping that "
                             "matches (StaticFile, say), not to the application's code: "))


def _mapping_lines(by_name: _ByModule, head: str) -> list[str]:
    """One line per module of ``by_name``: ``head`` (its ``{s}``, ``{name}``, ``{ies}``, ``{them}``, ``{their}``
    filled for one mapping or several), then the first :data:`HANDLERS_SHOWN` mappings by verb and applications."""
    out = []
    for name, (pools, handlers) in by_name.items():
        groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for h, path, verb, apps in list(handlers)[:HANDLERS_SHOWN]:
            groups.setdefault((verb, apps), []).append(f"{h} {path}")
        text = "; ".join(f"{', '.join(hs)} (verb {verb})" + (f" in {', '.join(apps)}" if apps else "")
                         for (verb, apps), hs in groups.items())
        more = len(handlers) - HANDLERS_SHOWN
        one = len(handlers) == 1
        words = head.format(s="" if one else "s", name=f" {name}", ies="ies" if one else "y",
                            them="it" if one else "them", their="its" if one else "their")
        out.append(f"{_names(pools, 8)}: {words}{text}" + (f"; and {more} more (--format json lists each)"
                                                            if more > 0 else ""))
    return out


def security_warning(fix: Fix | Sequence[SideEffect]) -> str:
    """A sentence of its own when a fix takes a security module or filter out of a process, else ""."""
    by_name: dict[str, list[SideEffect]] = {}
    for e in _effects(fix):
        if e.removes_security:
            by_name.setdefault(e.name, []).append(e)
    out = []
    for name, effects in by_name.items():
        pools = [e.where for e in effects if e.site is None]
        # NOTE: IIS Express: the process is the site's own iisexpress.exe, so the site is named, not "sites in" it
        sites = sorted({(e.site, e.process) for e in effects if e.site is not None}, key=lambda sp: sp[0].lower())
        parts = [f"sites in {_names(pools)} then run without it"] if pools else []
        if len(sites) == 1:
            parts.append(f"site '{sites[0][0]}' (its {sites[0][1]}) then runs without it")
        elif sites:
            parts.append(f"sites {', '.join(repr(s) for s, _ in sites)} (each its {sites[0][1]}) then run without it")
        out.append(f"{name} looks like a security module: {'; '.join(parts)}.")
    return " ".join(out)


MARK = {True: " (verified)", False: " (not verified)", None: ""}
"""A fix's verification as every format words it (``None``: advice, nothing the model holds to verify)."""


def mark(fix: Fix, above: Sequence[str] = ()) -> str:
    """`` (verified)``, `` (not verified)`` or ``""`` (advice), as text, HTML and SARIF say a fix's verification; a
    fix that takes a module out of processes says which on the same line (``above``: the pools the cause's ``in`` line
    names, :func:`removal`): `` (verified, but all 7 pools then run without X)``; an IIS 6 switch offered though it
    breaks binaries names them (:attr:`Fix.breaks`): `` (not verified; it would break rewrite64.dll)``."""
    state, removed = verification(fix, above)
    if not removed:
        return MARK[fix.verified]
    return f" ({'verified, but ' if fix.verified else f'{state}; ' if state else ''}{removed})"


def verification(fix: Fix, above: Sequence[str] = ()) -> tuple[str, str]:
    """A fix's verification and what it takes out or breaks, the two parts of :func:`mark` (HTML styles each):
    ``("verified", "")``, ``("not verified", "it would break rewrite64.dll")``, ``("", "")`` for advice; the second
    part is :func:`removal` (``above``: as there) and :attr:`Fix.breaks`, "" when neither."""
    removed = removal(fix, above)
    if fix.breaks:  # NOTE: IIS 6's server-wide switch, offered though it breaks these: say which, as IIS 7+'s "not offered"
        broken = f"it would break {', '.join(fix.breaks[:3])}{' and more' if len(fix.breaks) > 3 else ''}"
        removed = f"{removed}; {broken}" if removed else broken
    return MARK[fix.verified].strip(" ()"), removed


def closing_words(v: ReportView) -> str:
    """The report's closing sentence, as the text and HTML end with it: findings, causes and severities, the pools
    (IIS Express: projects) hit and the processes outside pools, the coverage (:meth:`Report.coverage_words`), the
    parts IIS refuses, the verified fixes, and the findings not shown (:meth:`Report.hidden_words`)."""
    c = v.report.counts()
    sev = ", ".join(f"{c[s.label]} {s.label}{'s' if c[s.label] != 1 else ''}"
                    for s in sorted(Severity, reverse=True) if c[s.label] or s is not Severity.NOTE)
    n = len(v.report.findings)
    text = f"{n} finding{'s' if n != 1 else ''} from {len(v.causes)} cause{'s' if len(v.causes) != 1 else ''}"
    text += f" ({sev})" if sev else ""
    hit = v.pools_hit()
    if v.report.server.kind == "iisexpress":
        n_projects = len(v.report.projects)
        text += f" in {n_projects} project{'s' if n_projects != 1 else ''}"
    elif hit:
        text += f" in {len(hit)} of {len(v.report.pools)} pools"
    # NOTE: a finding of IIS 7+ workers without a pool is one about every worker of an architecture (binary-missing's
    # grouped warning for a stock module, "in w3wp.exe x64"): not a process outside the pools (user audit 2026-12-07);
    # so is one of IIS Express's iisexpress.exe without a pool (its own modules missing from a partial copy): it is in
    # the projects counted, not a process outside them
    worker = "iisexpress.exe" if v.report.server.kind == "iisexpress" else "w3wp.exe"
    outside = sorted({f.process or "?" for f in v.report.findings if not f.pool and f.process != worker})
    if outside:
        text += (", " if hit else " in ") + ", ".join(outside)
    covered = v.report.coverage_words()
    if covered:
        text += f"; {covered}"
    if refused := v.report.refusal_words():
        text += f"; {refused} (see IIS refuses)"
    text += f"; {v.verified_fixes} verified fix{'es' if v.verified_fixes != 1 else ''}."
    if hidden := v.report.hidden_words():
        text += " " + hidden
    return text


def shared_config_words(shared: str) -> str:
    """What every format says of a web farm's shared configuration (``shared``: the folder redirection.config
    names): every server whose redirection.config names it runs it ("Shared Configuration", learn.microsoft.com
    iis/manage/managing-your-configuration-settings/shared-configuration_264), while the binaries read are this
    server's."""
    return (f"This is the shared configuration that redirection.config names ({shared}): every server of the web farm "
            "that uses it runs it, and a fix changes it for each of them; the binaries checked are this server's only, "
            "so scan (or collect) each server before applying a fix.")


MEMORY_LIMIT = "; as a 32-bit process at most 4 GB of memory (OutOfMemoryException past it; it had terabytes)"
"""Said of a side effect that moves applications from a 64-bit worker to a 32-bit one: a 32-bit process on 64-bit
Windows has at most a 4 GB user address space (2 GB unless large-address aware), a 64-bit one 8 TB or 128 TB
(learn.microsoft.com/windows/win32/memory/memory-limits-for-windows-releases)."""


def _effect(e: SideEffect, brief: bool = False) -> str:
    """One side effect's line; ``brief`` (scan's compact text) leaves out :data:`MEMORY_LIMIT`, which ``fix``, HTML,
    SARIF and ``--verbose`` say."""
    where = e.where
    memory = "" if brief else MEMORY_LIMIT
    if e.kind is EffectKind.ARCH:
        apps = ", ".join(e.applications) or "no application"
        return (f"{where} runs as {e.after.value if e.after else '?'} (was {e.before.value if e.before else '?'}): "
                f"{apps}" + (f", {e.binaries} binar{'y' if e.binaries == 1 else 'ies'}" if e.binaries else "")
                + (f" (ISAPI: {', '.join(e.isapi)})" if e.isapi else "")
                + (memory if e.after is Arch.X86 and e.before is not None and e.before.is_64bit else ""))
    settings = ", ".join(f"{k}={v}" if v else k for k, v in e.settings if k not in BITNESS_ATTRIBUTES)
    return (f"new pool '{e.name}' copies '{e.like}'"
            + (f": {settings}" if settings else " (its defaults)")
            + (memory if e.after is Arch.X86 and e.moved_from is not None and e.moved_from.is_64bit else ""))


def effect_lines(fix: Fix | Sequence[SideEffect], brief: bool = False, named: int | None = None) -> tuple[str, ...]:
    """The side effects of ``fix`` (or these side effects), one line each (a module out of several pools is one
    line), for the numbered fix list, ``fix`` and HTML. ``brief`` leaves out what the fix's own line already
    says: a flip of a pool that serves one application, a removal (:func:`removal`). ``named``: a line naming
    pools names the first ``named`` of them and counts the rest (``... and 992 more pools``; SARIF's results, where
    the whole line is stated once for the run)."""
    out: list[str] = []
    grouped: dict[tuple[EffectKind, str, str, tuple[str, ...]], list[str]] = {}
    effects = _effects(fix)
    if brief:
        # NOTE: the pools out of which something is unloaded, counted once, not once per effect (issue 25)
        few = len({x.pool for x in effects if x.kind is EffectKind.UNLOADED}) <= 8
        # NOTE: an IIS 6 switch (isapi named) moves every pool, each named: the fix's own line names none
        effects = [e for e in effects if not (e.kind is EffectKind.ARCH and len(e.applications) <= 1 and not e.isapi)
                   and not (e.kind is EffectKind.UNLOADED and few)]
    workers: dict[tuple[str, str], list[str]] = {}
    moved: dict[tuple[str, str], dict[str, None]] = {}
    served: dict[tuple[str, str], dict[str, None]] = {}
    for e in effects:
        if e.kind in (EffectKind.UNLOADED, EffectKind.LOADED):
            grouped.setdefault((e.kind, e.name, (e.load_kind or "").replace("-", " "), e.applications),
                               []).append(e.where)
        elif e.kind is EffectKind.NEW_POOL and e.like is None:  # NOTE: pools that had no worker (IIS 6, IIS 5 mode)
            workers.setdefault((e.process, e.after.value if e.after else "?"), []).append(e.name)
            moved.setdefault((e.process, e.after.value if e.after else "?"), {}).update(dict.fromkeys(e.isapi))
            served.setdefault((e.process, e.after.value if e.after else "?"), {}).update(dict.fromkeys(e.applications))
        else:
            out.append(_effect(e, brief))
    # NOTE: one pool (a pool-undefined fix defines it): named with the applications it then serves, not "each pool"
    def listed(pools: Sequence[str]) -> str:
        if named is None or len(pools) <= named:
            return ", ".join(pools)
        return ", ".join(pools[:named]) + f" and {len(pools) - named:,} more pools"

    out += [(f"each pool gets a {process} of its own ({arch}): {listed(pools)}" if len(pools) > 1 else
             f"pool '{pools[0]}' gets a {process} of its own ({arch})"
             + (f", serving {', '.join(served[process, arch])}" if served.get((process, arch)) else ""))
            + (f" (ISAPI now at {arch}: {', '.join(moved[process, arch])})" if moved.get((process, arch)) else "")
            for (process, arch), pools in workers.items()]
    for (kind, name, what, apps), pools in grouped.items():
        verb = "no longer loads in" if kind is EffectKind.UNLOADED else "now loads in"
        lead = f"{_no_scheme(name)}: " if kind is EffectKind.UNLOADED and what == SCHEME_KIND.replace("-", " ") else ""
        out.append(lead + f"{what} {name} {verb} {listed(sorted(set(pools), key=str.lower))}".strip()
                   + (f" (for {', '.join(apps)})" if apps else ""))
    # NOTE: never left out as brief: the requests that fail are what the administrator approves beside the commands
    return tuple(out + _handler_lines(_effects(fix)))


@dataclass(frozen=True, slots=True)
class EventLine:
    """A bitness-related event of ``scan --event-log``, once, with what it confirms (``tag``)."""

    time: str
    provider: str
    event_id: int
    message: str
    tag: str
    bitness: bool = True
    """False for an event read as another problem that confirms no finding (``Report.other_events``); an event whose
    usual reading is another problem but that confirms a finding on its own binary counts as about bitness."""


def event_lines(report: Report) -> tuple[EventLine, ...]:
    """Each recognised event once: ``confirms RULE in POOL; ...``; for an event that names a binary several
    pools' findings share and no pool (scope ``binary``), the one worker failure it shows and the pools it may
    come from; ``explains a finding of a rule not selected (RULE) (bitness, high: RULE)`` for one that confirms only
    findings ``--select``/``--ignore`` left out; ``no finding explains it (bitness, medium: RULE)`` otherwise; then the events read as another
    problem, ``not a bitness problem (high: app-exception)``, as ``explain`` reads each."""
    by_event: dict[tuple[str, str, int, str], list[Finding]] = {}
    scoped: set[tuple[str, str, int, str]] = set()
    reading: dict[tuple[str, str, int, str], str] = {}
    maybe: dict[tuple[str, str, int, str], list[Finding]] = {}
    usual: dict[tuple[str, str, int, str], str] = {}
    unselected: dict[tuple[str, str, int, str], list[str]] = {}
    for o in report.observations:
        key = (o.time, o.provider, o.event_id, o.message)
        found = by_event.setdefault(key, [])
        reading[key] = f"{o.confidence}: {o.lead}" if o.lead else o.confidence
        if o.reading != "bitness":
            usual[key] = f" (usually not a bitness problem, {reading[key]})"
        maybe.setdefault(key, []).extend(report.findings[i] for i in o.possible)
        unselected.setdefault(key, []).extend([o.unreported_rule] if o.unreported_rule else [])
        if o.finding_index is not None:
            found.append(report.findings[o.finding_index])
        if o.scope == "binary":
            scoped.add(key)
    out = []
    for key, found in by_event.items():
        if not found and unselected[key]:
            tag = (f"explains a finding of a rule not selected ({', '.join(dict.fromkeys(unselected[key]))}) "
                   f"(bitness, {reading[key]})")
        elif not found and maybe[key]:
            named = "; ".join(f"{f.rule} in {f.pool or f.process}" for f in maybe[key])
            tag = f"does not confirm, may stand for {named} (bitness, {reading[key]})"
        elif not found:
            tag = f"no finding explains it (bitness, {reading[key]})"
        elif key in scoped:
            pools = sorted({f.pool for f in found if f.pool})
            tag = (f"confirms {found[0].rule} ({found[0].binary}) failing in a worker of one of {len(pools)} pools; "
                   f"the event names no pool: {', '.join(pools)}")
        else:
            tag = "confirms " + "; ".join(f"{f.rule} in {f.pool or f.process}" for f in found)
        out.append(EventLine(*key, tag + usual.get(key, ""), bitness=key not in usual or bool(found)))
    out += [EventLine(o.time, o.provider, o.event_id, o.message,
                      f"{'usually ' if o.usual else ''}not a bitness problem ({o.confidence}: {o.lead})",
                      bitness=False) for o in dict.fromkeys(report.other_events)]
    return tuple(out)


def arch_label(arches: tuple[Arch, ...], target: str | None = None) -> str:
    """``x86``, ``x64``, ``arm64``, ``AnyCPU`` (loads at every architecture), ``none: <target>`` for a binary read
    that loads in no process of the server (``target``, :attr:`Finding.binary_target <iisbitness.findings.Finding.
    binary_target>`: ``none: ARM64X``) or ``unknown``."""
    if not arches:
        return f"none: {target}" if target else "unknown"
    if len(arches) == len(Arch):
        return "AnyCPU"
    return "/".join(a.value for a in arches)


MANY = 8
"""Past this many, the page groups (issue 25): a cause's pools, fixes of one kind and pools whose workers look
the same show as one item with a count, their list behind a closed ``<details>`` (parsed, never laid out until
opened), so that a server of 10,000 pools gives a page that grows with its causes and distinct fixes, not with
pools x findings. The text groups causes alike past it too (:func:`cause_entries`). The demo servers stay below
it."""

G = TypeVar("G")


def past_many(items: Sequence[T], keys: Sequence[Hashable | None],
              many: Callable[[list[T]], G]) -> list[T | G]:
    """``items`` in order, except that more than :data:`MANY` items of one key are ``many(those items)``, at the
    place of the first (the one grouping of the page: pools alike, causes alike, steps alike, applications alike;
    and the text's causes alike). An item whose key is None stands alone."""
    by_key: dict[Hashable, list[int]] = {}
    for at, key in enumerate(keys):
        if key is not None:
            by_key.setdefault(key, []).append(at)
    out: list[T | G] = []
    for at, (item, key) in enumerate(zip(items, keys, strict=True)):
        group = by_key[key] if key is not None else None
        if group is None or len(group) <= MANY:
            out.append(item)
        elif group[0] == at:
            out.append(many([items[k] for k in group]))
    return out


def file_name(path: str) -> str:
    """The last part of a Windows or image path: ``managed_x86.dll``."""
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def alike(c: Cause, kind: Sequence[tuple[str, bool | None]]) -> tuple[object, ...]:
    """What causes alike share (issue 25): rule, severity, the binary's file name (case-insensitive), its
    architectures and evidence, the processes and theirs, the kinds of fix offered (label, verified) in order, and
    whether a chain, a configuration entry and fixes ruled out are there. Each site's own copy of one vendor DLL in
    its ``bin`` is a cause of its own (:func:`~iisbitness.formats.causes.cause_key`); these are alike. ``kind``: each
    fix's (label, verified), by number - 1."""
    f = c.first
    kinds = tuple(dict.fromkeys(kind[n - 1] for n in c.fixes))
    return (f.rule, c.severity, file_name(f.binary or "").lower(), f.binary_arch, f.evidence, c.processes, kinds,
            len(f.chain), c.config is None, bool(c.rejected), bool(c.pools), bool(c.places))


@dataclass(frozen=True, slots=True)
class CauseGroup:
    """More than :data:`MANY` causes alike (:func:`alike`: "x86 nativelib.dll in 2,000 applications' bin"), one
    entry at the place of the first. The page (:mod:`~iisbitness.formats.scan_html`) shows one article: the first
    cause's facts in full, each cause a row of a table on demand (pools, applications, binary, configuration entry,
    chain, symptom, cause, fixes), their fixes as one list; the text, the first cause in full and a count.

    Attributes: numbers: the causes' numbers (1-based, as ``causes_of``). causes: the causes. fixes: their fix
    numbers, each once, in the causes' order."""

    numbers: tuple[int, ...]
    causes: tuple[Cause, ...]
    fixes: tuple[int, ...]

    @property
    def first(self) -> Cause:
        """The first cause: shown in full."""
        return self.causes[0]

    @property
    def pools(self) -> tuple[str, ...]:
        """The distinct pools the causes hit."""
        return tuple(dict.fromkeys(p for c in self.causes for p in c.pools))

    @property
    def places(self) -> tuple[str, ...]:
        """The distinct applications (``Site/app``)."""
        return tuple(dict.fromkeys(p for c in self.causes for p in c.places))

    @property
    def severity(self) -> Severity:
        """The causes' severity (the same for all)."""
        return self.first.severity

    @property
    def findings(self) -> int:
        """How many findings the causes group."""
        return sum(len(c.findings) for c in self.causes)


def cause_entries(v: ReportView) -> tuple[tuple[int, Cause] | CauseGroup, ...]:
    """The causes as the page and the text list them (worst first): each ``(number, cause)``, except that more than
    :data:`MANY` causes alike are one :class:`CauseGroup` at the place of the first."""
    kind = [(n.fix.label, n.fix.verified) for n in v.fixes]

    def article(group: list[tuple[int, Cause]]) -> CauseGroup:
        causes = tuple(c for _, c in group)
        return CauseGroup(tuple(i for i, _ in group), causes, tuple(dict.fromkeys(n for x in causes for n in x.fixes)))

    entries = past_many(list(enumerate(v.causes, 1)), [alike(c, kind) for c in v.causes], article)
    return tuple(entries)
