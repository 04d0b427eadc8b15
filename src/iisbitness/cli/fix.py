"""``iisbitness fix [IMAGE]``: plan the verified fixes (a dry run with diffs), or ``--apply`` them.

Exit codes (:mod:`iisbitness.cli.exitcodes`): 0 planned, or applied and a second scan shows every
targeted finding gone; 1 applied but a second scan still shows a targeted finding; 2 the input
could not be read; 3 refused, nothing written (a file changed since it was read, an element moved, a file
cannot be written: every file already replaced is put back from its backup; in the rare case that one
cannot be put back, the message names it and the backup holding its original).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import click

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.cli.exitcodes import EXIT_FINDINGS, EXIT_FIX_REFUSED, EXIT_INPUT_ERROR, EXIT_OK
from iisbitness.cli.options import (
    ScanProgress,
    drive_option,
    env_option,
    json_option,
    os_arch_option,
    output_and_shell_options,
    parse_drives,
    parse_env,
    parse_shares,
    progress_wanted,
    share_option,
    text_width,
)
from iisbitness.cli.scan import _fatal, check_image, say_checked_nothing, write_out
from iisbitness.cli.selection import chosen_rules, rule_options
from iisbitness.errors import FixError, IisBitnessError
from iisbitness.fixes.write import WriteRefused, Written
from iisbitness.formats import fix_json, fix_text
from iisbitness.formats.causes import removal, view
from iisbitness.scan.baseline import read_baseline
from iisbitness.scan.fix import FixPlan, apply_fix, plan_fix, pool_actions
from iisbitness.scan.pipeline import wants_iisexpress


@click.command("fix")
@click.argument("image", required=False, type=click.Path(path_type=Path))
@click.option("--fix", "fix_numbers", multiple=True, type=click.IntRange(min=1), metavar="N",
              help="Make fix [N] as `scan` numbers it (text [N], HTML, JSON and SARIF `number`; repeatable).")
@click.option("--finding", "numbers", multiple=True, type=click.IntRange(min=1), metavar="N",
              help="Fix only finding N (its `number` in `scan --format json`, SARIF `findingNumber`; repeatable).")
@rule_options("As scan --select: fix only findings of these rules (and number as that scan)",
              "As scan --ignore: leave findings of these rules alone")
@click.option("--rule", "rules", multiple=True, hidden=True, metavar="ID[,ID...]", help="Old name of --select.")
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="As scan --baseline: leave out the findings it accepts.")
@click.option("--apply", "apply_", is_flag=True, help="Write the changes (default: a dry run showing them).")
@click.option("--plan", "plan_id", metavar="ID",
              help="With --apply: write only the plan the dry run showed as ID; refuse (exit 3) when a file or a "
                   "fix changed since.")
@click.option("--recycle", is_flag=True,
              help="Live server only: after --apply, recycle each pool touched (start it if it is stopped).")
@os_arch_option
@drive_option
@share_option
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              help="Read (and with --apply, write) this applicationHost.config (or IIS 6 MetaBase.xml) instead of "
                   "the image's.")
@env_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format (json: schema iisbitness/fix/1, see docs/fix.md).")
@json_option
@output_and_shell_options
@click.option("-q", "--quiet", is_flag=True, help="No progress display on stderr.")
def fix_command(image: Path | None, fix_numbers: tuple[int, ...], numbers: tuple[int, ...], select: tuple[str, ...],
                ignore: tuple[str, ...], rules: tuple[str, ...], baseline: Path | None, apply_: bool,
                plan_id: str | None, recycle: bool,
                os_arch: str | None, drives: tuple[str, ...], shares: tuple[str, ...], config: Path | None, env: tuple[str, ...], fmt: str,
                output: Path | None, shell: str, quiet: bool) -> None:
    """Apply verified fixes to a server image (or, on Windows, the live server).

    Default is a dry run: the plan and a unified diff of every configuration file it would change.
    Only fixes that re-analysis verified, alone and all together, are taken. --apply writes them:
    only the changed attributes and elements, a timestamped backup beside each file, an atomic
    replace, and a refusal when a file changed since it was read; with --plan ID (printed by the
    dry run), a refusal when what it would write is not what the dry run showed.

    \b
    Examples:
      iisbitness fix /mnt/server-c
      iisbitness fix /mnt/server-c --select global-module-arch --shell powershell
      iisbitness fix /mnt/server-c --fix 1 --apply

    \b
    Exit codes: 0 planned (or applied, and a second scan shows the targeted
                findings gone); 1 applied, but a second scan still shows one;
                2 the input could not be read (also: not one application
                could be listed, so nothing was checked); 3 nothing written
                (a file changed since it was read, or cannot be written, or
                the plan is not the --plan ID reviewed).
    """
    check_image(image, None, "fix", config_alone=False)
    if recycle and (image is not None or not apply_):
        _fatal("--recycle needs --apply on the live server (no IMAGE)")
    if plan_id is not None and not apply_:
        _fatal("--plan ID goes with --apply (the dry run prints the ID of what it shows)")
    # NOTE: the scan, then verifying the fixes together, can take minutes on a large server: say where it is
    progress = ScanProgress(progress_wanted(quiet))
    options = ScanOptions(os_arch=Arch(os_arch) if os_arch else None, drives=parse_drives(drives), shares=parse_shares(shares), env=parse_env(env),
                          config=config, rules=chosen_rules(select + rules, ignore), progress=progress.stage,
                          on_read=progress.read)
    if image is not None and image.is_dir() and wants_iisexpress(image, options):
        # NOTE: scan reads the folder as IIS Express's and offers fixes; fix writes no solution (docs/iisexpress.md):
        # "not a server image, give the folder that stands for C:\" sent a developer looking for one (user audit)
        _fatal(f"{image}: a Visual Studio solution or project folder (IIS Express): fix does not write a solution's "
               f"files; make the change the fixes of 'iisbitness scan {image}' name (<Use64BitIISExpress> in the "
               "project file, \"use64Bit\" in Properties/launchSettings.json, ...) in Visual Studio or by hand "
               "(docs/iisexpress.md)")
    width = _width(output)
    try:
        with progress.shown():
            plan = plan_fix(image, options, (), numbers, fix_numbers,
                            numbering=lambda report: [n.fix for n in view(report).fixes],
                            accepted=read_baseline(baseline) if baseline is not None else None)
    except FixError as e:
        click.echo(f"iisbitness: fix refused: {e}", err=True)
        sys.exit(EXIT_FIX_REFUSED)
    except IisBitnessError as e:
        _fatal(str(e))
    if not apply_:
        write_out(_render(plan, fmt, False, shell, width), output)
        sys.exit(EXIT_INPUT_ERROR if say_checked_nothing([plan.report]) else EXIT_OK)
    if say_checked_nothing([plan.report]):  # NOTE: no fix to write, and "nothing to fix" would say all is well
        write_out(_render(plan, fmt, False, shell, width), output)
        sys.exit(EXIT_INPUT_ERROR)
    if plan_id is not None and plan_id.strip().lower() != plan.plan_id:
        write_out(_render(plan, fmt, False, shell, width, refused=()), output)
        click.echo(f"iisbitness: fix refused: the plan is now {plan.plan_id}, not {plan_id.strip()} (the one reviewed): "
                   "a configuration file or the fixes changed since that dry run; nothing written. Review the plan "
                   "above and run again with --plan " + plan.plan_id, err=True)
        sys.exit(EXIT_FIX_REFUSED)
    try:
        written = apply_fix(plan)
    except FixError as e:
        write_out(_render(plan, fmt, False, shell, width, refused=e.written if isinstance(e, WriteRefused) else ()),
                  output)
        click.echo(f"iisbitness: fix refused: {e}", err=True)
        sys.exit(EXIT_FIX_REFUSED)
    ran = pool_actions(plan) if recycle else []
    try:
        again = ScanProgress(progress_wanted(quiet))
        with again.shown():
            again.stage("second scan: reading configuration")
            after = scan(image, replace(options, progress=lambda m: again.stage(f"second scan: {m}"),
                                        on_read=again.read))
    except IisBitnessError as e:  # NOTE: the files are written: say which, and their backups, in either format
        write_out(_applied(plan, fmt, shell, width, written, ran, None), output)
        click.echo(f"iisbitness: error: the second scan failed: {e}", err=True)
        sys.exit(EXIT_INPUT_ERROR)
    targeted = {c.finding.key for c in plan.chosen}
    still = [f for f in after.findings if f.key in targeted]
    write_out(_applied(plan, fmt, shell, width, written, ran, (len(after.findings), len(still))), output)
    sys.exit(EXIT_FINDINGS if still else EXIT_OK)


def _applied(plan: FixPlan, fmt: str, shell: str, width: int, written: Sequence[Written],
             ran: Sequence[Sequence[str]], second_scan: tuple[int, int] | None) -> str:
    """The output after ``--apply``: the plan, each file written with its backup, the pool commands run, and
    ``second_scan`` (``(findings, targeted findings left)``; None: the second scan failed)."""
    if fmt == "json":
        return fix_json.render(plan, True, written, second_scan)
    text = fix_text.render(plan, applied=True, shell=shell, width=width)
    text += "".join(f"  {w.shown}: backup {w.backup.name}\n" for w in written)
    text += "".join("ran: " + " ".join(cmd) + "\n" for cmd in ran)
    if second_scan is None:
        return text
    found, still = second_scan
    removed = removal(plan.side_effects)
    return text + (f"Second scan: {found} findings; "
                   + (f"{still} targeted finding(s) still there" if still else "every targeted finding is gone")
                   + (f"; but {removed.replace(' then run', ' now run')} (side effects above)." if removed else ".")
                   + "\n")


def _width(output: Path | None) -> int:
    """The terminal's width, else COLUMNS, else 100 (as scan's text)."""
    return text_width(terminal=output is None and sys.stdout.isatty())


def _render(plan: FixPlan, fmt: str, applied: bool, shell: str, width: int,
            refused: tuple[str, ...] | None = None) -> str:
    """The plan in ``fmt``; ``refused``: as :func:`iisbitness.formats.fix_text.render` (text only: JSON's
    ``applied`` is false and the refusal goes to stderr)."""
    if fmt == "json":
        return fix_json.render(plan, applied)
    return fix_text.render(plan, applied, shell, width, refused=refused)
