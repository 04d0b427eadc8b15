"""``scan --loads``: the load map as text, one block per process, one line per binary (never cut)."""

from __future__ import annotations

from iisbitness.formats.table import printable
from iisbitness.report import LoadEntry, Report

_MARK = {"loads": "ok  ", "cannot-load": "FAIL", "missing": "MISS", "invalid": "BAD ", "unknown": "?   ",
         "skipped": "skip"}


def _process(e: LoadEntry) -> str:
    """The heading of ``e``'s process, as :meth:`iisbitness.loadplan.plan.Process.describe` words it."""
    bits = "32-bit" if e.process_arch.value == "x86" else "64-bit"
    site = f" of site '{e.process_site}' in" if e.process_site is not None else " of"
    who = f"{e.process}{site} pool '{e.pool}'" if e.pool else e.process
    return f"{who} ({e.process_arch.value}, {bits})"


def render(reports: list[Report]) -> str:
    """Every map in ``reports``; each entry on one line with its verdict, architecture, path and config line."""
    out: list[str] = []
    for r in reports:
        entries = r.loads or ()
        out.append(f"Load map of {r.server.image} ({r.server.kind}, OS {r.server.os_arch.value}): "
                   f"{len(entries)} entries")
        current = None
        for e in entries:
            header = _process(e)
            if header != current:
                out.append("")
                out.append(header)
                current = header
            arch = ",".join(a.value for a in e.binary_arch) or "-"
            where = f"{e.site}{e.application or ''}" if e.site else "server"
            path = e.resolved or e.windows_path or e.configured or "-"
            out.append(f"  {_MARK[e.verdict.value]} {e.kind:<15} {e.name} [{arch}] {path}  ({where}; {e.config})")
            out.append(f"       {e.verdict.value}: {e.reason}")
        out.append("")
    return "\n".join(printable(line) for line in out)
