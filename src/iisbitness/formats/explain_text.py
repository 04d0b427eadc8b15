"""``iisbitness explain`` text output (rich): what each signal means, ranked causes, events, next steps.

Shape: ``render(report, width=100, color=False) -> str``. Reads only the
:class:`~iisbitness.explain.report.ExplainReport`. Order: causes (one ranked table: bitness causes with the
scan rule id and a calibrated confidence worded ``high`` / ``possible`` / ``unlikely``, and "not bitness"
rows saying what the problem is instead), each
recognised signal (meaning, evidence, causes, sources), the recognised events with each one's verdict
(:func:`~iisbitness.explain.report.event_verdict`, as ``scan --event-log`` shows it), problems reading logs,
next steps. An unrecognised input renders one plain sentence saying so. Never raises.
"""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from iisbitness.explain.codes import Confidence, format_code
from iisbitness.explain.kb import Specificity
from iisbitness.explain.match import Signal
from iisbitness.explain.report import EventHit, ExplainReport, Explanation, OtherCause, RankedCause
from iisbitness.formats.table import printable

__all__ = ["NEXT_STEPS", "UNRECOGNISED", "render"]

UNRECOGNISED = ("Nothing recognised: the input shows none of the error codes, messages, event ids or HTTP "
                "statuses iisbitness knows as bitness symptoms (see docs/explain.md for the list).")
NEXT_STEPS = "Next steps (commands for cmd.exe on the server; CAPITALS are placeholders):"
"""The knowledge base's commands are cmd.exe forms (%VAR%, ``<``), which PowerShell does not expand: said once."""
_MAX_EVENTS = 50
_BITNESS_WORD = {Confidence.HIGH: "high", Confidence.MEDIUM: "possible", Confidence.LOW: "unlikely"}
"""How a bitness cause's calibrated confidence reads (issue 15: "possible" = not architecture-specific)."""


def _causes(report: ExplainReport) -> Table:
    table = Table(title="Likely causes (best first)", title_justify="left", expand=True)
    table.add_column("#", justify="right", width=3)
    table.add_column("scan rule", no_wrap=True)
    table.add_column("confidence", no_wrap=True)
    table.add_column("what it is", overflow="fold")
    items: list[RankedCause | OtherCause] = sorted([*report.causes, *report.others], key=lambda c: c.rank)
    for cause in items:
        if isinstance(cause, OtherCause):
            table.add_row(str(cause.rank), f"{_NOT_BITNESS_LABEL[cause.usual]} ({cause.entry_id})",
                          cause.confidence.label, escape(f"{_NOT_BITNESS_WORDS[cause.usual]}: {cause.what}"))
        else:
            table.add_row(str(cause.rank), cause.rule, _BITNESS_WORD[cause.confidence],
                          escape(report.rules.get(cause.rule, "")))
    return table


_NOT_BITNESS_LABEL = {False: "not bitness", True: "usually not bitness"}
_NOT_BITNESS_WORDS = {False: "this is not a bitness problem", True: "most often this is not a bitness problem"}
"""An entry's usual reading (500.30: the app's start-up exception) leaves bitness possible (issue 23)."""


def _seen(s: Signal) -> str:
    """One ``seen`` line: how and how surely the signal was read, where, its evidence and code."""
    where = f"line {s.line}: " if s.line else ""
    extra = f"  [{s.detail}]" if s.detail else ""
    code = f" -> {format_code(s.code)}" if s.code is not None else ""
    return f"  seen ({s.via.value}, {s.confidence.label}): {where}{s.evidence}{code}{extra}"


def _explanation(x: Explanation) -> Panel:
    lines: list[RenderableType] = [Text(x.entry.meaning)]
    if x.entry.not_bitness:
        lines.append(Text(f"  {_NOT_BITNESS_WORDS[x.entry.usual]}: {x.entry.not_bitness}", style="bold"))
    # NOTE: a log repeats one event (29 ANCM 1007 in an App Service export): one line for each, with how often
    seen = Counter(_seen(s) for s in x.signals)
    for line, times in list(seen.items())[:5]:
        lines.append(Text(printable(line + (f" ({times} times)" if times > 1 else "")), style="dim"))
    if len(seen) > 5:
        lines.append(Text(f"  ... and {len(seen) - 5} more", style="dim"))
    for n, c in enumerate(x.causes, 1):
        lines.append(Text(f"  {n}. {c.rule}: {c.why}"))
    lines.append(Text("  sources: " + "; ".join(f"[{s.key}] {s.ref}" for s in x.entry.sources), style="dim"))
    for step in x.entry.read_next:
        lines.append(Text(f"  read next: {step.how}: {step.command}"))
    if x.entry.unconfirmed:
        lines.append(Text(f"  UNCONFIRMED: {x.entry.unconfirmed}", style="yellow"))
    spec = x.specificity.value
    sure = "" if x.specificity is Specificity.NOT_BITNESS else f", bitness {_BITNESS_WORD[x.bitness_confidence]}"
    title = escape(f"{x.entry.title}  [{x.confidence.label}; {spec}{sure}]")
    return Panel(Group(*lines), title=title, title_align="left")


def _reading(hit: EventHit) -> str:
    """How one event reads (the verdict ``scan --event-log`` shows for it too): ``bitness, high: RULE`` or
    ``not bitness, high: ENTRY`` (``usually not bitness`` for an entry's usual reading)."""
    v = hit.verdict
    if v is None:
        return "overridden"
    what = "bitness" if v.bitness else _NOT_BITNESS_LABEL[v.usual]
    return f"{what}, {v.confidence.label}: {v.lead}"


def _events(report: ExplainReport) -> Table:
    about = sum(1 for h in report.events if h.verdict is not None and h.verdict.bitness)
    table = Table(title=f"Recognised events ({len(report.events)}, {about} about bitness)", title_justify="left",
                  expand=True)
    for col in ("time", "source", "id", "reads as / message", "binary / pool"):
        table.add_column(col, overflow="fold")
    for hit in report.events[:_MAX_EVENTS]:
        ev = hit.event
        code = f" (data {format_code(ev.error_code)})" if ev.error_code is not None else ""
        named = ev.binary or (f"pool {ev.pool}" if ev.pool else "")
        table.add_row(printable(ev.time or "?"), escape(printable(ev.source_name)), str(ev.event_id),
                      escape(f"[{_reading(hit)}] ") + escape(printable(ev.message[:300])) + code,
                      escape(printable(named)))
    return table


def render(report: ExplainReport, width: int = 100, color: bool = False) -> str:
    """The report as text (ANSI colours only when ``color``)."""
    console = Console(width=width, record=True, color_system="standard" if color else None,
                      force_terminal=color, file=io.StringIO())
    if not report.recognised:
        console.print(UNRECOGNISED)
        for i in report.inputs:  # NOTE: "nothing" over a log must show that, and how much of it, was read
            if i.kind == "event-log" and i.events_read is not None:
                n = i.events_read
                console.print(Text(printable(f"{i.name}: {n} event{'s' if n != 1 else ''} read"
                                             + (f" ({i.format})" if i.format else "") + ", none a bitness symptom")))
    else:
        console.print(_causes(report))
        for x in report.explanations:
            console.print(_explanation(x))
        if report.events:
            console.print(_events(report))
            if len(report.events) > _MAX_EVENTS:
                console.print(f"... {len(report.events) - _MAX_EVENTS} more events (use --format json)")
    for p in report.problems:
        console.print(Text(f"problem reading {p.path}: {p.message}", style="yellow"))
    if report.next_steps:
        console.print(Text(NEXT_STEPS, style="bold"))
        for s in report.next_steps:
            console.print(Text(f"  - {s.how}:"))
            console.print(Text(f"      {s.command}"), soft_wrap=True)  # NOTE: commands stay copyable
    return console.export_text(styles=color)

