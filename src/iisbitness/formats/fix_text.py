"""Text output of ``iisbitness fix``: the plan, the equivalent commands, and a unified diff of
every configuration file it changes (or changed, with ``--apply``)."""

from __future__ import annotations

import difflib

from iisbitness.errors import FixError
from iisbitness.findings import Finding
from iisbitness.fixes.plan import FileChange
from iisbitness.fixes.text import Text
from iisbitness.formats.causes import effect_lines, removal, security_warning, shared_config_words, view
from iisbitness.formats.table import wrap
from iisbitness.model.iis7 import without_secrets
from iisbitness.scan.fix import FixPlan


def _where(f: Finding) -> str:
    parts = [f"pool '{f.pool}'" if f.pool else "", f"{f.site}{f.application or ''}" if f.site else ""]
    return ", ".join(p for p in parts if p) or "server"


def _lines(data: bytes, shown: str) -> list[str]:
    try:
        text = Text.decode(data, shown).text
    except FixError:
        text = data.decode("utf-8", "replace")
    return [line.rstrip("\r") for line in text.split("\n")]


def unified_diff(change: FileChange) -> str:
    """A unified diff of one file change (line endings not shown; they are kept in the file), every secret attribute
    shown as :func:`~iisbitness.model.iis7.without_secrets` shows it: a split pool copies its old pool's password
    into the file, never into a report. The headers are ``a/`` and ``b/`` and the file as shown without its leading
    slashes (a shared configuration's ``//fs01/IISConfig/applicationHost.config`` as ``a/fs01/IISConfig/...``: ``a///``
    reads as an absolute path to ``patch -p1`` and ``git apply``)."""
    name = change.shown.lstrip("/\\")
    diff = difflib.unified_diff(_lines(change.before, change.shown), _lines(change.after, change.shown),
                                "a/" + name, "b/" + name, lineterm="")
    return without_secrets("\n".join(diff) + "\n")


def render(plan: FixPlan, applied: bool, shell: str = "cmd", width: int = 100,
           refused: tuple[str, ...] | None = None) -> str:
    """The plan as text: the findings not shown (``--select``/``--ignore``, ``--baseline``: :meth:`~iisbitness.report.
    Report.hidden_words`), chosen fixes (numbered ``[N]`` as ``scan`` numbers them, with what each takes out of which
    pools' workers, :func:`~iisbitness.formats.causes.removal`, and the finding it clears,
    numbered as in JSON), the coverage when an application was not (fully) checked, what they clear, what is left, their side effects all together, commands (``shell``
    ``cmd`` or ``powershell``), then the diffs. Prose wraps at ``width`` between words; commands and diffs never
    wrap.

    ``refused``: ``--apply`` was refused (the refusal itself goes to stderr); the files it names were left
    with the new content (they could not be put back), every other file is as it was."""
    out: list[str] = []
    r = plan.report
    v = view(r)

    def para(text: str, first: str = "  ", rest: str = "      ") -> None:
        out.extend(wrap(text, max(width, 40), first, rest))

    k = len(r.findings)
    para(f"iisbitness fix {r.server.image}  ({r.server.kind}, {k} finding{'s' if k != 1 else ''})", "", "  ")
    if r.hidden_words():  # NOTE: as scan's closing line: a selection or a baseline never reads as a clean server
        para(r.hidden_words(), "", "  ")
    if not plan.chosen:
        out.append("No verified fix to make for the chosen findings.")
    if r.checked_nothing() or r.unchecked():
        # NOTE: "no fix to make" over applications not (fully) read is not "all is well" (as scan's Coverage line)
        para(f"Coverage: {r.coverage_words()}; no finding about what was not read means nothing (see scan)", "", "  ")
    for ch in plan.chosen:
        n = v.number(ch.fix)
        # NOTE: what the fix takes out of workers on the line that is approved, as scan says it (verification's
        # load maps before and after, this fix alone), not only in the side effects of all the fixes below
        removed = removal(ch.fix)
        para(f"[{n}] {ch.fix.summary}" + (f" (but {removed})" if removed else "")
             + f"  (finding {ch.number} {ch.finding.rule}, {_where(ch.finding)})")
    chosen = {c.number for c in plan.chosen}
    also = [n for n in plan.cleared if n not in chosen and not r.findings[n - 1].binary_not_checked]
    if also:
        para("these fixes also clear finding" + "s" * (len(also) > 1) + " " + ", ".join(str(n) for n in also))
    # NOTE: a warning about a file the scan could not check is not fixed, it stops applying: said once, not also as
    # "not fixed: ... not checked, so nothing to fix" (audit8 G9)
    moot = [n for n in plan.cleared if n not in chosen and r.findings[n - 1].binary_not_checked]
    if moot:
        many = len(moot) > 1
        para(f"finding{'s' * many} {', '.join(str(n) for n in moot)} no longer appl{'y' if many else 'ies'} after "
             f"these fixes: the scan could not check {'their files' if many else 'its file'}, which "
             f"{'their workers' if many else 'its worker'} no longer look{'' if many else 's'} for there")
    for left in plan.left:
        para(f"not fixed: finding {left.number} {left.finding.rule} ({_where(left.finding)}): {left.reason}")
    if plan.changes and r.server.shared_config:
        # NOTE: every farm node whose redirection.config names the share runs the file written: a side effect on
        # servers whose binaries this scan never read
        para(f"WARNING: {shared_config_words(r.server.shared_config)}", "", "  ")
    if plan.side_effects:
        out.append("")
        out.append("Side effects (these fixes together; the load map before and after):")
        for line in effect_lines(plan.side_effects):
            para(line, "  ", "    ")
        if warning := security_warning(plan.side_effects):
            para(f"WARNING: {warning}")
    commands = plan.powershell if shell == "powershell" else plan.commands
    if commands:
        out.append("")
        out.append("Equivalent commands (an elevated PowerShell on the server):" if shell == "powershell" else
                   "Equivalent commands (an elevated cmd.exe on the server; --shell powershell for PowerShell):")
        out.extend(f"  {c}" for c in commands)
    for change in plan.changes:
        out.append("")
        out.append(f"{change.shown}:")
        out.extend(f"  {c}" for c in change.changes)
        out.append(unified_diff(change).rstrip("\n"))
    out.append("")
    if refused is not None:
        out.append("Not applied: nothing written (the reason follows)." if not refused else
                   f"Not applied, but {', '.join(refused)} could not be put back and "
                   f"{'holds' if len(refused) == 1 else 'hold'} the new content (the reason follows); "
                   "every other file is as it was.")
    elif applied and plan.changes:
        out.append(f"Written: {len(plan.changes)} file(s), each with a timestamped backup beside it.")
    elif applied:
        out.append("Nothing to write.")
    elif plan.changes:
        out.append("Dry run: nothing written. Run again with --apply to write these changes; add "
                   f"--plan {plan.plan_id} to write exactly these (refused, exit 3, if a file or a fix changed since).")
    return "\n".join(out) + "\n"
