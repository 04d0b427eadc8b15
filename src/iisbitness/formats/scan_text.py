"""Text output for scan (issue 14): a pool table, findings grouped by cause, each fix once.

The shape follows ruff's concise output and capa's collapsing of repeats::

    ERROR global-module-arch  C:\\...\\vendorauth.dll [x86]  7 pools
      --> Windows/System32/inetsrv/config/applicationHost.config:129
      in    CatalogPool, DefaultAppPool, ... (w3wp.exe x64)
      sees  HTTP 503 Service Unavailable on every site in each pool ...
      fix   [1] preCondition="bitness32" (verified); [2]-[7] run the pool as 32-bit (verified); ...

(:attr:`iisbitness.findings.Fix.label` names each fix; a pool flip per pool shares one label), then the
distinct fixes, numbered: their cmd.exe commands (``shell="powershell"`` for PowerShell), or their advice
when they have none; and a closing line. The cause's prose, resolved paths, fix summaries and notes come
with ``verbose``. Prose wraps at ``width``; commands never wrap (a wrapped command is not copyable).
Colours only when asked; control characters from the input are shown escaped.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from rich.console import COLOR_SYSTEMS, Console
from rich.style import Style
from rich.text import Text

from iisbitness.findings import Finding, RejectedFix, Severity
from iisbitness.formats.causes import (
    MARK,
    Cause,
    CauseGroup,
    ReportView,
    arch_label,
    cause_entries,
    closing_words,
    effect_lines,
    event_lines,
    file_name,
    inferred_note,
    mark,
    removal,
    security_warning,
    shared_config_words,
    view,
)
from iisbitness.formats.table import NBSP, fit_table, printable, wrap
from iisbitness.report import CoverageStatus, Report

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTE: "cyan"}
_LABEL = 6  # "  sees  " and friends: two spaces, a word padded to 6


@dataclass(frozen=True, slots=True)
class TextOptions:
    """How to print: ``width`` for prose and the pool table (which fits it, :func:`fit_table`); ``shell`` ``cmd`` or ``powershell``; ``verbose`` adds causes; ``command``:
    the heading's verb; ``target``: check-app's pool, said instead of the server and config lines."""

    color: bool = False
    width: int = 100
    shell: str = "cmd"
    verbose: bool = False
    command: str = "scan"
    target: str | None = None


class _Out:
    """Lines with optional styled runs; prose wrapped with a hanging indent."""

    def __init__(self, options: TextOptions) -> None:
        self.o = options
        self.lines: list[tuple[tuple[str, str], ...]] = []

    def line(self, *parts: str | tuple[str, str]) -> None:
        """One line of ``parts`` (text, or text and style); control characters from the server's names and
        texts are shown escaped, never sent to the terminal."""
        # NOTE: kept as (text, style) runs, made rich Texts only when coloured (issue 25: 600,000 lines)
        self.lines.append(tuple((printable(p), "") if isinstance(p, str) else (printable(p[0]), p[1]) for p in parts))

    def field(self, label: str, text: str, style: str = "") -> None:
        """``text`` under ``label``, wrapped at the width; words joined by :data:`NBSP` stay on one line."""
        lead = f"  {label:<{_LABEL}}" if len(label) < _LABEL else f"  {label} "
        hang = " " * (2 + _LABEL)
        wrapped = wrap(text, max(self.o.width, 40), lead, hang)
        self.line((lead, "dim"), (wrapped[0][len(lead):], style))
        for w in wrapped[1:]:
            self.line(hang, (w[len(hang):], style))

    def render(self) -> str:
        """The lines as text, each ending in a newline; with ANSI styles when coloured."""
        plain = ["".join(text for text, _ in parts) for parts in self.lines]
        if not plain or not self.o.color and not any("\t" in p for p in plain):
            # NOTE: what rich writes without colour, where no tab is to be expanded: a rich print of each of the
            # 600,000 lines of a 10,000-pool report took most of its rendering (issue 25)
            return "".join(p + "\n" for p in plain)
        buf = io.StringIO()
        con = Console(file=buf, force_terminal=self.o.color, no_color=not self.o.color, highlight=False,
                      soft_wrap=True, width=max(self.o.width, 40))
        if self.o.color and not any("\t" in p for p in plain):
            # NOTE: each run styled as the console would (rich's Style.render, the console's colour system), not a
            # console print of the whole report: 8.2 s for the 1,000-pool bench_pools --shape bin report, now
            # 2.0 s, the same bytes (issue 25). Lines are never wrapped (soft_wrap) and hold no tab here.
            system, legacy = COLOR_SYSTEMS.get(con.color_system or ""), con.legacy_windows
            styles: dict[str, Style] = {}
            out: list[str] = []
            for parts in self.lines:
                for text, style in parts:
                    if text and style:
                        st = styles.get(style) or styles.setdefault(style, Style.parse(style))
                        out.append(st.render(text, color_system=system, legacy_windows=legacy))
                    else:
                        out.append(text)
                out.append("\n")
            return "".join(out)
        con.print(Text("\n").join(Text.assemble(*parts) for parts in self.lines))
        return buf.getvalue()


def _pool_table(out: _Out, v: ReportView) -> None:
    """The pools, a row each; under check-app --server (:attr:`Report.application_pools`) only the application's pool
    and a line counting the rest, unless ``--verbose``."""
    rows = []
    pools = v.report.pools
    if v.report.application_pools and not out.o.verbose:
        pools = tuple(p for p in pools if p.name in v.report.application_pools)
    for p in pools:
        n = v.pool_counts(p.name)
        worker = "none (undefined)" if not p.defined else p.worker_arch.value + (
            " idle" if p.idle else " manual" if p.manual_start else "")
        rows.append((p.name, worker,
                     f"{str(p.enable_32bit_app_on_win64).lower()} ({p.enable_32bit_from if out.o.verbose else source(p.enable_32bit_from)})",
                     p.managed_runtime_version or "none", p.pipeline_mode, str(n[Severity.ERROR]),
                     str(n[Severity.WARNING]), ", ".join(p.applications) or "-"))
    header = ("POOL", "WORKER", "32-BIT (FROM)", "CLR", "PIPELINE", "ERR", "WARN", "APPLICATIONS")
    for text in fit_table(header, rows, out.o.width):
        out.line((text, "bold") if text.startswith("POOL ") else text)
    if (rest := len(v.report.pools) - len(pools)) > 0:
        its = "the pool this application runs in" if len(pools) == 1 else "the pools this application runs in"
        out.line(("  ", "dim"), f"{its}; {rest} other pool{'s' * (rest > 1)} of the server not shown (--verbose lists "
                 "every pool)")
    for p in pools:
        if p.manual_start and not p.idle:
            out.line(("  manual: ", "dim"), f"{p.manual_start}: the pool does not start by itself; its findings "
                     "apply once it is started")
    unusual = {p.process for p in pools if p.process.startswith("(")}
    for process in sorted(unusual):
        out.line(("  worker: ", "dim"), process.strip("()"))


def source(where: str) -> str:
    """The pool table's short word for where ``enable32BitAppOnWin64`` came from: ``schema default`` is
    ``default``; an IIS 6 metabase key said server-wide (``/LM/W3SVC/AppPools (server-wide)``) is ``server-wide``
    (``--verbose``, JSON and HTML name the key). Any other source is shown as it is."""
    if where == "schema default":
        return "default"
    return "server-wide" if where.endswith("(server-wide)") else where


def _where(c: Cause) -> str:
    """The ``in`` line: the pools and their workers, ``Pool (w3wp.exe x64)``; under IIS Express, whose process is a
    project's site's ``iisexpress.exe`` whatever pool its applications name (two projects of one pool are two
    processes), ``iisexpress.exe x86 of site 'S' (applications in pool 'P')``; then the applications."""
    procs = ", ".join(f"{name} {arch.value}" if arch else name for name, arch in c.processes)
    sites = list(dict.fromkeys(f.process_site for f in c.findings if f.process_site))
    if sites:  # NOTE: IIS Express: the pool is only the configuration's (CLR version, pipeline mode), not a process
        where = (f"{procs} of site{'s' * (len(sites) > 1)} {', '.join(repr(s) for s in sites)}"
                 + (f" (applications in pool {', '.join(repr(p) for p in c.pools)})" if c.pools else ""))
    else:
        where = (f"{', '.join(c.pools)} ({procs})" if procs else ", ".join(c.pools)) if c.pools else procs
    if c.places:
        where += ("; " if where else "") + ", ".join(c.places)
    return where


def _arch_evidence(f: Finding, absent_from: str) -> str:
    """The binary's architectures and which part of the verdict is inferred: ``x64`` (read), ``x86, inferred`` (from
    its folder: not in the image), ``x64, not in image`` (``absent_from``, :attr:`ServerSummary.absent_from`: ``not in
    build folder`` for check-app alone), and for IIS Express, whose worker's bitness can be Visual Studio's
    unrecorded default (``Finding.evidence`` is then ``inferred`` although the file was read), ``x64, read;
    iisexpress.exe x86 assumed``: the file's headers were read, the worker's architecture is assumed
    (:attr:`Finding.arch_inferred`, :attr:`Finding.read_worker_assumed`, as the HTML says them)."""
    arch = arch_label(f.binary_arch, f.binary_target) + (", inferred" if f.arch_inferred else "")
    arch += "" if f.resolved or f.arch_inferred else f", not in {absent_from.removeprefix('the ')}"
    if f.process_arch_assumed and f.process_arch is not None:
        arch += (", read" if f.read_worker_assumed else "") + f"; {f.process} {f.process_arch.value} assumed"
    return arch


def _cause(out: _Out, v: ReportView, c: Cause, shown: set[RejectedFix]) -> None:
    """One cause's block; ``shown``: the rejected fixes already given with their reason (updated)."""
    f = c.first
    head: list[str | tuple[str, str]] = [(f.severity.label.upper(), _STYLE[f.severity]), " ", (f.rule, "bold")]
    if len(c.findings) > 1:
        head.append(f"  {len(c.pools)} pools" if len(c.pools) == len(c.findings) else f"  {len(c.findings)} findings")
    binary = f"{f.binary} [{_arch_evidence(f, v.report.server.absent_from)}]" if f.binary else ""
    if binary and len(Text.assemble(*head)) + len(binary) + 2 <= out.o.width:
        head.insert(3, f"  {binary}")
        binary = ""
    config = c.config and not (c.config.line is None and c.config.file == f.resolved)  # NOTE: a bin file is its own entry
    if config and not binary and len(Text.assemble(*head)) + len(str(c.config)) + 6 <= out.o.width:
        head += [("  --> ", "blue"), str(c.config)]  # NOTE: the entry to edit fits on the heading line
        config = False
    out.line(*head)
    if binary:
        out.field("", binary)
    where = _where(c)
    if config and len(f"  in    {where}  --> {c.config}") <= out.o.width:  # NOTE: else a line of its own
        out.field("in", f"{where}{NBSP}{NBSP}-->{NBSP}{c.config}")
    else:
        if config:
            out.line(("  --> ", "blue"), str(c.config))
        out.field("in", where)
    if f.chain:
        out.field("via", " -> ".join(f.chain))
    # NOTE: a symptom that opens with its application ("BankTech_API_V1/: HTTP Error 500.32 ...") is cut past that
    # label: a label of 16 characters or more was the whole headline ("sees  BankTech_API_V1/ ...")
    label = f"{f.site}{f.application}: " if f.site and f.application is not None else ""
    for s in c.symptoms:
        skip = len(label) if label and s.startswith(label) else 0
        out.field("sees", s if out.o.verbose else headline(s, 16 + skip, 40 + skip))
    if out.o.verbose or f.binary_not_checked:
        # NOTE: a binary the scan could not check: its why (a drive not mapped, a share not given, a file that cannot
        # be read) is what to act on first, whatever fixes follow; "could not check this binary" alone said nothing
        for text in c.causes:
            out.field("why", text)
    if out.o.verbose and f.resolved:
        out.field("file", f.resolved)
    if c.fixes:
        # NOTE: no-break spaces keep each group on one line when wrapped (textwrap breaks on ASCII space only)
        # NOTE: a removal's words may wrap; the number, label and verification stay together
        groups = (f"{numbers(ns)} {label}{MARK[verified]}".replace(" ", NBSP)
                  if not removal(v.fix(ns[0])) and not v.fix(ns[0]).breaks
                  else f"{numbers(ns)} {label}".replace(" ", NBSP) + mark(v.fix(ns[0]), c.pools)
                  for label, verified, ns in v.fix_groups(c))
        out.field("fix", "; ".join(groups))
        for n in dict.fromkeys(c.fixes):
            if warning := security_warning(v.fix(n)):
                out.field("warn", f"[{n}] {warning}", "yellow")
    for r in c.rejected:  # NOTE: a fix ruled out for several causes gives its reason once
        out.field("not offered:", f"{r.summary} (as above)" if r in shown else f"{r.summary}: {r.reason}", "dim")
        shown.add(r)


def numbers(ns: tuple[int, ...]) -> str:
    """Fix numbers as ``[2]-[7]`` for a run of three or more, else ``[2] [4]``."""
    runs: list[list[int]] = []
    for n in sorted(ns):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return " ".join(f"[{r[0]}]-[{r[-1]}]" if len(r) > 2 else " ".join(f"[{n}]" for n in r) for r in runs)


def headline(text: str, least: int = 16, quote_at: int = 40) -> str:
    """The first clause of a symptom, with `` ...`` when there is more (``--verbose`` shows the rest).

    The clause ends, outside quotes and parentheses, at the first ``:``, ``;`` or ``. `` past ``least``
    characters, or where a quoted message or a parenthesis starts past ``quote_at`` characters (an error
    text or an event's details: ``fails with X "An attempt was made..."`` gives ``fails with X ...``)."""
    depth, quoted = 0, False
    for i, ch in enumerate(text):
        more = i + 2 < len(text)
        if ch in "\"(" and not quoted and depth == 0 and i >= quote_at and text[i - 1] == " " and more:
            return text[:i - 1] + " ..."
        if ch == '"':
            quoted = not quoted
        elif ch in "([" and not quoted:
            depth += 1
        elif ch in ")]" and not quoted:
            depth = max(depth - 1, 0)
        elif (ch in ":;" or (ch == "." and text[i + 1:i + 2] == " ")) and not quoted and depth == 0 \
                and i >= least and text[i + 1:i + 2] == " " and more:
            return text[:i] + " ..."
    return text


def _wrap(text: str, width: int) -> list[str]:
    return wrap(text, max(width, 30))


def _alike(out: _Out, g: CauseGroup, listed: set[int]) -> None:
    """After the first cause of ``g`` (shown in full): how many more causes alike, the applications and pools
    they hit with the first few names, and how many of their fixes the list leaves out (not in ``listed``)."""
    f = g.first.first
    counts = [f"{len(g.places)} applications"] if g.places else []
    counts += [f"{len(g.pools)} pools"] if g.pools else []
    names = g.pools or g.places
    what = f"{file_name(f.binary) if f.binary else f.rule}{' in ' + ', '.join(counts) if counts else ''}"
    if names:
        what += f" ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
    more = len(set(g.fixes) - listed)
    fixes = f"; their {more} other fixes, of the same kinds, are not listed below" if more else ""
    out.field("and", f"{len(g.causes) - 1} more causes alike: {what}{fixes}; --verbose, --format{NBSP}json or "
                     f"--format{NBSP}html lists each")


def _fixes(out: _Out, v: ReportView, listed: set[int]) -> None:
    """Each distinct fix once: its commands (the finding's ``fix`` line names it), or its advice when it has
    none; ``verbose`` adds the full summary before the commands and the note after them. Only the fixes
    ``listed`` (those of the causes shown in full), then how many others there are."""
    ps = out.o.shell == "powershell"
    shells = "PowerShell" if ps else "cmd.exe; --shell powershell for PowerShell"
    out.line(("Fixes", "bold"), f" ({shells}{'' if out.o.verbose else '; --verbose for why'})")
    for n in v.fixes:
        if n.number not in listed:
            continue
        fix = n.fix
        lead = f"  [{n.number}] "
        width = out.o.width - len(lead)
        commands = fix.powershell if ps else fix.commands  # NOTE: never cmd.exe lines under --shell powershell
        rows: list[str | tuple[str, str]] = []
        if out.o.verbose or not commands:
            rows += _wrap(fix.summary + mark(fix), width)
        rows += [(c, "cyan") for c in commands]
        rows += [(w if i == 0 else "      " + w, "dim") for line in effect_lines(fix, brief=not out.o.verbose)
                 for i, w in enumerate(_wrap("also: " + line, width - 6))]
        if out.o.verbose and fix.note:
            rows += [(w, "dim") for w in _wrap(fix.note, width)]
        for i, row in enumerate(rows):
            out.line(lead if i == 0 else " " * len(lead), row)
    if len(listed) < len(v.fixes):
        k = len(v.fixes) - len(listed)
        out.line(f"  ... and {k} more fix{'es' if k != 1 else ''} of causes alike (--verbose, --format json or "
                 "--format html lists each)")


def _closing(v: ReportView, verbose: bool) -> str:
    text = closing_words(v)
    if v.report.findings and not verbose and not v.fixes:  # NOTE: else the Fixes heading says it
        text += " --verbose for why."
    return text


def render(report: Report, color: bool = False, width: int = 100, *, options: TextOptions | None = None) -> str:
    """The report as text; ANSI colours when ``color`` (``options``, when given, decides everything)."""
    o = options or TextOptions(color=color, width=width)
    v = view(report)
    out = _Out(o)
    s = report.server
    out.line((f"iisbitness {o.command}", "bold"), f" {s.image}")
    server = f"{s.kind.upper()}, OS {s.os_arch.value} ({s.os_arch_from})"
    if o.target:
        out.field("target", o.target)
    elif len(f"server {server}; config {s.config_file}") <= o.width:
        out.line(("server ", "dim"), server, ("; config ", "dim"), s.config_file)
    else:
        out.line(("server ", "dim"), server)
        out.line(("config ", "dim"), s.config_file)
    if s.config_only:
        # NOTE: "listed at the end" only where there is a list (binary-missing's could-not-check block below)
        listed_at_end = any(c.first.rule == "binary-missing" and c.first.severity is Severity.WARNING
                            and not c.first.fixes for c in v.causes)
        rest = "; the rest are listed at the end." if listed_at_end else "."
        if s.absent_from == "the image":
            out.field("note", "The image holds configuration files only: binary architectures are inferred from their "
                              f"folders where Windows decides them{rest}")
        else:  # NOTE: check-app's build folder: it holds the build, none of the binaries its configuration names
            out.field("note", f"{s.absent_from[0].upper()}{s.absent_from[1:]} holds none of the binaries its "
                              "configuration names: their architectures are inferred from "
                              f"their folders where Windows decides them{rest}")
    elif inferred := inferred_note(s):
        out.field("note", inferred)
    if s.shared_config:
        out.field("note", shared_config_words(s.shared_config))
    if s.iisexpress_config:
        out.field("note", "This is an IIS Express configuration read as a server's: its sites run in the iisexpress.exe "
                          "Visual Studio starts, not in the w3wp.exe of each pool shown below; scan the Visual Studio "
                          "solution folder with it (docs/iisexpress.md).")
    out.line()
    if s.kind == "iisexpress":  # NOTE: the pools are IIS Express's own; the projects block says which process runs what
        _projects(out, report)
    else:
        _pool_table(out, v)
    _not_checked(out, report)
    # NOTE: a binary-missing warning with nothing to do but give a copy is "could not check" (configuration-only
    # copy): listed briefly at the end; a binary-missing error (missing on the server), or a warning with fixes (the
    # image holds only the other architecture's build), is a cause like any other
    missing = [c for c in v.causes if c.first.rule == "binary-missing" and c.first.severity is Severity.WARNING
               and not c.first.fixes]
    # NOTE: past MANY causes alike (each site's own x86 copy), the first in full and a count; --verbose prints each
    entries = [e if isinstance(e, CauseGroup) else e[1] for e in cause_entries(v)] if not o.verbose else v.causes
    missed = {id(c) for c in missing}  # NOTE: by identity: a list's "in" compares each Cause field by field
    shown = [e for e in entries if id(e.first if isinstance(e, CauseGroup) else e) not in missed]
    hidden = {id(c) for e in shown if isinstance(e, CauseGroup) for c in e.causes[1:]}
    listed = {n for c in v.causes if id(c) not in hidden for n in c.fixes}
    if shown:
        out.line()
    rejected: set[RejectedFix] = set()
    for i, e in enumerate(shown):
        if i and o.verbose:  # NOTE: compact: each cause starts at column 0 with its severity (ruff's concise form)
            out.line()
        if isinstance(e, CauseGroup):
            _cause(out, v, e.first, rejected)
            _alike(out, e, listed)
        else:
            _cause(out, v, e, rejected)
    if missing:  # NOTE: counted as warnings in the closing line and the pool table: a block with its rule id
        out.line()
        out.line(("WARNING", _STYLE[Severity.WARNING]), " ", ("binary-missing", "bold"),
                 f"  not in {report.server.absent_from}, architecture unknown ({len(missing)}):")
        for c in missing:
            out.line("  ", (c.first.binary or "", "yellow"), ("  --> ", "blue"), str(c.config), f"  in {_where(c)}")
    if v.fixes:
        out.line()
        _fixes(out, v, listed)
    _problems(out, report)
    out.line()
    for w in wrap(_closing(v, o.verbose), max(o.width, 30)):
        out.line((w, "bold"))
    _server_findings(out, report)
    return out.render()


def _server_findings(out: _Out, report: Report) -> None:
    """check-app --server: the server's own findings in the worker that serves the application, one line each
    (severity, rule id, pool, binary), after the closing line, which counts the build's only."""
    for words, found in report.server_findings_groups():
        for w in wrap(words, max(out.o.width, 30)):
            out.line((w, "bold"))
        for f in found:
            where = f.pool or f"{f.process} {f.process_arch.value if f.process_arch else ''}".strip()
            out.line("  ", (f.severity.label, _STYLE[f.severity]), f" {f.rule}  {where}",
                     f"  {f.binary}" if f.binary else "", f"  --> {f.config}" if f.config else "")


NOT_CHECKED_SHOWN = 3
"""Applications the "Not checked" block lists by name; the rest are counted (the load map and JSON list each)."""


def _not_checked(out: _Out, report: Report) -> None:
    """Near the top: the applications not (fully) checked, why, and what to give, so that no reader takes the
    absence of findings about them for a clean bill (issue 20)."""
    gaps = report.unchecked()
    if not gaps:
        return
    out.line()
    width = max(out.o.width, 40)
    # NOTE: wrapped like the rest of the prose ("nothing checked: ..." is longer than any width)
    head = wrap(f"Coverage: {report.coverage_words()}; no finding about what was not read means nothing:", width,
                "", "  ")
    out.line(("Coverage", "bold yellow"), head[0][len("Coverage"):])
    for w in head[1:]:
        out.line(w)
    for c in gaps[:NOT_CHECKED_SHOWN]:
        part = " (partly)" if c.status is CoverageStatus.PARTLY else ""
        rows = [(f"{c.application}{part}: {'; '.join(c.reasons)}", "")]
        if c.remedy:
            rows.append((f"give: {c.remedy}", "dim"))
        for text, style in rows:
            for i, w in enumerate(_wrap(text, width - 4)):
                out.line("  " if i == 0 and style == "" else "    ", (w, style))
    if len(gaps) > NOT_CHECKED_SHOWN:
        out.line(f"  ... and {len(gaps) - NOT_CHECKED_SHOWN} more (--loads or --format json lists each)")


def _projects(out: _Out, report: Report) -> None:
    """IIS Express: which iisexpress.exe runs each Visual Studio project, and how that was decided."""
    out.line(("Visual Studio projects", "bold"), " (each runs in its own iisexpress.exe):")
    if not report.projects:
        out.field("", "none of the configuration's sites is a project in this folder (see below)")
    for p in report.projects:
        out.field("", f"{p.name} ({p.project_file}, site '{p.site}'): iisexpress.exe {p.arch.value}"
                      f"{' (assumed)' if p.assumed else ''}, {p.process}")
        out.field("", f"  because: {p.reason}", "dim")
        if p.output:
            out.field("", f"  app analysed: {p.output}", "dim")


def _problems(out: _Out, report: Report) -> None:
    """The problems met reading the server: first those IIS itself refuses (``Problem.refused``: what it then does,
    under their own heading, so that they do not read as the scan's own difficulty), then the others."""
    refused = [p for p in report.problems if p.refused]
    for title, problems in (("IIS refuses", refused), ("Could not read", [p for p in report.problems if not p.refused])):
        if not problems:
            continue
        out.line()
        out.line((title, "bold"), f" ({len(problems)}):")
        for pr in problems[:50]:
            out.field("", f"{pr.where}: {pr.message}")
        if len(problems) > 50:
            out.line(f"  ... and {len(problems) - 50} more (see --format json)")
    if report.events_read is not None:
        _events(out, report)


def _events(out: _Out, report: Report) -> None:
    """What the event logs show (:func:`event_lines`), and silence said: how many events were read."""
    n = report.events_read or 0
    lines = event_lines(report)
    out.line()
    about = sum(e.bitness for e in lines)
    other = f", {len(lines) - about} about another problem" if len(lines) > about else ""
    out.line(("Event log", "bold"), f" ({n} event{'s' if n != 1 else ''} read, {about} about bitness{other}):")
    if not about:
        out.field("", "none is about bitness: the log neither confirms nor contradicts a finding (a finding may "
                      "still be real: its pool may not have started since the log began)")
    # NOTE: a log repeats one event (29 ANCM 1007 in an App Service export): one line for them, first and last time
    alike: dict[tuple[str, int, str], list[str]] = {}
    for e in lines:
        alike.setdefault((e.provider, e.event_id, e.tag), []).append(e.time)
    for (provider, event_id, tag), times in alike.items():
        when = times[0] if len(times) == 1 else f"{min(times)} to {max(times)}, {len(times)} events:"
        out.field("", f"{when} {provider} {event_id}: {tag}")
