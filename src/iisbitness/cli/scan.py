"""``iisbitness scan`` and ``iisbitness demo``: options in, :func:`iisbitness.api.scan`, format out."""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, assert_never

import click

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.cli.exitcodes import EXIT_FINDINGS, EXIT_INPUT_ERROR, EXIT_OK
from iisbitness.cli.options import (
    FailOn,
    OutputFormat,
    ScanProgress,
    ViewOptions,
    drive_option,
    env_option,
    fail_on_incomplete_option,
    os_arch_option,
    output_options,
    parse_drives,
    parse_env,
    parse_shares,
    pasted_arg,
    progress_wanted,
    share_option,
    text_width,
    view_options,
)
from iisbitness.cli.selection import chosen_rules, selection_options
from iisbitness.errors import IisBitnessError
from iisbitness.image.windows import LIVE_LOGS, export_event_log
from iisbitness.loadplan.coverage import Given
from iisbitness.report import Report
from iisbitness.scan.baseline import apply_baseline, read_baseline, render_baseline

if TYPE_CHECKING:
    from iisbitness.formats.scan_text import TextOptions

# NOTE: each format, the event log reader and the collected zip's scan are imported where they are used: a scan
# needs one format, and most none of the rest (issue 25: the command's start-up; the HTML format and its Jinja2
# alone took a fifth of it)


def _fatal(message: str) -> NoReturn:
    click.echo(f"iisbitness: error: {message}", err=True)
    sys.exit(EXIT_INPUT_ERROR)


def _text_options(color: bool | None, view: ViewOptions) -> TextOptions:
    """A terminal gets its width and colours; a pipe or file gets COLUMNS (else 100) and one table row a line."""
    from iisbitness.formats import scan_text

    terminal = view.output is None and sys.stdout.isatty()
    width = text_width(terminal)
    return scan_text.TextOptions(color=terminal if color is None else color, width=width,
                                 shell=view.shell, verbose=view.verbose, command=view.command,
                                 target=view.target)


def _render(reports: list[Report], fmt: OutputFormat, color: bool | None, view: ViewOptions,
            unusable: bool = False) -> str:
    """The whole output; file names that are not UTF-8 arrive as surrogate escapes (issue 7); ``unusable``: the
    command exits 2 on the input all the same (SARIF: ``executionSuccessful`` false)."""
    if fmt is OutputFormat.JSON:
        from iisbitness.formats import scan_json

        out = scan_json.render(reports[0]) if len(reports) == 1 else scan_json.render_many(reports)
        # NOTE: JSON gets them as \udcNN escapes (json.loads gives back the same str).
        return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", out)
    if fmt is OutputFormat.SARIF:
        from iisbitness.formats import scan_sarif

        return scan_sarif.render_many(reports, docs_url=view.docs_url, source_root=view.source_root,
                                      unusable=unusable)
    if fmt is OutputFormat.TEXT:
        from iisbitness.formats import scan_text

        options = _text_options(color, view)
        return "\n".join(scan_text.render(r, options=options) for r in reports)
    if fmt is OutputFormat.HTML:
        from iisbitness.formats import scan_html

        return scan_html.render(reports)
    assert_never(fmt)


def _exit_code(reports: list[Report], fail_on: FailOn, incomplete: bool = False) -> int:
    """2 when a report checked nothing (:meth:`Report.checked_nothing`: not one application could be listed, the
    input was not read), whatever ``fail_on``; 1 for a finding at or above ``fail_on``, or (``incomplete``:
    ``--fail-on-incomplete``) for an application not (fully) checked or configuration IIS itself refuses
    (:meth:`Report.refusals`); else 0."""
    if any(r.checked_nothing() for r in reports):
        return EXIT_INPUT_ERROR
    threshold = fail_on.threshold()
    worst = max((w for w in (r.worst() for r in reports) if w is not None), default=None)
    if threshold is not None and worst is not None and worst >= threshold:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if incomplete and any(r.unchecked() or r.refusals() for r in reports) else EXIT_OK


def _emit(reports: list[Report], fmt: str, fail_on: str, color: bool | None, view: ViewOptions,
          loads: bool = False, incomplete: bool = False, input_errors: Sequence[str] = ()) -> NoReturn:
    """Write the reports, then exit with :func:`_exit_code`'s code; ``input_errors``: lines (``file:line: why``) that
    make the input unusable all the same (check-app: the build's own configuration IIS refuses), each said on stderr
    after the report is written, then exit 2."""
    if not loads and OutputFormat(fmt) is OutputFormat.SARIF:
        from iisbitness.formats import scan_sarif

        # NOTE: a result at a time, never the whole log held at once (issue 25: 1.1 GB at 1,000 pools)
        with streamed_out(view.output, color) as write:
            scan_sarif.write_many(reports, write, docs_url=view.docs_url, source_root=view.source_root,
                                  unusable=bool(input_errors))
    else:
        if loads:
            from iisbitness.formats import loads_json, loads_text

            out = loads_json.render(reports) if OutputFormat(fmt) is OutputFormat.JSON else loads_text.render(reports)
        else:
            out = _render(reports, OutputFormat(fmt), color, view, unusable=bool(input_errors))
        write_out(out, view.output, color)
    say_checked_nothing(reports)
    for line in input_errors:
        click.echo(f"iisbitness: error: {line}", err=True)
    sys.exit(EXIT_INPUT_ERROR if input_errors else _exit_code(reports, FailOn(fail_on), incomplete))


def say_checked_nothing(reports: list[Report]) -> bool:
    """On stderr, for each report that checked nothing (:meth:`Report.checked_nothing`), each input not read
    (``file:line: why``) and that nothing was checked; True when one did (the caller then exits 2, after writing
    the report, which says what was not read)."""
    nothing = False
    for r in reports:
        for line in r.unread_inputs():
            click.echo(f"iisbitness: error: {line}", err=True)
        if r.checked_nothing():
            nothing = True
            click.echo(f"iisbitness: error: nothing was checked in {r.server.image}: no application could be listed",
                       err=True)
    return nothing


def write_out(out: str, output: Path | None, color: bool | None = None) -> None:
    """``out`` to stdout, or to the file ``output`` (UTF-8); exit 2 naming the file when it cannot be written."""
    # NOTE: text shows the bytes of non-UTF-8 names as \xNN.
    out = out.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if output is None:
        click.echo(out, nl=False, color=color)  # NOTE: click strips ANSI from a pipe unless --color
    else:
        try:
            output.write_text(out, encoding="utf-8")
        except OSError as e:
            _fatal(f"{output}: cannot write: {e.strerror or e}")


@contextmanager
def streamed_out(output: Path | None, color: bool | None = None) -> Iterator[Callable[[str], object]]:
    """A ``write`` taking the output in pieces, to stdout or the file ``output`` (UTF-8), each piece as
    :func:`write_out` writes a whole text (a piece never ends inside a JSON string, so no surrogate escape is cut);
    exit 2 naming the file when it cannot be written.

    The file is whole or untouched, as :func:`write_out`'s single write leaves it: the pieces go to a temporary file
    beside it (``.NAME.iisbitness-PID-RANDOM.tmp``, in the folder of the file a symbolic link names), which replaces it
    (``os.replace``: atomic on one file system) only once the last piece is written; an error while rendering or
    writing removes the temporary file and leaves ``output`` as it was (never a truncated log a pipeline would
    upload). The file keeps an existing file's permission bits (a new one gets what ``open`` gives it); its owner
    and hard links are not kept (a new file replaces it). ``output`` that exists and is not a regular file
    (``/dev/stdout``, a named pipe) is written in place, piece by piece."""
    def text(piece: str) -> str:
        return piece.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")

    if output is None:
        yield lambda piece: click.echo(text(piece), nl=False, color=color)
        return
    if output.exists() and not output.is_file():
        try:
            with open(output, "w", encoding="utf-8") as f:
                yield lambda piece: f.write(text(piece))
        except OSError as e:
            _fatal(f"{output}: cannot write: {e.strerror or e}")
        return
    target = Path(os.path.realpath(output))
    tmp = target.with_name(f".{target.name}.iisbitness-{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        # NOTE: mode 0o666 less the umask, as open() creates a file (mkstemp would give 0o600)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as e:
        _fatal(f"{output}: cannot write: {e.strerror or e}")
    try:
        if target.is_file():
            shutil.copymode(target, tmp)
        with open(fd, "w", encoding="utf-8") as f:
            yield lambda piece: f.write(text(piece))
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        _fatal(f"{output}: cannot write: {e.strerror or e}")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_VS_FILES = {".sln": "solution", ".slnx": "solution", ".csproj": "project", ".vbproj": "project",
             ".fsproj": "project"}
"""Visual Studio files a developer may name instead of their folder (docs/iisexpress.md)."""


def check_image(image: Path | None, config: Path | None, command: str, config_alone: bool = True,
                zip_ok: bool = False) -> None:
    """Exit 2 when ``image`` cannot be a server image: none given off Windows (and no ``--config``), or a file
    (``zip_ok``: but a zip, which ``iisbitness collect`` makes); ``config_alone``: the command reads a
    configuration file without an image (``--config FILE``), which the message then suggests for a file."""
    if image is None and config is None and sys.platform != "win32":
        _fatal(f"no server image given; on this OS, name a folder that stands for C:\\ (iisbitness {command} IMAGE)"
               + (f", or a configuration file alone (iisbitness {command} --config applicationHost.config)"
                  if config_alone else ""))
    if image is not None and not image.is_dir() and not (zip_ok and zipfile.is_zipfile(image)):
        hint = (f"; to read this file on its own: iisbitness {command} --config {pasted_arg(image)}"
                if image.is_file() and config_alone and image.suffix.lower() != ".zip" else "")
        if image.is_file() and command == "scan" and image.suffix.lower() in _VS_FILES:
            # NOTE: a solution or project file is no configuration: --config would read it as one
            hint = (f"; it is a Visual Studio {_VS_FILES[image.suffix.lower()]} file: scan its folder (IIS Express, "
                    f"docs/iisexpress.md): iisbitness scan {pasted_arg(image.parent)}")
        if image.is_file() and _starts_as_zip(image) and not zipfile.is_zipfile(image):
            # NOTE: a zip copied in part (a transfer cut off) has no central directory at its end: zipfile calls it
            # no zip at all, and "nor a zip made by iisbitness collect" was said of the very zip collect wrote
            _fatal(f"{image}: a zip that cannot be read: cut short or damaged (its end, the central directory, is "
                   "missing or broken); copy the whole file again")
        zipped = " nor a zip made by iisbitness collect" if zip_ok else (
            f"; {command} writes to a folder: unzip it and give the folder" if zipfile.is_zipfile(image) else "")
        _fatal(f"{image}: not a folder (a server image is a folder standing for the system drive){zipped}{hint}")


def _starts_as_zip(path: Path) -> bool:
    """True when ``path`` begins as a zip does (a local file header, ``PK\\3\\4``, APPNOTE 4.3.7), whatever its end."""
    try:
        with path.open("rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _config_file_only(report: Report, label: str) -> Report:
    """``report`` of ``scan --config FILE`` without an image, named ``label`` (the file, not the empty folder that stood
    for C:\\). Its remedies already say to make an image folder with the file in it (``ScanOptions.given``:
    coverage words them so where it makes them, and the load map quotes them)."""
    return dataclasses.replace(report, server=dataclasses.replace(report.server, image=label))


def config_only_image(config: Path | None) -> Path | None:
    """An empty folder standing for C:\\ when ``--config FILE`` is given without an image: the file is then read as
    the configuration of a configuration-only image (no binaries: architectures inferred from folders)."""
    if config is None:
        return None
    if not config.is_file():
        _fatal(f"{config}: no such file (--config)")
    return Path(tempfile.mkdtemp(prefix="iisbitness-config-only-"))


@click.command("scan")
@click.argument("image", required=False, type=click.Path(path_type=Path))
@os_arch_option
@drive_option
@share_option
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              help="Read this applicationHost.config (or IIS 6 MetaBase.xml) instead of the image's.")
@env_option
@click.option("--event-log", "event_logs", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Application/System .evtx or exported event XML: mark findings the log confirms (live: "
                   "Application or System reads the running system's log).")
@click.option("--cache", type=click.Path(path_type=Path, dir_okay=False),
              help="SQLite file remembering what each binary holds and the report: a rescan of an unchanged server "
                   "returns the stored report, else reads only changed files.")
@click.option("--loads", "show_loads", is_flag=True,
              help="Print the load map instead: every binary each process would load, with its verdict and why "
                   "(json: schema iisbitness/loads/1, see docs/loads.md).")
@click.option("--iisexpress", is_flag=True, default=None,
              help="IMAGE is a Visual Studio solution or project folder run by IIS Express (default: guessed).")
@click.option("--iisexpress-arch", type=click.Choice([a.value for a in Arch]),
              help="IIS Express: the bitness Visual Studio's 64-bit IIS Express option gives, for projects whose own "
                   "setting is empty (else assumed 32-bit).")
@selection_options
@output_options(FailOn.ERROR)
@fail_on_incomplete_option
@view_options
def scan_command(image: Path | None, os_arch: str | None, drives: tuple[str, ...], shares: tuple[str, ...],
                 config: Path | None,
                 env: tuple[str, ...], event_logs: tuple[Path, ...], cache: Path | None, show_loads: bool,
                 iisexpress: bool | None, iisexpress_arch: str | None, select: tuple[str, ...],
                 ignore: tuple[str, ...], baseline: Path | None, write_baseline: Path | None, fmt: str, fail_on: str,
                 color: bool | None, quiet: bool, fail_on_incomplete: bool, view: ViewOptions) -> None:
    """Scan an IIS server image for bitness mismatches (read-only).

    IMAGE is a folder standing for the system drive C:\\ (it holds
    Windows/System32/inetsrv/config/applicationHost.config), or a zip made by `iisbitness collect`
    (checked, then laid out in a private temporary folder; docs/images.md). Without IMAGE, on
    Windows, the live server is scanned: every drive, UNC shares, links followed; with --config FILE
    and no IMAGE, that file alone (a configuration-only image). A Visual Studio solution or project
    folder is scanned as IIS Express: each web project in the iisexpress.exe Visual Studio starts for
    it (docs/iisexpress.md).

    \b
    Examples:
      iisbitness scan /mnt/c --drive D=/mnt/d --share //fileserver/sites=/mnt/s
      iisbitness scan web01.zip --format html -o report.html
      iisbitness scan ~/src/MyShop --iisexpress --fail-on warning

    \b
    Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it
                (or, with --fail-on-incomplete, an application not checked);
                2 the input could not be read (the message names the file),
                also when not one application could be listed (<sites> in
                a file not read): the report is written, nothing was checked.
    """
    if show_loads and fmt not in (OutputFormat.TEXT.value, OutputFormat.JSON.value):
        raise click.UsageError("--loads prints the load map as text or json (--format text|json)")
    check_image(image, config, "scan", zip_ok=True)
    empty = config_only_image(config) if image is None else None
    progress = ScanProgress(progress_wanted(quiet))
    options = ScanOptions(os_arch=Arch(os_arch) if os_arch else None, drives=parse_drives(drives), shares=parse_shares(shares),
                          config=config,
                          env=parse_env(env), progress=progress.stage, on_read=progress.read, cache=cache,
                          load_map=show_loads or fmt == OutputFormat.HTML.value, iisexpress=True if iisexpress or iisexpress_arch else None,
                          iisexpress_arch=Arch(iisexpress_arch) if iisexpress_arch else None,
                          text_fixes=fmt == OutputFormat.SARIF.value, rules=chosen_rules(select, ignore),
                          given=Given.CONFIG_FILE if empty is not None else Given.IMAGE)
    try:
        with progress.shown(), _scanned(empty or image, options, event_logs) as (report, logs):
            if empty is not None:  # NOTE: name the file, not the empty folder that stood for C:\
                report = _config_file_only(report, f"{config} (configuration file only)")
            if write_baseline is not None:
                _write(write_baseline, render_baseline([report]))
            for path in (baseline, write_baseline):
                if path is not None:
                    report = apply_baseline(report, read_baseline(path))
            if (baseline or write_baseline) and not quiet:  # NOTE: none accepted is said too
                k = len(report.suppressed)
                click.echo(f"iisbitness: the baseline accepted {k} finding{'s' if k != 1 else ''} "
                           f"(left out); {len(report.findings)} not in it", err=True)
            if logs:
                from iisbitness.explain.observe import observe

                progress.stage("reading event logs")
                report = observe(report, logs)
    except IisBitnessError as e:
        _fatal(str(e))
    finally:
        if empty is not None:
            shutil.rmtree(empty, ignore_errors=True)
    _emit([report], fmt, fail_on, color, view, show_loads, fail_on_incomplete)


@contextmanager
def _scanned(image: Path | None, options: ScanOptions, event_logs: tuple[Path, ...]) -> Iterator[tuple[Report,
                                                                                                   list[Path]]]:
    """The report of a folder, a collected zip (with the event logs it holds) or the live server, and the event
    logs to read: live, ``Application``/``System`` name the running system's logs (exported with ``wevtutil epl``
    to a temporary file, removed afterwards)."""
    if image is not None and image.is_file():
        from iisbitness.scan.collect import scan_collected

        with scan_collected(image, options) as (report, logs):
            yield report, list(event_logs) + logs
        return
    report = scan(image, options)
    live = [name for name in event_logs if image is None and str(name) in LIVE_LOGS and not name.is_file()]
    if not live:
        yield report, list(event_logs)
        return
    with tempfile.TemporaryDirectory(prefix="iisbitness-evtx-") as tmp:
        exported = {str(n): export_event_log(str(n), Path(tmp) / f"{n}.evtx") for n in live}
        yield report, [exported.get(str(n), n) for n in event_logs]


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        _fatal(f"{path}: cannot write: {e.strerror or e}")
    click.echo(f"iisbitness: wrote baseline {path}", err=True)


def demo_images() -> list[Path]:
    """The example server images shipped inside the package (``iisbitness/demo/*``)."""
    root = Path(str(resources.files("iisbitness") / "demo"))
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


@click.command("demo")
@output_options(FailOn.NEVER)
@view_options
def demo_command(fmt: str, fail_on: str, color: bool | None, quiet: bool, view: ViewOptions) -> None:
    """Scan the example servers shipped inside the package.

    They show the scenarios iisbitness is built for: a 32-bit-only assembly in a 64-bit pool's bin, a
    32-bit ISAPI extension under a 64-bit and a 32-bit pool, a third-party global module from
    Program Files (x86) without a bitness preCondition, a correct bitness32/bitness64 pair, a 32-bit
    FastCGI program, a pool whose applications need different architectures, and an IIS 6 server in
    IIS 5 isolation mode with WOW64 on. Binaries are real, built from sources in the repository.

    \b
    Examples:
      iisbitness demo
      iisbitness demo --shell powershell --verbose
      iisbitness demo --format html -o demo.html
    """
    progress = ScanProgress(progress_wanted(quiet))
    reports: list[Report] = []
    try:
        with progress.shown():
            for image in demo_images():
                reports.append(scan(image, ScanOptions(progress=progress.stage, on_read=progress.read,
                                                       text_fixes=fmt == OutputFormat.SARIF.value,
                                                       load_map=fmt == OutputFormat.HTML.value)))
    except IisBitnessError as e:
        _fatal(str(e))
    _emit(reports, fmt, fail_on, color, view)
