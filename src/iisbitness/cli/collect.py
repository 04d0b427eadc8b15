"""``iisbitness collect``: a portable copy of what a scan of a server reads, for offline analysis."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from iisbitness.arch import Arch
from iisbitness.cli.exitcodes import EXIT_OK
from iisbitness.cli.options import (
    ScanProgress,
    drive_option,
    env_option,
    os_arch_option,
    parse_drives,
    parse_env,
    parse_shares,
    progress_wanted,
    share_option,
)
from iisbitness.cli.scan import _fatal
from iisbitness.errors import IisBitnessError
from iisbitness.image.archive import MAX_MEMBER_BYTES
from iisbitness.report import Report
from iisbitness.scan.collect import collect
from iisbitness.scan.pipeline import ScanOptions


@click.command("collect")
@click.argument("image", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The zip to write (e.g. server.zip).")
@drive_option
@share_option
@os_arch_option
@env_option
@click.option("--event-log", "event_logs", multiple=True, metavar="NAME|FILE",
              help="Add an event log: live, Application or System (exported with wevtutil epl), or an .evtx file.")
@click.option("--max-file-size", type=click.IntRange(1), default=MAX_MEMBER_BYTES >> 20, show_default=True,
              metavar="MIB", help="Leave out larger files (named in the manifest).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
def collect_command(image: Path | None, out: Path, drives: tuple[str, ...], shares: tuple[str, ...], os_arch: str | None,
                    env: tuple[str, ...], event_logs: tuple[str, ...], max_file_size: int, quiet: bool) -> None:
    """Copy what a scan of this server reads into a zip, for analysis elsewhere (read-only).

    Runs the scan with a recorder: applicationHost.config and web.config files, every binary the
    load map names and what they depend on, the listing of every folder the scan looked in, the COM
    registry keys both views, with a manifest (tool, date, host, OS architecture, drive map,
    sha256 and size of each file, what was left out and why). Without IMAGE, on Windows, the live
    server. `iisbitness scan server.zip` then gives the same report as scanning the server.

    \b
    Examples:
      iisbitness collect -o server.zip --event-log Application --event-log System
      iisbitness collect /mnt/server-c --drive D=/mnt/server-d -o server.zip
      iisbitness scan server.zip

    \b
    Exit codes: 0 written; 2 the server or an event log could not be read,
                or the zip could not be written (nothing is left at -o then).
    """
    if image is None and sys.platform != "win32":
        _fatal("no server image given; on this OS, name a folder that stands for C:\\ (iisbitness collect IMAGE -o x.zip)")
    progress = ScanProgress(progress_wanted(quiet))
    options = ScanOptions(os_arch=Arch(os_arch) if os_arch else None, drives=parse_drives(drives), shares=parse_shares(shares),
                          env=parse_env(env), progress=progress.stage, on_read=progress.read)
    try:
        with progress.shown():
            done = collect(image, out, options, event_logs, max_file_size << 20, progress.stage)
    except IisBitnessError as e:
        _fatal(str(e))
    if not quiet:
        click.echo(f"iisbitness: wrote {done.out}: {done.files} files ({done.size / (1 << 20):.1f} MiB), "
                   f"{done.folders} folder listings, {len(done.report.findings)} findings in the recorded scan", err=True)
        for path, why in done.left_out[:10]:
            click.echo(f"iisbitness: left out {path}: {why}", err=True)
        if len(done.left_out) > 10:
            click.echo(f"iisbitness: {len(done.left_out) - 10} more left out (manifest.json lists them)", err=True)
    _say_unchecked(done.report)
    sys.exit(EXIT_OK)


def _say_unchecked(report: Report) -> None:
    """On stderr (even with --quiet: a warning, not progress), the applications the recorded scan did not (fully)
    check, with what to give ``collect``: ``scan server.zip`` refuses ``--drive`` and ``--share``, so what the
    collecting scan did not read can only be added by collecting again."""
    gaps = report.unchecked()
    if not gaps:
        return
    click.echo(f"iisbitness: warning: the recorded scan did not read everything ({report.coverage_words()}); "
               "a scan of the zip cannot add it: collect again with what each needs", err=True)
    for c in gaps[:10]:
        give = f"; give: {c.remedy}" if c.remedy else ""
        click.echo(f"iisbitness:   {c.application}: {'; '.join(c.reasons)}{give}", err=True)
    if len(gaps) > 10:
        click.echo(f"iisbitness:   ... and {len(gaps) - 10} more (iisbitness scan ZIP lists each)", err=True)
