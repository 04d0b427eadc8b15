"""Options shared between subcommands (auditwheel's ``options.py`` idea), the progress display and the
text width.

Each helper decorates a click command; decorators are applied bottom-up, so each one is written
where it should appear in ``--help``. ``inspect`` imports this module too: what only the scan commands
use (findings, rich's progress display) is imported where it is used (issue 25: the command's start-up).
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, assert_never, cast

import click

from iisbitness.arch import Arch

if TYPE_CHECKING:
    from iisbitness.findings import Severity

F = TypeVar("F", bound=Callable[..., Any])


class OutputFormat(str, Enum):
    """Formats of ``scan`` and ``demo`` output."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"


class FailOn(str, Enum):
    """``--fail-on``: the lowest severity that makes the exit code 1."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"
    NEVER = "never"

    def threshold(self) -> Severity | None:
        """The severity at or above which findings fail, or None for ``never``."""
        from iisbitness.findings import Severity

        if self is FailOn.ERROR:
            return Severity.ERROR
        if self is FailOn.WARNING:
            return Severity.WARNING
        if self is FailOn.NOTE:
            return Severity.NOTE
        if self is FailOn.NEVER:
            return None
        assert_never(self)


os_arch_option = click.option(
    "--os-arch", type=click.Choice([a.value for a in Arch]), help="OS architecture (default: from the image, else x64).")
"""``--os-arch`` (scan, fix, collect): the server's Windows architecture, when the image does not show it."""

drive_option = click.option("--drive", "drives", multiple=True, metavar="D=PATH",
                            help="Folder standing for another drive letter.")
"""``--drive`` (scan, fix, collect; check-app says it is for ``--server``): read by :func:`parse_drives`."""

env_option = click.option("--env", "env", multiple=True, metavar="NAME=VALUE",
                          help="An environment variable the server sets.")
"""``--env`` (scan, fix, collect): read by :func:`parse_env`."""


def parse_drives(values: tuple[str, ...]) -> dict[str, Path]:
    """``--drive D=PATH`` values as ``{"D": PATH}``; a usage error (exit 2) for anything but a letter and an
    existing folder."""
    out: dict[str, Path] = {}
    for v in values:
        letter, sep, path = v.partition("=")
        if not sep or len(letter.rstrip(":")) != 1 or not letter[0].isalpha():
            raise click.BadParameter(f"{v!r}: expected LETTER=/path, e.g. D=/mnt/d", param_hint="--drive")
        if not Path(path).is_dir():
            raise click.BadParameter(f"{v}: {path} is not a folder", param_hint="--drive")
        out[letter[0].upper()] = Path(path)
    return out


def parse_env(values: tuple[str, ...]) -> dict[str, str]:
    """``--env NAME=VALUE`` values as ``{NAME: VALUE}``; a usage error (exit 2) for one without a name or ``=``."""
    out: dict[str, str] = {}
    for v in values:
        name, sep, value = v.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{v!r}: expected NAME=VALUE", param_hint="--env")
        out[name] = value
    return out


share_option = click.option(
    "--share", "shares", multiple=True, metavar="\\\\SERVER\\SHARE=PATH",
    help="Folder holding a copy of a UNC share a physicalPath or binary names (offline; repeatable, like --drive), "
         "e.g. --share //fileserver/sites=/mnt/sites (the form that pastes into sh, PowerShell and cmd.exe alike).")
"""``--share`` (scan, fix, collect, check-app): an offline folder standing for ``\\\\server\\share``."""


def parse_shares(values: tuple[str, ...]) -> dict[str, Path]:
    """``--share \\\\server\\share=PATH`` (or ``//server/share=PATH``) values as ``{"\\\\server\\share": PATH}``;
    a usage error (exit 2) for anything but a share and an existing folder. The one parser of :data:`share_option`
    (scan, fix, collect, check-app)."""
    from iisbitness.image.paths import unc_share  # NOTE: inspect imports this module without it

    out: dict[str, Path] = {}
    for v in values:
        name, sep, path = v.partition("=")
        named = unc_share(name.strip())
        if not sep or named is None or named[2]:
            raise click.BadParameter(f"{v!r}: expected \\\\SERVER\\SHARE=/path (a share, not a folder in it), e.g. "
                                     "//fileserver/sites=/mnt/sites", param_hint="--share")
        if not Path(path).is_dir():
            raise click.BadParameter(f"{v}: {path} is not a folder", param_hint="--share")
        out[f"\\\\{named[0]}\\{named[1]}"] = Path(path)
    return out


fail_on_incomplete_option = click.option(
    "--fail-on-incomplete", is_flag=True,
    help="Also exit 1 when an application was not (fully) checked: its folder, drive or web.config, or a binary "
         "one of its workers loads, could not be read (the report's coverage says which, and what to give); or when "
         "IIS itself refuses part of the configuration (the report's 'IIS refuses').")
"""``--fail-on-incomplete`` (scan, check-app): a pipeline gate on coverage (issue 20)."""


def json_option(fn: F) -> F:
    """``--json``: the same as ``--format json`` (the command's ``fmt`` parameter set to ``"json"``), for the commands
    that print JSON. Given with another ``--format`` on the command line: a usage error (exit 2), not a silent choice
    of one of them."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs.pop("as_json", False):
            ctx = click.get_current_context()
            if ctx.get_parameter_source("fmt") is click.core.ParameterSource.COMMANDLINE and kwargs["fmt"] != "json":
                raise click.UsageError(f"--json and --format {kwargs['fmt']} ask for two formats: give one of them")
            kwargs["fmt"] = "json"
        return fn(*args, **kwargs)

    return click.option("--json", "as_json", is_flag=True, help="The same as --format json.")(cast(F, wrapper))


def output_options(fail_on_default: FailOn) -> Callable[[F], F]:
    """``--format``, ``--json``, ``--fail-on``, ``--color/--no-color``, ``--quiet``, in that order in ``--help``."""

    def wrap(fn: F) -> F:
        fn = click.option("-q", "--quiet", is_flag=True, help="No progress display on stderr.")(fn)
        fn = click.option("--color/--no-color", default=None,
                          help="Colour the text output (default: when a terminal).")(fn)
        fn = click.option("--fail-on", type=click.Choice([f.value for f in FailOn]), default=fail_on_default.value,
                          show_default=True, help="Exit 1 when a finding is at or above this severity.")(fn)
        fn = json_option(fn)
        fn = click.option("--format", "fmt", type=click.Choice([f.value for f in OutputFormat]), default="text",
                          show_default=True,
                          help="Output format (json: schema iisbitness/scan/2, see docs/scan-json.md; "
                               "sarif: SARIF 2.1.0, see docs/sarif.md; "
                               "html: one self-contained page, see docs/report-formats.md).")(fn)
        return fn

    return wrap


class ScanProgress:
    """Progress on stderr: the current stage and how many binaries were read.

    Shown only when stderr is a terminal and ``--quiet`` is not given; the display is transient
    (it leaves nothing behind in the terminal).
    """

    def __init__(self, enabled: bool) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                  TextColumn("{task.completed} binaries read"), TimeElapsedColumn(),
                                  console=Console(stderr=True), transient=True, disable=not enabled)
        self._task = self._progress.add_task("reading configuration", total=None)

    def stage(self, message: str) -> None:
        """Show ``message`` as the current stage."""
        self._progress.update(self._task, description=message)

    def read(self, _path: Path) -> None:
        """Count one binary read."""
        self._progress.advance(self._task)

    @contextmanager
    def shown(self) -> Iterator[ScanProgress]:
        """Display while the block runs."""
        with self._progress:
            yield self


def text_width(terminal: bool) -> int:
    """Columns for text: a terminal's width; for a pipe or file COLUMNS, else 100."""
    columns = os.environ.get("COLUMNS", "")
    return shutil.get_terminal_size((100, 24)).columns if terminal else int(columns) if columns.isdigit() else 100


_PLAIN_ARG = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/\\:+=@~")


def pasted_arg(value: object) -> str:
    """``value`` (a path the user gave) as one argument of a command line a message suggests: as it is when every
    character is plain, else in double quotes, which cmd.exe, PowerShell and sh all take as one argument
    (``my apphost.config`` -> ``"my apphost.config"``)."""
    text = str(value)
    return text if text and set(text) <= _PLAIN_ARG else f'"{text}"'


def progress_wanted(quiet: bool) -> bool:
    """True when a progress display belongs on stderr: a terminal, and not ``--quiet``."""
    return not quiet and sys.stderr.isatty()


@dataclass(frozen=True, slots=True)
class ViewOptions:
    """Where the report goes and how it shows: ``-o FILE`` (None: stdout), ``--shell``, ``--verbose``,
    ``--rule-docs-url`` (SARIF ``helpUri`` base); set by the command: ``command`` (the text heading's verb),
    ``target`` (check-app: the pool checked against, instead of a server), ``source_root`` (SARIF: the folder
    relative paths start from, ``SRCROOT``)."""

    output: Path | None = None
    shell: str = "cmd"
    verbose: bool = False
    docs_url: str | None = None
    command: str = "scan"
    target: str | None = None
    source_root: Path | None = None


def view_options(fn: F) -> F:
    """``-o/--output``, ``--shell``, ``-v/--verbose``, passed to the command as one ``view: ViewOptions``.

    Apply it last, right above the function (its options then come last in ``--help``): it wraps
    the function, and click's other decorators attach their options to the wrapper.
    """

    @functools.wraps(fn)
    def wrapped(*args: Any, output: Path | None, shell: str, verbose: bool, docs_url: str | None,
                **kwargs: Any) -> Any:
        return fn(*args, view=ViewOptions(output, shell, verbose, docs_url), **kwargs)

    out: Callable[..., Any] = wrapped
    out = click.option("--rule-docs-url", "docs_url", metavar="URL",
                       help="SARIF: where the rule pages are published; each rule's helpUri is URL/<rule id>.md "
                            "(default: no helpUri).")(out)
    out = click.option("-v", "--verbose", is_flag=True,
                       help="Text: also each cause's explanation, resolved files and fix notes, and every one of "
                            "more than 8 causes alike (grouped otherwise).")(out)
    return cast(F, output_and_shell_options(out))


def output_and_shell_options(fn: F) -> F:
    """``-o/--output`` and ``--shell`` (the command takes ``output`` and ``shell``)."""
    fn = click.option("--shell", type=click.Choice(["cmd", "powershell"]), default="cmd", show_default=True,
                      help="Text: fix commands for cmd.exe (appcmd) or PowerShell (WebAdministration).")(fn)
    return click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
                        help="Write the output to FILE instead of stdout (any --format).")(fn)


class AliasChoice(click.Choice):  # type: ignore[type-arg]
    """A choice that also takes old names (``aliases``: old -> current) without listing them in ``--help``."""

    def __init__(self, choices: list[str], aliases: dict[str, str]) -> None:
        super().__init__(choices)
        self.aliases = aliases

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return super().convert(self.aliases.get(value, value), param, ctx)
