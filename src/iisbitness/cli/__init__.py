"""The ``iisbitness`` command line: wires options to the API and formats; no analysis here.

Each command's module is imported when that command runs (or its ``--help`` is asked for), not when
the group is: ``iisbitness inspect DIR`` imports PE reading and its formats, not the scan pipeline
(issue 25: importing every command took about 0.4 s of a 1.7 s ``inspect``).

Exit codes (one place, for pipelines):
    0  nothing at or above ``--fail-on`` (or, for ``explain``, something recognised)
    1  findings at or above ``--fail-on`` (``inspect --only-mismatch``, ``check-app``: something
       cannot load; ``explain``: nothing recognised; ``fix --apply``: a targeted finding remains)
    2  the input could not be read or analysed (the message names the file and why)
    3  ``fix --apply`` wrote nothing: a file changed since it was read, an element is no longer
       where the scan read it, or a file cannot be written (the message names the file)
    130  interrupted (Ctrl-C): not a verdict (click's own answer was 1, "findings")
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any, NamedTuple

import click
from click.utils import make_default_short_help

from iisbitness import __version__
from iisbitness.cli.exitcodes import (
    EXIT_FINDINGS,
    EXIT_FIX_REFUSED,
    EXIT_INPUT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
)

__all__ = ["EXIT_FINDINGS", "EXIT_FIX_REFUSED", "EXIT_INPUT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "main"]


class Where(NamedTuple):
    """Where a command is defined (``module``, its ``attribute``) and the first paragraph of its help
    (``summary``: what ``iisbitness --help`` lists without importing it; a test checks it is the same)."""

    module: str
    attribute: str
    summary: str


COMMANDS: dict[str, Where] = {
    "scan": Where("iisbitness.cli.scan", "scan_command",
                  "Scan an IIS server image for bitness mismatches (read-only)."),
    "demo": Where("iisbitness.cli.scan", "demo_command", "Scan the example servers shipped inside the package."),
    "collect": Where("iisbitness.cli.collect", "collect_command",
                     "Copy what a scan of this server reads into a zip, for analysis elsewhere (read-only)."),
    "fix": Where("iisbitness.cli.fix", "fix_command",
                 "Apply verified fixes to a server image (or, on Windows, the live server)."),
    "check-app": Where("iisbitness.cli.check_app", "check_app_command",
                       "Check a build output (bin, web.config, an ASP.NET Core publish folder) against a pool."),
    "inspect": Where("iisbitness.cli.inspect", "inspect_command",
                     "Show the architecture of binaries, like CorFlags.exe and dumpbin /headers."),
    "explain": Where("iisbitness.cli.explain", "explain_command",
                     "Explain an error message, code or event log in terms of bitness causes."),
}
"""Every command by name, imported on first use."""


class LazyCommands(MutableMapping[str, click.Command]):
    """A group's ``commands`` (click takes any mutable mapping there) that knows every name from ``where``
    and imports a command's module on first ``[name]`` / ``.get(name)``. Listing names imports nothing,
    so click's ``list_commands`` and its "Did you mean ...?" for a mistyped name stay as they were."""

    def __init__(self, where: dict[str, Where]) -> None:
        self.where = where
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            spec = self.where[name]  # NOTE: KeyError for an unknown name, as a dict
            command = getattr(importlib.import_module(spec.module), spec.attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{spec.module}.{spec.attribute} is not a click command")
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self.where = {k: v for k, v in self.where.items() if k != name}
        self._loaded.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in self.where  # NOTE: without importing (Mapping's would)

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(self.where), **dict.fromkeys(self._loaded)})

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def short_help(self, name: str, limit: int) -> str:
        """The command's short help as ``--help`` lists it (click shortens its help's first paragraph to
        ``limit`` characters); from the summary, without importing the command, when it is not loaded yet."""
        if name in self._loaded:
            return self._loaded[name].get_short_help_str(limit)
        return make_default_short_help(self.where[name].summary, limit).strip()


class LazyGroup(click.Group):
    """A :class:`click.Group` over :class:`LazyCommands`: ``--help`` lists each command with its short help
    without importing any (no command here is hidden or deprecated)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["commands"] = LazyCommands(COMMANDS)
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        """As :meth:`click.Group.invoke`; Ctrl-C exits :data:`EXIT_INTERRUPTED` with a line on stderr (click would
        print "Aborted!" and exit 1, which a pipeline reads as "findings")."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("iisbitness: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As :meth:`click.Group.format_commands`, the short help from :meth:`LazyCommands.short_help`."""
        commands = self.commands
        names = self.list_commands(ctx)
        if not isinstance(commands, LazyCommands) or not names:
            super().format_commands(ctx, formatter)
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        with formatter.section("Commands"):
            formatter.write_dl([(name, commands.short_help(name, limit)) for name in names])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="iisbitness")
def main() -> None:
    """Find and fix 32-bit / 64-bit / ARM64 mismatches on Microsoft IIS servers.

    \b
    iisbitness demo                scan the example servers shipped in the package
    iisbitness scan IMAGE          scan a copy of a server (a folder for C:\\)
    iisbitness scan                on Windows: scan the live server (read-only)
    iisbitness collect -o x.zip    copy what a scan reads; scan x.zip elsewhere
    iisbitness check-app DIR       will this build load in a pool? (--pool-arch)
    iisbitness fix IMAGE [--apply] plan (and write) the verified fixes, a diff
    iisbitness inspect PATH...     architecture of binaries (CorFlags, dumpbin)
    iisbitness explain "TEXT"      from an error text, code or event to a cause
    """
