"""``iisbitness scan`` and ``iisbitness demo``: options in, :func:`iisbitness.api.scan`, format out."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.cli.exitcodes import EXIT_FINDINGS, EXIT_INPUT_ERROR, EXIT_OK
from iisbitness.errors import IisBitnessError
from iisbitness.explain.observe import observe
from iisbitness.findings import Severity
from iisbitness.formats import scan_json, scan_text
from iisbitness.report import Report

F = TypeVar("F", bound=Callable[..., Any])


class OutputFormat(str, Enum):
    """Formats of ``scan`` output."""

    TEXT = "text"
    JSON = "json"


FAIL_ON = {"error": Severity.ERROR, "warning": Severity.WARNING, "note": Severity.NOTE, "never": None}


def _fatal(message: str) -> NoReturn:
    click.echo(f"iisbitness: error: {message}", err=True)
    sys.exit(EXIT_INPUT_ERROR)


def _drives(values: tuple[str, ...]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for v in values:
        letter, sep, path = v.partition("=")
        if not sep or len(letter.rstrip(":")) != 1 or not letter[0].isalpha():
            raise click.BadParameter(f"{v!r}: expected LETTER=/path, e.g. D=/mnt/d", param_hint="--drive")
        out[letter[0].upper()] = Path(path)
    return out


def _env(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        name, sep, value = v.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{v!r}: expected NAME=VALUE", param_hint="--env")
        out[name] = value
    return out


def _progress(enabled: bool):  # type: ignore[no-untyped-def]
    if not enabled:
        return None

    def show(message: str) -> None:
        click.echo(f"\r\033[K... {message}", err=True, nl=False)

    return show


def _emit(reports: list[Report], fmt: OutputFormat, fail_on: str, color: bool | None) -> NoReturn:
    use_color = sys.stdout.isatty() if color is None else color
    if fmt is OutputFormat.JSON:
        out = scan_json.render(reports[0]) if len(reports) == 1 else scan_json.render_many(reports)
    else:
        out = "\n".join(scan_text.render(r, color=use_color) for r in reports)
    # NOTE: file names that are not UTF-8 arrive as surrogate escapes (issue 7): JSON gets them as \udcNN
    # escapes (json.loads gives back the same str), text shows their bytes as \xNN.
    if fmt is OutputFormat.JSON:
        out = re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", out)
    click.echo(out.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"), nl=False)
    threshold = FAIL_ON[fail_on]
    worst = max((w for w in (r.worst() for r in reports) if w is not None), default=None)
    sys.exit(EXIT_FINDINGS if threshold is not None and worst is not None and worst >= threshold else EXIT_OK)


_common = [
    click.option("--format", "fmt", type=click.Choice([f.value for f in OutputFormat]), default="text",
                 show_default=True, help="Output format (json: schema iisbitness/scan/1, see docs/scan-json.md)."),
    click.option("--fail-on", type=click.Choice(list(FAIL_ON)), default="error", show_default=True,
                 help="Exit 1 when a finding is at or above this severity."),
    click.option("--color/--no-color", default=None, help="Colour the text output (default: when a terminal)."),
]


def _apply(options: Sequence[Callable[[Any], Any]], fn: F) -> F:
    """Apply click option decorators in reading order."""
    for opt in reversed(options):
        fn = opt(fn)  # click returns the same callable, decorated
    return fn


@click.command("scan")
@click.argument("image", required=False, type=click.Path(path_type=Path))
@click.option("--os-arch", type=click.Choice([a.value for a in Arch]), help="OS architecture (default: from the image, else x64).")
@click.option("--drive", "drives", multiple=True, metavar="D=PATH", help="Folder standing for another drive letter.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              help="Read this applicationHost.config instead of the image's.")
@click.option("--env", "env", multiple=True, metavar="NAME=VALUE", help="An environment variable the server sets.")
@click.option("--event-log", "event_logs", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Application/System .evtx or exported event XML: mark findings the log confirms.")
def _scan(image: Path | None, os_arch: str | None, drives: tuple[str, ...], config: Path | None, env: tuple[str, ...],
          event_logs: tuple[Path, ...], fmt: str, fail_on: str, color: bool | None) -> None:
    """Scan an IIS server image for bitness mismatches (read-only).

    IMAGE is a folder standing for the system drive C:\\ (it holds Windows/System32/inetsrv/config/
    applicationHost.config). Without IMAGE, on Windows, the live server is scanned.

    \b
    Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it;
                2 the input could not be read (the message names the file).
    """
    if image is None and sys.platform != "win32":
        _fatal("no server image given; on this OS, name a folder that stands for C:\\ (iisbitness scan IMAGE)")
    if image is not None and not image.is_dir():
        _fatal(f"{image}: not a folder (a server image is a folder standing for the system drive)")
    options = ScanOptions(os_arch=Arch(os_arch) if os_arch else None, drives=_drives(drives), config=config,
                          env=_env(env), progress=_progress(sys.stderr.isatty()))
    try:
        report = scan(image, options)
        if event_logs:
            report = observe(report, list(event_logs))
    except IisBitnessError as e:
        _fatal(str(e))
    if options.progress:
        click.echo("\r\033[K", err=True, nl=False)
    _emit([report], OutputFormat(fmt), fail_on, color)


scan_command = _apply(_common, _scan)


def demo_images() -> list[Path]:
    """The example server images shipped inside the package (``iisbitness/demo/*``)."""
    root = Path(str(resources.files("iisbitness") / "demo"))
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def _demo(fmt: str, fail_on: str, color: bool | None) -> None:
    """Scan the example servers shipped inside the package.

    They show the scenarios iisbitness is built for: a 32-bit-only assembly in a 64-bit pool's bin, a
    32-bit ISAPI extension under a 64-bit and a 32-bit pool, a third-party global module from
    Program Files (x86) without a bitness preCondition, a correct bitness32/bitness64 pair, a 32-bit
    FastCGI program, and a pool whose applications need different architectures. Binaries are real,
    built from sources in the repository. Exit code as for scan (findings are expected: 1).
    """
    reports: list[Report] = []
    try:
        for image in demo_images():
            reports.append(scan(image, ScanOptions()))
    except IisBitnessError as e:
        _fatal(str(e))
    _emit(reports, OutputFormat(fmt), fail_on, color)


demo_command = click.command("demo")(_apply([_common[0], click.option("--fail-on", type=click.Choice(list(FAIL_ON)), default="never", show_default=True, help="Exit 1 when a finding is at or above this severity."), _common[2]], _demo))
