"""``iisbitness fix [IMAGE]``: plan the verified fixes (a dry run with diffs), or ``--apply`` them.

Exit codes (:mod:`iisbitness.cli.exitcodes`): 0 planned, or applied and a second scan shows every
targeted finding gone; 1 applied but a second scan still shows a targeted finding; 2 the input
could not be read; 3 refused, nothing written (a file changed since it was read, an element moved, a file
cannot be written: every file already replaced is put back from its backup; in the rare case that one
cannot be put back, the message names it and the backup holding its original).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.cli.exitcodes import EXIT_FINDINGS, EXIT_FIX_REFUSED, EXIT_INPUT_ERROR, EXIT_OK
from iisbitness.cli.scan import _drives, _env, _fatal
from iisbitness.cli.selection import chosen_rules
from iisbitness.errors import FixError, IisBitnessError
from iisbitness.fixes.write import WriteRefused
from iisbitness.formats import fix_text
from iisbitness.formats.causes import removal, view
from iisbitness.rules import RULES
from iisbitness.scan.baseline import read_baseline
from iisbitness.scan.fix import apply_fix, plan_fix, pool_actions


def _ids(values: tuple[str, ...]) -> list[str]:
    ids = [v.strip() for value in values for v in value.split(",") if v.strip()]
    unknown = [i for i in ids if i not in {r.id for r in RULES}]
    if unknown:
        raise click.BadParameter(f"unknown rule {unknown[0]!r}", param_hint="--rule")
    return ids


@click.command("fix")
@click.argument("image", required=False, type=click.Path(path_type=Path))
@click.option("--rule", "rules", multiple=True, metavar="ID[,ID...]", help="Fix only findings of these rules.")
@click.option("--fix", "fix_numbers", multiple=True, type=click.IntRange(min=1), metavar="N",
              help="Make fix [N] as `scan` numbers it (text [N], HTML, JSON and SARIF `number`; repeatable).")
@click.option("--finding", "numbers", multiple=True, type=click.IntRange(min=1), metavar="N",
              help="Fix only finding N (its `number` in `scan --format json`, SARIF `findingNumber`; repeatable).")
@click.option("--select", "select", multiple=True, metavar="ID[,ID...]",
              help="As scan --select: the findings (and so the numbers) of that scan.")
@click.option("--ignore", "ignore", multiple=True, metavar="ID[,ID...]", help="As scan --ignore.")
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="As scan --baseline: leave out the findings it accepts.")
@click.option("--apply", "apply_", is_flag=True, help="Write the changes (default: a dry run showing them).")
@click.option("--recycle", is_flag=True,
              help="Live server only: after --apply, recycle each pool touched (start it if it is stopped).")
@click.option("--os-arch", type=click.Choice([a.value for a in Arch]),
              help="OS architecture (default: from the image, else x64).")
@click.option("--drive", "drives", multiple=True, metavar="D=PATH", help="Folder standing for another drive letter.")
@click.option("--env", "env", multiple=True, metavar="NAME=VALUE", help="An environment variable the server sets.")
def fix_command(image: Path | None, rules: tuple[str, ...], fix_numbers: tuple[int, ...], numbers: tuple[int, ...],
                select: tuple[str, ...], ignore: tuple[str, ...], baseline: Path | None, apply_: bool, recycle: bool,
                os_arch: str | None, drives: tuple[str, ...], env: tuple[str, ...]) -> None:
    """Apply verified fixes to a server image (or, on Windows, the live server).

    Default is a dry run: the plan and a unified diff of every configuration file it would change.
    Only fixes that re-analysis verified, alone and all together, are taken. --apply writes them:
    only the changed attributes and elements, a timestamped backup beside each file, an atomic
    replace, and a refusal when a file changed since it was read.

    \b
    Exit codes: 0 planned (or applied, and a second scan shows the targeted findings gone);
                1 applied, but a second scan still shows one; 2 the input could not be read;
                3 nothing written (a file changed since it was read, or cannot be written).
    """
    if image is None and sys.platform != "win32":
        _fatal("no server image given; on this OS, name a folder that stands for C:\\ (iisbitness fix IMAGE)")
    if image is not None and not image.is_dir():
        _fatal(f"{image}: not a folder (a server image is a folder standing for the system drive)")
    if recycle and (image is not None or not apply_):
        _fatal("--recycle needs --apply on the live server (no IMAGE)")
    options = ScanOptions(os_arch=Arch(os_arch) if os_arch else None, drives=_drives(drives), env=_env(env),
                          rules=chosen_rules(select, ignore))
    try:
        plan = plan_fix(image, options, _ids(rules), numbers, fix_numbers,
                        numbering=lambda report: [n.fix for n in view(report).fixes],
                        accepted=read_baseline(baseline) if baseline is not None else None)
    except FixError as e:
        click.echo(f"iisbitness: fix refused: {e}", err=True)
        sys.exit(EXIT_FIX_REFUSED)
    except IisBitnessError as e:
        _fatal(str(e))
    if not apply_:
        click.echo(fix_text.render(plan, applied=False), nl=False)
        sys.exit(EXIT_OK)
    try:
        written = apply_fix(plan)
    except FixError as e:
        click.echo(fix_text.render(plan, applied=False, refused=e.written if isinstance(e, WriteRefused) else ()),
                   nl=False)
        click.echo(f"iisbitness: fix refused: {e}", err=True)
        sys.exit(EXIT_FIX_REFUSED)
    click.echo(fix_text.render(plan, applied=True), nl=False)
    for w in written:
        click.echo(f"  {w.shown}: backup {w.backup.name}")
    if recycle:
        for cmd in pool_actions(plan):
            click.echo("ran: " + " ".join(cmd))
    try:
        after = scan(image, options)
    except IisBitnessError as e:
        click.echo(f"iisbitness: error: the second scan failed: {e}", err=True)
        sys.exit(EXIT_INPUT_ERROR)
    targeted = {c.finding.key for c in plan.chosen}
    still = [f for f in after.findings if f.key in targeted]
    removed = removal(plan.side_effects)
    click.echo(f"Second scan: {len(after.findings)} findings; "
               + (f"{len(still)} targeted finding(s) still there" if still else "every targeted finding is gone")
               + (f"; but {removed.replace(' then run', ' now run')} (side effects above)." if removed else "."))
    sys.exit(EXIT_FINDINGS if still else EXIT_OK)
