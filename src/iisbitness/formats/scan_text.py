"""Text output for scan: grouped by pool, then site/application, then finding; a summary line.

Colours only when asked (a terminal). Missing binaries whose architecture cannot be inferred are
listed compactly at the end, one line each, so a configuration-only image stays readable.
"""

from __future__ import annotations

import io
from itertools import groupby

from rich.console import Console
from rich.markup import escape

from iisbitness.findings import Finding, Severity
from iisbitness.report import Report

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTE: "cyan"}


def _finding(con: Console, f: Finding) -> None:
    style = _STYLE[f.severity]
    where = f" {escape(f.site or '')}{escape(f.application or '')}" if f.site else ""
    con.print(f"  [{style}]{f.severity.label.upper()}[/] [bold]{f.rule}[/]{where}")
    if f.binary:
        arch = ", ".join(a.value for a in f.binary_arch) or "?"
        inferred = " (inferred)" if f.evidence.value == "inferred" else ""
        con.print(f"    binary:  {escape(f.binary)} [dim]-> {escape(f.resolved or 'not in image')}[/] \\[{arch}{inferred}]")
    if f.chain:
        con.print(f"    chain:   {escape(' -> '.join(f.chain))}")
    if f.config:
        con.print(f"    config:  {escape(str(f.config))}")
    con.print(f"    symptom: {escape(f.symptom)}")
    con.print(f"    cause:   {escape(f.cause)}")
    for i, fix in enumerate(f.fixes, 1):
        mark = " [green](verified)[/]" if fix.verified else ""
        con.print(f"    fix {i}:   {escape(fix.summary)}{mark}")
        for c in fix.commands:
            con.print(f"             [cyan]{escape(c)}[/]")
        if fix.powershell:
            con.print("             [dim]PowerShell:[/]")
            for c in fix.powershell:
                con.print(f"             [cyan]{escape(c)}[/]")
        if fix.note:
            con.print(f"             [dim]{escape(fix.note)}[/]")
    for r in f.rejected_fixes:
        con.print(f"    [dim]not offered: {escape(r.summary)}: {escape(r.reason)}[/]")


def _iisexpress_block(con: Console, report: Report) -> None:
    """IIS Express: which iisexpress.exe runs each Visual Studio project, and how that was decided."""
    con.print()
    con.print("[bold]Visual Studio projects[/] (each runs in its own iisexpress.exe):")
    if not report.projects:
        con.print("  none of the configuration's sites is a project in this folder (see below)")
    for p in report.projects:
        assumed = " [yellow](assumed)[/]" if p.assumed else ""
        con.print(f"  {escape(p.name)} ({escape(p.project_file)}, site '{escape(p.site)}'): iisexpress.exe "
                  f"{p.arch.value}{assumed} {escape(p.process)}")
        con.print(f"    [dim]because: {escape(p.reason)}[/]")
        if p.output:
            con.print(f"    [dim]app analysed: {escape(p.output)}[/]")


def _iisexpress_header(con: Console, report: Report, pool_name: str | None) -> None:
    runs = [p for p in report.projects if p.pool == pool_name]
    if not runs:
        con.print("[bold]Server-wide[/]")
    for p in runs:
        con.print(f"[bold]Project '{escape(p.name)}'[/]: iisexpress.exe {p.arch.value}"
                  f"{' (assumed)' if p.assumed else ''}, pool '{escape(p.pool)}'")


def render(report: Report, color: bool = False, width: int = 120) -> str:
    """The report as text; ANSI colours when ``color``."""
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False, soft_wrap=True)
    s = report.server
    con.print(f"[bold]iisbitness scan[/] {escape(s.image)}  ({s.kind}, OS {s.os_arch.value}: {escape(s.os_arch_from)})")
    con.print(f"configuration: {escape(s.config_file)}")
    if s.config_only:
        con.print("[dim]The image holds configuration files only: binary architectures are inferred from their "
                  "folders where Windows decides them; the rest are listed at the end.[/]")
    if report.server.kind == "iisexpress":
        _iisexpress_block(con, report)
    missing = [f for f in report.findings if f.rule == "binary-missing"]
    main = [f for f in report.findings if f.rule != "binary-missing"]
    pools = {p.name: p for p in report.pools}
    for pool_name, group in groupby(main, key=lambda f: f.pool):
        con.print()
        p = pools.get(pool_name or "")
        if report.server.kind == "iisexpress":
            _iisexpress_header(con, report, pool_name)
        elif p is not None:
            con.print(f"[bold]Pool '{escape(p.name)}'[/]: w3wp.exe {p.worker_arch.value} "
                      f"(enable32BitAppOnWin64={str(p.enable_32bit_app_on_win64).lower()} from {p.enable_32bit_from}; "
                      f"runtime {p.managed_runtime_version or 'No Managed Code'}, {p.pipeline_mode})")
        else:
            con.print("[bold]Server-wide and IIS Manager[/]")
        for f in group:
            _finding(con, f)
    if missing:
        con.print()
        con.print(f"[bold]Not in the image[/] ({len(missing)}; architecture not inferable from the folder):")
        for f in missing:
            con.print(f"  [yellow]WARNING[/] binary-missing {escape(f.binary or '')}  [dim]{escape(str(f.config))}[/]")
    if report.problems:
        con.print()
        con.print(f"[bold]Could not read[/] ({len(report.problems)}):")
        for pr in report.problems[:50]:
            where = f"{pr.file}:{pr.line}" if pr.line else pr.file
            con.print(f"  {escape(where)}: {escape(pr.message)}")
        if len(report.problems) > 50:
            con.print(f"  ... and {len(report.problems) - 50} more (see --format json)")
    if report.observations:
        con.print()
        con.print("[bold]Event log[/]:")
        for o in report.observations:
            tag = f"confirms finding {o.finding_index + 1}" if o.finding_index is not None else "[yellow]no finding explains it[/]"
            con.print(f"  {escape(o.time)} {escape(o.provider)} {o.event_id}: {tag}")
    c = report.counts()
    con.print()
    active = [p for p in report.pools if not p.idle]
    if report.server.kind == "iisexpress":
        con.print(f"[bold]Summary:[/] {c['error']} error(s), {c['warning']} warning(s), {c['note']} note(s) in "
                  f"{len(report.projects)} project(s)")
    else:
        con.print(f"[bold]Summary:[/] {c['error']} error(s), {c['warning']} warning(s), {c['note']} note(s) in "
                  f"{len(active)} active pool(s) of {len(report.pools)}")
    return buf.getvalue()
