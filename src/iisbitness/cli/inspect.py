"""``iisbitness inspect PATH...``: wires options to :func:`iisbitness.pe.walk.inspect_paths` and a format.

Exit codes (:mod:`iisbitness.cli.exitcodes`): 0 fine; 1 with ``--only-mismatch`` when something
cannot load in ``--arch``; 2 when a path cannot be read (or the options are wrong).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from iisbitness.arch import Arch
from iisbitness.cli.exitcodes import EXIT_FINDINGS, EXIT_INPUT_ERROR, EXIT_OK
from iisbitness.cli.options import AliasChoice, json_option, text_width
from iisbitness.pe.walk import InspectedFile, cannot_load, inspect_paths


@click.command("inspect")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=AliasChoice(["text", "json"], {"table": "text"}), default="text", show_default=True,
              help="Output format (text: a table; json: schema iisbitness/inspect/1).")
@json_option
@click.option("--arch", type=click.Choice([a.value for a in Arch]), default=None,
              help="Process architecture to check against (for --only-mismatch and --deps).")
@click.option("--only-mismatch", is_flag=True,
              help="List only what a process of --arch cannot load; exit 1 if anything is listed.")
@click.option("--deps", is_flag=True,
              help="Follow imports, delay-loads, assembly references and DllImports; show the first "
                   "dependency that does not fit (for --arch, else for each architecture the file loads in).")
@click.option("--search-dir", "search_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder searched for dependencies after the file's own folder (repeatable), "
                   "e.g. a copy of System32 or SysWOW64.")
def inspect_command(paths: tuple[Path, ...], fmt: str, arch: str | None, only_mismatch: bool, deps: bool,
                    search_dirs: tuple[Path, ...]) -> None:
    """Show the architecture of binaries, like CorFlags.exe and dumpbin /headers.

    PATHS are files or folders (searched recursively; in folders, files starting with MZ count).

    \b
    Examples:
      iisbitness inspect bin/
      iisbitness inspect bin/ --arch x64 --only-mismatch
      iisbitness inspect vendor.dll --deps --search-dir /mnt/c/Windows/System32

    \b
    Exit codes: 0 listed (a file that is not a PE image is a row, not an
                error); 1 with --only-mismatch, anything listed; 2 a path
                could not be read.
    """
    if only_mismatch and arch is None:
        raise click.UsageError("--only-mismatch needs --arch x86|x64|arm64")
    target = Arch(arch) if arch else None
    deps_arches = None if not deps else ([target] if target else [])
    with _rare_collections():
        files = _run(paths, deps_arches, list(search_dirs))
        errors = [f for f in files if f.error]
        shown = files
        if only_mismatch and target is not None:
            # NOTE: a reference assembly is listed too: the table says it loads nowhere at run time (the CLR refuses it,
            # 0x80131058, whatever its header's architecture), so "nothing listed" must not answer "it loads"
            shown = [f for f in files if f.error or cannot_load(f, target)
                     or (f.assembly is not None and f.assembly.is_reference_assembly)]
        if fmt == "json":
            # NOTE: each format imported when it is asked for (issue 25)
            from iisbitness.formats import inspect_json

            click.echo(inspect_json.render(shown), nl=False)
        else:  # NOTE: a pipe or file: one file a line (grep, cut); a terminal: fitted to its width, no cell cut
            from iisbitness.formats import inspect_text

            terminal = sys.stdout.isatty()
            if shown:
                click.echo(inspect_text.plain(shown, show_deps=deps, width=text_width(True) if terminal else None), nl=False)
            elif files and target is not None:  # NOTE: said, not a bare header: "all fit" is not "nothing read"
                click.echo(f"{len(files)} file{'s' if len(files) != 1 else ''} read: "
                           f"{'every one loads' if len(files) != 1 else 'it loads'} in an {target.value} process"
                           + ("." if deps else " (the files themselves; --deps follows their dependencies)."))
            else:
                click.echo("No PE files (files starting with MZ) found in " + ", ".join(map(str, paths)) + ".")
    for f in errors:
        click.echo(f"iisbitness: error: {f.error}", err=True)
    if errors:
        sys.exit(EXIT_INPUT_ERROR)
    if only_mismatch and any(not f.error for f in shown):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


def _run(paths: tuple[Path, ...], deps_arches: list[Arch] | None, search_dirs: list[Path]) -> list[InspectedFile]:
    """Inspect, with a progress spinner on stderr only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return inspect_paths(paths, deps_arches=deps_arches, search_dirs=search_dirs)
    from rich.console import Console  # NOTE: here, not above: a pipe or file never needs it (issue 25)
    from rich.progress import Progress, SpinnerColumn, TextColumn

    progress = Progress(SpinnerColumn(), TextColumn("{task.completed} files read"),
                        console=Console(stderr=True), transient=True)
    with progress:
        task = progress.add_task("inspect", total=None)
        advance: Callable[[Path], None] = lambda _path: progress.advance(task)
        return inspect_paths(paths, deps_arches=deps_arches, search_dirs=search_dirs, on_file=advance)


@contextmanager
def _rare_collections() -> Iterator[None]:
    """No cyclic garbage collection while files are read and the output is written; collection back on after (also
    on an exception or Ctrl-C), with every young object of the process moved to the oldest generation without a pass
    over it (:func:`gc.freeze` then :func:`gc.unfreeze`): what was built, and a host's own young objects where the
    command runs in its process (its young cycles then wait for the next full collection). Left as it is when
    collection is off, and nothing moved where something else has frozen objects. Not thread-aware: a second
    inspect in another thread meanwhile runs with collection off and leaves it to the first.

    NOTE: reading builds a few objects per file that live until the output is written and form no cycles; the
    collector's passes over them took about 0.07 s of the 8,000 files of the benchmark folder (issue 25), as they did
    of a scan (:mod:`iisbitness.scan.pipeline` runs them rarely while a scan analyses). Only disabled, the first
    collection after would walk them all (0.03 s): young objects are moved to the oldest generation instead, which
    a full collection (one in a while, and at exit) walks as it would have.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        gc.enable()
