"""Assemblies and native DLLs in each application's ``bin``: loaded by the pool's CLR (facts D5), and by IIS Manager.

Packages with native code ship one build per architecture, either in ``bin\\x86`` / ``bin\\x64``
(e.g. System.Data.SQLite's ``SQLite.Interop.dll``) or in the NuGet runtime-asset layout
``bin\\runtimes\\win-<arch>\\native``; their managed wrapper picks the copy for the running process.
A native DLL in ``bin`` carries those copies (:class:`BinFile.copies`), so that ``native-library-arch``
can tell a root ``bin`` DLL of the wrong architecture that a fitting copy stands in for.
Sources: facts D1, D5, F1, F2; KB 3194551; NuGet "Supporting multiple .NET versions / native assets".
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from iisbitness.errors import ImageReadError
from iisbitness.loadplan.collectors.folders import app_bin_folder
from iisbitness.loadplan.context import Found, PlanContext
from iisbitness.loadplan.plan import (
    BinaryRef,
    BinFile,
    Load,
    LoadKind,
    NativeCopy,
    Process,
    Skipped,
    SkipReason,
)
from iisbitness.model.iis7 import Application, Server
from iisbitness.model.source import ConfigSource, Problem
from iisbitness.pe.deps import pinvoke_targets

LAYOUTS: tuple[tuple[str, ...], ...] = (
    ("x86",), ("x64",), ("arm64",),
    ("runtimes", "win-x86", "native"), ("runtimes", "win-x64", "native"), ("runtimes", "win-arm64", "native"),
)
"""Folders below ``bin`` that hold per-architecture native copies."""

_EMPTY: Mapping[str, tuple[Any, ...]] = MappingProxyType({})

_BIN_ASSEMBLY, _BIN_NATIVE = LoadKind.BIN_ASSEMBLY, LoadKind.BIN_NATIVE
"""NOTE: constants: an Enum member read through its class costs about four times as much in Python 3.11, and these
are read per bin file and worker (issue 25)."""


def collect_bin(ctx: PlanContext, server: Server, process: Process, apps: tuple[Application, ...]) -> Iterator[Found]:
    """Assemblies (and native DLLs) in each application's ``bin``, loaded by the pool's CLR (facts D5).

    A pool with No Managed Code (``managedRuntimeVersion=""``) loads no ASP.NET CLR, so its
    ``bin`` is not loaded by the worker.
    """
    assert process.pool is not None
    if not process.pool.managed_runtime_version:
        # NOTE: said per file in the load map, so that "why no finding for bin\X.dll?" has an answer
        for found in _bin_loads(ctx, server, process, apps, with_copies=False):
            if isinstance(found, Load):
                yield Skipped(process, found.name, found.source,
                              f"pool '{process.pool.name}' runs No Managed Code (managedRuntimeVersion=\"\"): no CLR "
                              "starts in its worker, so bin is never loaded", SkipReason.NO_MANAGED_CODE, found.kind,
                              found.binary, site=found.site, application=found.application)
        return
    yield from _bin_loads(ctx, server, process, apps, with_copies=True)


def app_bin_loads(ctx: PlanContext, server: Server, process: Process, apps: tuple[Application, ...]) -> Iterator[Found]:
    """What :func:`collect_bin` yields for a worker whose CLR loads the ``bin`` of every application of ``apps``, the
    caller having chosen them: IIS 6, where an application runs ASP.NET when its ``ScriptMaps`` name
    ``aspnet_isapi.dll`` (:mod:`iisbitness.loadplan.iis6`), not by a pool's ``managedRuntimeVersion``. ``process``
    may have no pool (``aspnet_wp.exe`` in IIS 5 isolation mode). Loads, :class:`Skipped` entries and unread
    :class:`Problem` s, as :func:`collect_bin` gives them."""
    return _bin_loads(ctx, server, process, apps, with_copies=True)


def collect_iis_manager(ctx: PlanContext, server: Server) -> Iterator[Found]:
    """IIS Manager loads every ``bin`` assembly into inetmgr.exe to list types (facts F1, F2; KB 3194551).

    inetmgr.exe runs at the OS's native architecture.
    """
    process = Process("inetmgr.exe", server.os_arch)
    apps = tuple(a for s in server.sites for a in s.applications)
    return _bin_loads(ctx, server, process, apps, with_copies=False, natives=False, references=False)


def bin_fails(ctx: PlanContext, server: Server, process: Process, apps: tuple[Application, ...],
              ) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """``(fails, not listed)``: ``(Site/app, binary as configured)`` of each ``bin`` assembly a worker of
    ``process.arch`` cannot load: what :func:`iisbitness.loadplan.build._fails` keeps of :func:`collect_bin`, without
    building a load per file (a pool's outlook at the architecture it does not run as, issue 25), the same files
    resolved and read; and :func:`bin_unread`, from the same walk (no failure there means nothing)."""
    assert process.pool is not None
    # NOTE: without managed code collect_bin gives Skipped loads only, none of which fails; its files are still
    # resolved (and their dependencies searched) as collect_bin does: what collect records stays the same
    managed = bool(process.pool.managed_runtime_version)
    fails: list[tuple[str, str]] = []
    unlisted: list[tuple[str, str]] = []
    for app, win, host, (files, note, unread), first in _bin_folders(ctx, server, process, apps):
        if managed and note:
            unlisted.append(_unlisted(ctx, app, host, note))
        if not managed:
            if not first:
                continue
            _files(ctx, server, process, win, host, files, unread)
            continue
        _, (refs, kinds, _), _ = _with_copies(ctx, server, process, win, host, files, unread)
        for ref, kind in zip(refs, kinds):
            # NOTE: a native DLL (BIN_NATIVE) is no application-level load
            if kind is not _BIN_NATIVE and (arches := ref.arches) is not None and not (process.arch in arches
                                                                                       and not ref.chain):
                fails.append((f"{app.site}{app.path}", ref.configured))
    return tuple(fails), tuple(unlisted)


def bin_unread(ctx: PlanContext, server: Server, process: Process,
               apps: tuple[Application, ...]) -> tuple[tuple[str, str], ...]:
    """``(Site/app, "<bin folder>: why")`` of each application of ``apps`` whose ``bin`` a worker of ``process.arch``
    could not list whole (:meth:`PlanContext.bin_files` gave a note: unreadable, or cut at ``MAX_BIN_FILES``), in
    the order of ``apps``, every application sharing such a folder: what the main plan says as an unread
    :class:`Problem`, kept per application for the pool's outlook at the architecture it runs as (:func:`bin_fails`
    says the same for the others). Empty for a pool with No Managed Code (its bin is not loaded)."""
    assert process.pool is not None
    if not process.pool.managed_runtime_version:
        return ()
    return tuple(_unlisted(ctx, app, host, note)
                 for app, _, host, (_, note, _), _ in _bin_folders(ctx, server, process, apps) if note)


def _unlisted(ctx: PlanContext, app: Application, host: Path, note: str) -> tuple[str, str]:
    """``(Site/app, "<bin folder>: why")`` of an application whose ``bin`` (``host``) was not listed whole."""
    return f"{app.site}{app.path}", f"{ctx.image.display(host)}: {note}"


_Files = tuple[tuple[BinaryRef, ...], tuple[LoadKind, ...], tuple[ConfigSource, ...]]
"""Per file of a ``bin`` folder, in the order of its names: the reference, the kind of load, the source."""


def _files(ctx: PlanContext, server: Server, process: Process, win: str, host: Path, files: tuple[str, ...],
           unread: dict[str, str]) -> _Files:
    """Each file of the ``bin`` folder ``host`` (``win``) resolved for ``process`` (an entry that is not a file to
    read, ``unread``, with why, unread: :meth:`PlanContext.resolve_files`), the kind of its load (a native DLL or an
    assembly) and the source its load names (the file as the user names it), in the order of ``files``.

    Worked out once per planning context, folder and architectures (:attr:`PlanContext.bin_refs`): the pool's
    collection, its outlook at the architecture it does not run as and IIS Manager ask for the same folders, and each
    fix's re-plan again (issue 25). A file resolved alike at another worker architecture (the same reference, or the
    same file read) takes the kind and source worked out there: one source object per file."""
    memo = ctx.bin_refs.setdefault((server.os_arch, process.arch), {})
    hit = memo.get(win)
    if hit is not None and hit[0] is files:
        return hit[1]
    refs = ctx.resolve_files(win, host, files, unread, server.os_arch, process.arch)
    other = next((m[win][1] for (os_arch, arch), m in ctx.bin_refs.items()
                  if os_arch is server.os_arch and arch is not process.arch and win in m and m[win][0] is files), None)
    if other is not None and all(map(operator.is_, refs, other[0])):
        memo[win] = (files, other)  # NOTE: every file resolved alike (most folders): the other's, one set of tuples
        return other
    kinds: list[LoadKind] = []
    sources: list[ConfigSource] = []
    for i, ref in enumerate(refs):
        if other is not None and ((seen := other[0][i]) is ref or (seen.image is ref.image and seen.image is not None
                                                                    and seen.resolved == ref.resolved)):
            kinds.append(other[1][i])
            sources.append(other[2][i])
            continue
        image = ref.image
        kinds.append(_BIN_NATIVE if image is not None and image.is_pe and not image.is_managed else _BIN_ASSEMBLY)
        sources.append(ConfigSource(ref.resolved or ctx.image.display(host / files[i])))
    found = (refs, tuple(kinds), tuple(sources))
    memo[win] = (files, found)
    return found


def _bin_folders(ctx: PlanContext, server: Server, process: Process, apps: tuple[Application, ...],
                 ) -> Iterator[tuple[Application, str, Path, tuple[tuple[str, ...], str | None, dict[str, str]], bool]]:
    """Per application of ``apps`` with a ``bin`` folder as ``process`` sees it: the application, the folder's Windows
    path, host folder, :meth:`PlanContext.bin_files` of it, and whether it is the first application using that folder.
    Every application loads its ``bin``, a folder shared with another too: each IIS application is an AppDomain of
    its own, which loads its ``bin`` at start (facts D5; Microsoft, "Programming with application domains and
    assemblies": ASP.NET creates an application domain and loads user code into it). The first is where a folder's
    own note (cannot list) is said once. The folder's listing and resolved files are remembered by the context, so a
    twin costs its loads only."""
    seen: set[Path] = set()
    for app in apps:
        found = app_bin_folder(ctx, server, app, process.arch)
        if found is None:
            continue
        win, host = found
        first = host not in seen
        seen.add(host)
        yield app, win, host, ctx.bin_files(host), first


def _bin_loads(ctx: PlanContext, server: Server, process: Process, apps: tuple[Application, ...],
               with_copies: bool, natives: bool = True, references: bool = True) -> Iterator[Found]:
    """The loads of each ``bin`` file of ``apps`` by ``process`` (``natives``: native DLLs' too; ``with_copies``: with
    their per-architecture copies and callers; ``references``: a reference assembly marked, :attr:`BinFile.reference`),
    and a :class:`Problem` for each folder not listed whole."""
    for app, win, host, (files, note, unread), first in _bin_folders(ctx, server, process, apps):
        if note and first:
            yield Problem(ctx.image.display(host), None, note, unread=True)
        layouts: Mapping[str, tuple[NativeCopy, ...]] = {}
        callers: Mapping[str, tuple[str, ...]] | None = None
        if with_copies:
            layouts, (refs, kinds, sources), callers = _with_copies(ctx, server, process, win, host, files, unread)
        else:
            refs, kinds, sources = _files(ctx, server, process, win, host, files, unread)
        shown = ctx.shown.get(host) or ctx.shown.setdefault(host, ctx.image.display(host))
        plain = BinFile(shown)  # NOTE: one entry for every file without copies (100,000 loads, one object)
        site, path = app.site, app.path
        for name, ref, kind, source in zip(files, refs, kinds, sources):
            entry = plain
            if kind is _BIN_NATIVE and not natives:
                continue
            if kind is _BIN_NATIVE and with_copies:
                low = name.lower()
                entry = BinFile(shown, layouts.get(low, ()), callers.get(low, ()) if callers is not None else None)
            elif references and kind is _BIN_ASSEMBLY and (image := ref.image) is not None and image.reference_assembly:
                # NOTE: the marker read with the file's references, in the scan's one read of it (PeImage.
                # reference_assembly: False where its metadata could not be read, a load whose references are unknown)
                entry = BinFile(shown, reference=True)
            yield Load(process, kind, name, ref, source, entry, site, path)


def _with_copies(ctx: PlanContext, server: Server, process: Process, win: str, host: Path, files: tuple[str, ...],
                 unread: dict[str, str]) -> tuple[Mapping[str, tuple[NativeCopy, ...]], _Files,
                                                  Mapping[str, tuple[str, ...]] | None]:
    """:func:`_native_copies`, :func:`_files` and :func:`_pinvoke_callers` of the ``bin`` folder ``host`` (``win``) for
    ``process``, in that order. The copies and callers are worked out once per planning context, ``bin`` folder (by
    its Windows path, which names the host folder) and architectures (:attr:`PlanContext.bin_extras`): they depend
    on nothing else (the folder's listing and the references resolved for those architectures are remembered by
    the context too), and each pool's outlook and each fix's re-plan asked for them again (issue 25). An empty
    answer is one shared empty mapping (most folders have no native DLL); a dict per architecture pair, keyed by the
    Windows path: no tuple per folder."""
    remembered = ctx.bin_extras.setdefault((server.os_arch, process.arch), {})
    known = remembered.get(win)
    layouts = known[0] if known is not None else _native_copies(ctx, server, process, win, host) or _EMPTY
    refs = _files(ctx, server, process, win, host, files, unread)
    if known is not None:
        return layouts, refs, known[1]
    found = _pinvoke_callers(ctx, host, files, refs)
    callers = _EMPTY if found == {} else found
    remembered[win] = (layouts, callers)
    return layouts, refs, callers


def _pinvoke_callers(ctx: PlanContext, host: Path, names: tuple[str, ...],
                     files: _Files) -> dict[str, tuple[str, ...]] | None:
    """Per lower-case native DLL file name (of the files ``names`` of ``host``, :func:`_files` of them), the ``bin`` assemblies whose ``[DllImport]`` names it
    (:func:`iisbitness.pe.deps.pinvoke_targets`) and the ``bin`` native DLLs that import it; empty when the
    folder holds no native DLL, None when an assembly's metadata could not be read (then no native DLL is known
    to be uncalled)."""
    refs, kinds, _ = files
    if _BIN_NATIVE not in kinds:
        return {}
    found: dict[str, list[str]] = {}
    for name, ref in zip(names, refs):
        if ref.image is None or not ref.image.is_pe:
            continue
        if ref.image.is_managed:
            targets = pinvoke_targets(host / name, ctx.facts)
        else:
            # NOTE: a native DLL of bin that imports another may load it with itself, so it counts as a caller
            # too. The loader looks in the importing DLL's folder only when that DLL was loaded with
            # LOAD_WITH_ALTERED_SEARCH_PATH or LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR (Microsoft, "Dynamic-link
            # library search order"); otherwise bin is searched only if it is on the process's search path
            try:
                imports = ctx.facts.imports(host / name)
            except ImageReadError:
                continue
            targets = tuple(n.lower() for n in (*imports.dlls, *imports.delay_dlls))
        if targets is None:
            return None
        for target in targets:
            found.setdefault(target, []).append(name)
    return {k: tuple(v) for k, v in found.items()}


def _native_copies(ctx: PlanContext, server: Server, process: Process, win: str,
                   host: Path) -> dict[str, tuple[NativeCopy, ...]]:
    """Native DLLs in the package layouts below ``bin``, by lower-case file name."""
    copies: dict[str, list[NativeCopy]] = {}
    for layout in LAYOUTS:
        node: Path | None = host
        for part in layout:
            node = ctx.image.find_child(node, part) if node is not None else None
        if node is None or not node.is_dir():
            continue
        rel = "\\".join(layout)
        for name in ctx.bin_files(node)[0]:
            ref = ctx.resolve(f"{win}\\{rel}\\{name}", server.os_arch, process.arch)
            if ref.image is None or not ref.image.is_pe or ref.image.is_managed:
                continue
            copies.setdefault(name.lower(), []).append(NativeCopy(rel, ref))
    return {k: tuple(v) for k, v in copies.items()}
