"""In-process COM servers created by an application's pages (classic ASP, ASP.NET ``Server.CreateObject``).

Facts D8/E3: an in-process server (``InprocServer32``) loads into w3wp.exe, so it must fit the
worker; the worker finds the CLSID in its own registry view (64-bit ``Classes\\CLSID``, 32-bit
``WOW6432Node\\Classes\\CLSID``), while ``Classes\\<ProgID>\\CLSID`` is shared. Out-of-process
servers (``LocalServer32`` EXEs, COM+ server applications) run in their own process: no load.

ProgIDs are found by scanning the application's ``.asp``/``.inc``/``.asa`` (and ASP.NET page)
files for ``CreateObject("...")``, bounded by :data:`MAX_SCRIPT_FILES` and :data:`MAX_SCRIPT_BYTES`.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from iisbitness.arch import Arch
from iisbitness.image.paths import Inference
from iisbitness.image.registry import SOFTWARE_HIVE, ComRegistry, NotRecorded, RegistryView, view_of
from iisbitness.image.server_image import COLLECT_AGAIN
from iisbitness.loadplan.collectors.folders import app_folder
from iisbitness.loadplan.context import Found, PlanContext
from iisbitness.loadplan.plan import BinaryRef, ComServer, Load, LoadKind, Process
from iisbitness.model.iis7 import Application, Server
from iisbitness.model.source import ConfigSource, Problem

MAX_SCRIPT_FILES = 5000
"""Script files read per application folder."""
MAX_SCRIPT_BYTES = 1_000_000
"""Larger script files are skipped."""
SCRIPT_SUFFIXES = (".asp", ".inc", ".asa", ".aspx", ".ascx", ".asmx", ".ashx")

_CREATE = re.compile(r"""\bCreateObject\s*\(\s*["']([A-Za-z_][\w.\-]*)["']""", re.IGNORECASE)


def _registry(ctx: PlanContext) -> tuple[ComRegistry | None, str | None]:
    """The image's registry, opened once (:meth:`~iisbitness.image.server_image.ServerImage.open_registry`)."""
    return ctx.image.open_registry()


def scan_progids(folder: Path, skip: frozenset[Path]) -> tuple[list[tuple[str, Path, int]], str | None]:
    """``[(progid, file, line)]`` of the first use of each ProgID under ``folder``, and a note naming what was not
    read (the search cut at :data:`MAX_SCRIPT_FILES`; script files that are links, not regular files, over
    :data:`MAX_SCRIPT_BYTES` or unreadable), or None when every script file was read.

    Folders in ``skip`` (applications' roots; ``folder`` itself may be one of them) are not entered below ``folder``.
    """
    found: dict[str, tuple[str, Path, int]] = {}
    unread: list[str] = []
    seen = 0
    cut = False
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if Path(dirpath, d) not in skip and d.lower() != "bin")
        for name in sorted(filenames):
            if not name.lower().endswith(SCRIPT_SUFFIXES):
                continue
            seen += 1
            if seen > MAX_SCRIPT_FILES:
                cut = True
                break
            path = Path(dirpath, name)
            try:
                st = path.lstat()  # NOTE: links may leave the image; a FIFO or device would block the read
                if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SCRIPT_BYTES:
                    unread.append(path.relative_to(folder).as_posix())
                    continue
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                unread.append(path.relative_to(folder).as_posix())
                continue
            for m in _CREATE.finditer(text):
                progid = m.group(1)
                found.setdefault(progid.lower(), (progid, path, text.count("\n", 0, m.start()) + 1))
        if cut:
            break
    notes = [f"more than {MAX_SCRIPT_FILES} script files: the rest were not read"] if cut else []
    if unread:
        more = f" and {len(unread) - 3} more" if len(unread) > 3 else ""
        notes.append(f"{len(unread)} script file{'s' if len(unread) > 1 else ''} not read for CreateObject (a link, "
                     f"not a regular file, over {MAX_SCRIPT_BYTES:,} bytes, or unreadable): "
                     f"{', '.join(unread[:3])}{more}")
    return list(found.values()), "; ".join(notes) or None


def _other_view(view: RegistryView) -> RegistryView:
    return RegistryView.WOW64 if view is RegistryView.NATIVE else RegistryView.NATIVE


def _view_arch(view: RegistryView, process: Process) -> Arch:
    return Arch.X86 if view is RegistryView.WOW64 else (process.arch if process.arch is not Arch.X86 else Arch.X64)


def collect_com(ctx: PlanContext, server: Server, process: Process, apps: tuple[Application, ...]) -> Iterator[Found]:
    """In-process COM servers used by the pool's applications, resolved in the worker's registry view."""
    roots = _app_roots(ctx, server, process.arch)
    registry: ComRegistry | None = None
    for app in apps:
        where = app_folder(ctx, server, app, process.arch)
        if where is None or where[1] is None:
            continue
        uses, note = _progids(ctx, where[1], roots)
        if note:  # NOTE: coverage counts it against the application: pages it did not read (issue 20)
            yield Problem(ctx.image.display(where[1]), None, note, unread=True)
        if not uses:
            continue
        if registry is None:
            registry, why = _registry(ctx)
        if registry is None:
            # NOTE: coverage counts it against the application (unread): its pages' COM objects were not checked
            yield _no_registry(ctx, where[1], uses, why)
            continue
        for progid, file, line in uses:
            source = ConfigSource(ctx.image.display(file), line)
            try:
                load = _com_load(ctx, server, process, app, registry, progid, source)
            except NotRecorded as e:  # NOTE: a collected zip's registry that was not asked this: not checked
                yield Problem(source.file, line, f"COM object '{progid}' was not checked: {e}", unread=True,
                              remedy=COLLECT_AGAIN)
                continue
            if load is not None:
                yield load


HIVE_REMEDY = ("reg save HKLM\\SOFTWARE SOFTWARE.hiv /y on the server (cmd.exe or PowerShell, elevated), the file "
               "copied into the image as Windows/System32/config/SOFTWARE")
"""What to give a new scan when the image holds no SOFTWARE hive (docs/images.md, "The registry": ``reg save
<keyname> <filename> [/y]``, Windows Commands reference; ``reg export`` writes ``.reg`` text, which is not read)."""


def _no_registry(ctx: PlanContext, folder: Path, uses: list[tuple[str, Path, int]], why: str | None) -> Problem:
    """The problem for an application whose pages create COM objects (``uses``) when the image's registry could not be
    opened (``why``): marked unread against the application's ``folder``, so coverage says it is partly checked (it
    was one problem for the server, and every such application "checked"), naming the ProgIDs; with
    :data:`HIVE_REMEDY` when the image holds no hive, and a ``.reg`` export beside it named as not read."""
    names = [u[0] for u in uses]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    absent = why is not None and why.startswith("no registry hive")
    exports = _reg_exports(ctx) if absent else ()
    said = (f"; the image holds {', '.join(exports)}, a .reg export (text), which the scan does not read: save the "
            "hive itself with reg save" if exports else "")
    return Problem(ctx.image.display(folder), None,
                   f"COM objects its pages create ({shown}) were not checked: {why}{said}", unread=True,
                   remedy=HIVE_REMEDY if absent else "")


def _reg_exports(ctx: PlanContext) -> tuple[str, ...]:
    """``.reg`` files in the image's ``Windows/System32/config`` folder or at its root, as the user names them: a
    registry export copied where the hive belongs (``reg export`` writes text; the scan reads only a hive file)."""
    out: list[str] = []
    for where in ("C:\\", "C:\\" + SOFTWARE_HIVE.rsplit("\\", 1)[0]):
        found = ctx.image.locate(where)
        if found.host_path is None or not found.is_dir:
            continue
        listing = ctx.image.listing(found.host_path)
        out += [ctx.image.display(found.host_path / listing.files[n]) for n in sorted(listing.files) if n.endswith(".reg")]
    return tuple(out)


def _app_roots(ctx: PlanContext, server: Server, arch: Arch) -> frozenset[Path]:
    """The host folders of every application of the server, as a worker of ``arch`` sees them: once per
    architecture and set of sites, not once per pool (a server of 1,000 pools has 1,000 applications)."""
    # NOTE: a split pool's copy of the server has the same folders: keyed by the sites it shares them with, so
    # that each split fix does not walk every application again (issue 25)
    sites = server.folder_sites()
    key = ("com-roots", server.os_arch, arch, id(sites))
    hit = ctx.plans.get(key)
    if hit is not None and hit[0][0] is sites and isinstance(hit[1], frozenset):
        return hit[1]
    roots = frozenset(f[1] for s in sites for a in s.applications
                      if (f := app_folder(ctx, server, a, arch)) is not None and f[1] is not None)
    # NOTE: the same object for equal sets (both architectures' usually are): _progids keys its memo by the set,
    # and a lookup with an equal but other set compares every root, once per folder (issue 25)
    same = ctx.plans.setdefault(("com-roots-of", roots), ((), roots))[1]
    assert isinstance(same, frozenset)
    ctx.plans[key] = ((sites,), same)
    return same


def _progids(ctx: PlanContext, folder: Path, roots: frozenset[Path]) -> tuple[list[tuple[str, Path, int]], str | None]:
    """:func:`scan_progids` once per folder (and set of application roots) per planning context: both worker
    architectures and every re-plan of fix verification ask, and each scan reads up to MAX_SCRIPT_FILES files."""
    key = (folder, roots)
    if key not in ctx.com_progids:
        ctx.com_progids[key] = scan_progids(folder, roots)
    return ctx.com_progids[key]


def _com_load(ctx: PlanContext, server: Server, process: Process, app: Application, registry: ComRegistry,
              progid: str, source: ConfigSource) -> Load | None:
    clsid = registry.progid_clsid(progid)
    if clsid is None:
        return None  # NOTE: not registered at all: not a bitness problem
    view = view_of(server.os_arch, process.arch)
    mine = registry.server(clsid, view)
    other = registry.server(clsid, _other_view(view)) if server.os_arch.is_64bit else None
    if mine is not None:
        if mine.inproc is None:
            return None  # LocalServer32 only: out of process, any bitness works
        ref = ctx.resolve(mine.inproc, server.os_arch, process.arch)
        return Load(process, LoadKind.COM_INPROC, progid, ref, source, ComServer(progid, clsid, view.value, mine.key),
                    site=app.site, application=app.path)
    if other is None or other.inproc is None:
        return None
    # NOTE: whatever the DLL is, the worker's view has no such class (80040154): the registration decides
    # (Load.fits). The DLL's architecture is read where the image holds it (evidence read; a file that is no PE image
    # stays one), and inferred from the view it is registered in only where it does not (a 32-bit view's
    # InprocServer32 is an x86 DLL)
    seen = ctx.resolve(other.inproc, server.os_arch, _view_arch(other.view, process))
    if seen.image is not None:
        ref = BinaryRef(seen.configured, seen.windows_path, seen.resolved, seen.image)
    else:
        arches = frozenset({Arch.X86}) if other.view is RegistryView.WOW64 else frozenset({Arch.X64, Arch.ARM64})
        ref = BinaryRef(seen.configured, seen.windows_path, seen.resolved, None,
                        inferred=Inference(arches, f"registered only in the {other.view.value} registry view"))
    return Load(process, LoadKind.COM_INPROC, progid, ref, source,
                ComServer(progid, clsid, view.value, other.key, other.view.value), site=app.site, application=app.path)
