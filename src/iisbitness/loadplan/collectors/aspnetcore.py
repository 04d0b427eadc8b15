"""ASP.NET Core Module (ANCM) in-process hosting: what the worker loads for each application.

Facts D6 (AspNetCore.Docs in-process-hosting.md, troubleshoot.md): with ``hostingModel="inprocess"``
the .NET runtime loads into w3wp.exe, so the app's hosting bits must fit the pool; out-of-process
apps run in their own process (no load here), and so do apps whose handler is ANCM V1
(``modules="AspNetCoreModule"``): V1 ignores ``hostingModel``; in-process hosting came with V2 (ASP.NET
Core 2.2; aspnet/AspNetCore announcement #7095).

- Self-contained (``processPath=".\\App.exe"`` with ``hostfxr.dll`` beside it, or a runtimeconfig.json that lists
  ``includedFrameworks``): the app's own ``hostfxr.dll``, ``hostpolicy.dll``, ``coreclr.dll``,
  ``aspnetcorev2_inprocess.dll`` and app host EXE are loads; one of the runtime's three the image lacks is an unread
  problem (the application partly checked, the file named).
- Framework-dependent (``processPath="dotnet"``, or an app host EXE without ``hostfxr.dll``): the
  ``dotnet`` install of the worker's ``%ProgramFiles%`` (``Program Files`` or
  ``Program Files (x86)``, facts B11) supplies ``host\\fxr\\<version>\\hostfxr.dll``; the versions
  under ``shared\\<framework>\\<version>`` must satisfy ``<app>.runtimeconfig.json``.
- Either way the app's own ``<app>.dll``, which the worker's runtime loads at start (role ``app assembly``), and the
  managed runtime assets its ``<app>.deps.json`` lists, which it loads on first use (role ``app dependency``), and its
  native assets (a runtime-specific publish's; a framework-dependent app's ``runtimeTargets`` as the host picks them for
  the worker's runtime identifier), which it loads on the first P/Invoke (role ``app native library``); the DLL, the
  deps.json or a listed asset the image lacks is an unread problem, and so is a ``runtimeTargets`` choice the host
  makes by the RID graph (not modelled).
Every in-process application yields at least one load, so that two in one pool can be told (500.35).
"""

from __future__ import annotations

import ntpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iisbitness.arch import Arch
from iisbitness.config.jsonfile import read_json
from iisbitness.errors import ConfigError
from iisbitness.image.paths import normalize, process_environment
from iisbitness.loadplan.collectors.folders import app_folder
from iisbitness.loadplan.context import Found, PlanContext
from iisbitness.loadplan.plan import (
    APP_ASSEMBLY,
    APP_DEPENDENCY,
    APP_NATIVE,
    AspNetCoreHost,
    BinaryRef,
    DeploymentMode,
    Load,
    LoadKind,
    Process,
    RuntimeCheck,
    Skipped,
    SkipReason,
    worker_candidates,
)
from iisbitness.model.iis7 import Application, AspNetCore, Server
from iisbitness.model.source import Problem

ANCM_MODULES = ("aspnetcoremodulev2", "aspnetcoremodule")
"""Handler ``modules`` values of the ASP.NET Core Module (V2, V1), lower-case."""

HOSTING_FILES = ("hostfxr.dll", "hostpolicy.dll", "coreclr.dll", "aspnetcorev2_inprocess.dll")
"""Files of a published app that ANCM in-process loads from the app folder (when present)."""

SELF_CONTAINED_RUNTIME = ("hostfxr.dll", "hostpolicy.dll", "coreclr.dll")
"""The runtime a self-contained app carries and the worker loads from its folder: ANCM loads ``hostfxr.dll``
beside the app host (HostFxrResolver.cpp), which loads ``hostpolicy.dll`` from the app's folder, which loads
``coreclr.dll`` (dotnet/runtime docs/design/features/host-components.md). One the image lacks was not checked."""

ROLL_FORWARD_DEFAULT = "minor"


def _version(text: str) -> tuple[int, ...]:
    parts: list[int] = []
    for p in text.split("-", 1)[0].split("."):
        if not p.isdigit():
            break
        parts.append(int(p))
    return tuple(parts)


def satisfies(installed: str, wanted: str, roll_forward: str) -> bool:
    """Does ``installed`` satisfy a request for ``wanted`` under ``rollForward`` (dotnet/runtime docs)?

    Disable: exact; LatestPatch/Patch: same major.minor, not lower; Minor/LatestMinor (default): same
    major, not lower; Major/LatestMajor: not lower. Pre-release labels are ignored.
    """
    have, want = _version(installed), _version(wanted)
    if not have or not want:
        return False
    rf = roll_forward.lower()
    if rf == "disable":
        return have == want
    if rf in ("latestpatch", "patch"):
        return have[:2] == want[:2] and have >= want
    if rf in ("major", "latestmajor"):
        return have >= want
    return have[:1] == want[:1] and have >= want


def _app_stem(anc: AspNetCore) -> str:
    """The app's name as its files carry it (``Shop`` of ``arguments=".\\Shop.dll"`` or ``processPath=".\\Shop.exe"``),
    or "" when neither names a file."""
    args = anc.arguments.strip().strip('"').split(" ", 1)[0] if anc.arguments.strip() else ""
    for name in (ntpath.basename(args), ntpath.basename(anc.process_path)):
        if name.lower().endswith((".dll", ".exe")):
            return name[:-4]
    return ""


def _below(ctx: PlanContext, folder: Path, relative: str) -> Path | None:
    """The folder the directory part of ``relative`` (a path relative to the application's folder, ``.`` and ``/``
    allowed) names below ``folder``; None when it names none (no directory part, an absolute path, a variable,
    ``..``) or the image lacks it."""
    parent = ntpath.dirname(relative.replace("/", "\\"))
    if not parent or ntpath.isabs(parent) or ntpath.splitdrive(parent)[0] or "%" in parent:
        return None
    node: Path | None = folder
    for part in parent.split("\\"):
        if part in ("", "."):
            continue
        if part == ".." or node is None:
            return None
        node = ctx.image.find_child(node, part)
    return node if node != folder else None


def _app_dll_folder(ctx: PlanContext, folder: Path, anc: AspNetCore) -> Path:
    """The folder of the app's DLL when ``arguments`` names it below the application's folder
    (``arguments="./bin/Debug/netcoreapp2.2/App.dll"``: ANCM passes a relative ``.dll`` argument to the host as the
    application's physical path joined with it, dotnet/aspnetcore AspNetCoreModuleV2/CommonLib/HostFxrResolver.cpp
    ``AppendArguments``): where the host reads ``App.runtimeconfig.json`` beside the app's DLL. ``folder`` itself when
    ``arguments`` names no such subfolder or the image lacks it (the files are then said to be missing where the
    application's folder is)."""
    args = anc.arguments.strip().strip('"').split(" ", 1)[0] if anc.arguments.strip() else ""
    return _below(ctx, folder, args) or folder


def _app_dll_win(ctx: PlanContext, folder: Path, win: str, anc: AspNetCore) -> tuple[Path, str]:
    """:func:`_app_dll_folder` of the application's folder ``folder`` (Windows path ``win``), with its Windows path."""
    dll_folder = _app_dll_folder(ctx, folder, anc)
    if dll_folder == folder:
        return folder, win
    args = anc.arguments.strip().strip('"').split(" ", 1)[0].replace("/", "\\")
    return dll_folder, ntpath.normpath(ntpath.join(win, ntpath.dirname(args)))


def _app_assembly(ctx: PlanContext, server: Server, process: Process, app: Application, anc: AspNetCore,
                  folder: Path | None, folder_win: str, win: str, deployment: DeploymentMode,
                  say_missing: bool = True, rid_graph: bool = False) -> Iterator[Found]:
    """The app's own assembly (``<stem>.dll`` of :func:`_app_stem` in ``folder``, Windows path ``folder_win``) as a load
    of the worker, role ``app assembly``, when the image holds it: the worker's hostfxr/coreclr loads it at start
    (framework-dependent or self-contained alike), so one built x86 or x64 (``<PlatformTarget>``) fails in a worker of
    the other architecture with System.BadImageFormatException and HTTP 500.30 (AspNetCore.Docs
    test/troubleshoot-azure-iis.md "500.30 In-Process Start Failure"; dotnet/runtime#85691, dotnet/project-system#3248).
    Then the other assemblies its ``<stem>.deps.json`` lists (:func:`_dependencies`), which load on first use.
    When the image lacks the DLL, an unread problem naming it (the application partly checked) where ``say_missing``
    (a framework-dependent app's runtimeconfig.json problem names it already when that file is missing too).
    ``rid_graph``: :func:`read_runtimeconfig`'s, for the choice of ``runtimeTargets``."""
    stem = _app_stem(anc)
    if folder is None or not stem:
        return
    name = stem + ".dll"
    if ctx.image.find_child(folder, name) is None:
        if say_missing:
            yield Problem(ctx.image.display(folder), None,
                          f"in-process ASP.NET Core app ({deployment.value}): {name}, which its runtime loads at start, "
                          "is not in the image: the app's assemblies were not checked (copy the published app's "
                          "folder)", unread=True)
        return
    yield Load(process, LoadKind.ASPNETCORE, name, ctx.resolve(ntpath.join(folder_win, name), server.os_arch,
               process.arch), anc.source, AspNetCoreHost(anc, win, APP_ASSEMBLY, deployment),
               site=app.site, application=app.path)
    yield from _dependencies(ctx, server, process, app, anc, folder, folder_win, win, deployment, stem, rid_graph)


DEPS_LIMIT = 16 << 20
"""The largest ``<app>.deps.json`` read (16 MiB; a published app's is tens to hundreds of KiB)."""


@dataclass(frozen=True, slots=True)
class DepsAsset:
    """A managed runtime asset of a library in an app's ``<app>.deps.json``.

    Attributes:
        path: where the host looks for it, relative to the app's folder (``/``-separated): the asset's ``localPath``
            when the file gives one, else its file name (the host's app-local probe, hostpolicy
            ``deps_entry_t::to_dir_path``), the asset's own path for a ``runtimepack`` library.
        library: the library's key (``Contoso.Barcode/2.1.0``). library_type: its ``type`` (``package``, ``project``,
            ``reference``), "" when ``libraries`` does not say.
        kind: ``runtime`` (a managed assembly) or ``native`` (a native DLL, loaded by P/Invoke).
        rid: the runtime identifier of the ``runtimeTargets`` entry the host picks it from (``win-x64``; its path is
            then the asset's path below the app's folder, hostpolicy ``to_rel_path``), "" for a plain asset.
    """

    path: str
    library: str
    library_type: str
    kind: str = "runtime"
    rid: str = ""


HOST_RID_ARCH = {Arch.X86: "x86", Arch.X64: "x64", Arch.ARM64: "arm64"}
"""A worker's architecture as the host's runtime identifiers spell it (``win-x86``, ``win-x64``, ``win-arm64``)."""


def host_rids(arch: Arch, runtime_id: str = "") -> tuple[str, ...]:
    """The runtime identifiers a .NET 8+ host of ``arch`` on Windows matches ``runtimeTargets`` against, first match
    wins: ``runtime_id`` (the worker's ``DOTNET_RUNTIME_ID``, when set: :func:`runtime_id`), then ``win-<arch>``,
    ``win``, ``any`` (dotnet/runtime hostpolicy ``deps_format.cpp`` ``try_get_matching_rid``: "Check for match with
    environment variable RID value" before ``s_host_rids``; learn.microsoft.com dotnet/core/compatibility/deployment/
    8.0/rid-asset-list; "DOTNET_RUNTIME_ID: Overrides the detected RID", learn.microsoft.com dotnet/core/tools/
    dotnet-environment-variables)."""
    own = (f"win-{HOST_RID_ARCH[arch]}", "win", "any")
    return (runtime_id, *own) if runtime_id and runtime_id not in own else own


RUNTIME_ID = "DOTNET_RUNTIME_ID"
"""The environment variable a .NET host matches runtimeTargets against before its own runtime identifiers."""


def runtime_id(process: Process, anc: AspNetCore) -> tuple[str, str]:
    """``(value, where set)`` of ``DOTNET_RUNTIME_ID`` in the worker as the configuration sets it, ``("", "")`` where
    it sets none: the app's ``aspNetCore`` ``environmentVariables`` (ANCM sets them on the worker before it loads the
    host: :attr:`AspNetCore.environment`), else its pool's ``environmentVariables`` (IIS 10 passes them to the worker
    process: "Environment Variables <environmentVariables>", learn.microsoft.com iis/configuration/
    system.applicationHost/applicationPools/add/environmentVariables). Not read: the machine's own environment (the
    registry's, which the image does not show) and the pool defaults' ``environmentVariables``: the host is taken to
    see none there."""
    value = anc.variable(RUNTIME_ID)
    if value is not None:
        return value.strip(), f"the aspNetCore element's environmentVariables ({anc.source})"
    pool = process.pool
    if pool is None:
        return "", ""
    for el in reversed(pool.elements):
        if el.path == ("environmentVariables", "add"):
            attrs = {k.lower(): v for k, v in el.attributes}
            if attrs.get("name", "").lower() == RUNTIME_ID.lower():
                return attrs.get("value", "").strip(), f"application pool '{pool.name}' environmentVariables"
    return "", ""


def _plain_assets(props_of: object, key: str, kind: str, lib_type: str) -> list[DepsAsset]:
    """The assets of one ``runtime`` or ``native`` object of a target's library, each looked for by its file name in
    the app's folder, or by its ``localPath`` (hostpolicy ``deps_entry_t::to_dir_path``); placeholders (``_._``) left
    out, as the host does."""
    out: list[DepsAsset] = []
    for asset, props in (props_of.items() if isinstance(props_of, dict) else ()):
        props = props if isinstance(props, dict) else {}
        local = props.get("localPath")
        name = str(asset).replace("\\", "/").rsplit("/", 1)[-1]
        if name == "_._":
            continue
        path = local if isinstance(local, str) and local else name
        out.append(DepsAsset(path, key, lib_type, kind))
    return out


def _rid_assets(targets_of: object, key: str, kind: str, lib_type: str, arch: Arch, rid_env: str = ""
                ) -> tuple[list[DepsAsset] | None, bool]:
    """``(assets, any listed)`` of ``kind`` among a library's ``runtimeTargets``: those of the first of
    :func:`host_rids` the library has (the host drops the others, and the library's plain assets of that kind when one
    matched: hostpolicy ``perform_rid_fallback``, ``load_framework_dependent``), each looked for at its path below the
    app's folder (``localPath`` when given); None when no RID matched (the plain assets then stand)."""
    by_rid: dict[str, list[DepsAsset]] = {}
    for asset, props in (targets_of.items() if isinstance(targets_of, dict) else ()):
        if not isinstance(props, dict) or str(props.get("assetType", "")).lower() != kind:
            continue
        rid = str(props.get("rid", ""))
        rel = str(asset).replace("\\", "/")
        if rel.rsplit("/", 1)[-1] == "_._":
            by_rid.setdefault(rid, [])
            continue
        local = props.get("localPath")
        path = local if isinstance(local, str) and local else rel
        by_rid.setdefault(rid, []).append(DepsAsset(path, key, lib_type, kind, rid))
    for rid in host_rids(arch, rid_env):
        if rid in by_rid:
            return by_rid[rid], True
    return None, bool(by_rid)


def read_deps(ctx: PlanContext, folder: Path, stem: str, arch: Arch | None = None, rid_graph: bool = False,
              rid_env: str = "") -> tuple[str, tuple[DepsAsset, ...], str, tuple[str, ...]]:
    """``(file shown, assets, why not read, libraries not chosen)`` of ``<stem>.deps.json`` in ``folder``: all empty when
    the image lacks it.

    The format (dotnet/sdk documentation/specs/runtime-configuration-file.md; "Default probing", learn.microsoft.com
    dotnet/core/dependency-loading/default-probing: the host parses it into the TPA list): ``targets`` keyed by the
    ``runtimeTarget`` name (the only target when it names none), each library's ``runtime`` assets the managed
    assemblies of the app and its ``native`` assets the native DLLs it loads by P/Invoke (a runtime-specific publish,
    ``-r win-x86``, lists each package's ``runtimes/win-x86/native/*.dll`` so, the file copied into the app's folder).
    ``arch`` (the worker's, for a framework-dependent app): a library's ``runtimeTargets`` assets too, the ones of the
    runtime identifier the host picks (:func:`_rid_assets`; ``rid_env``: the worker's ``DOTNET_RUNTIME_ID``, tried
    first); a self-contained app's host reads none (hostpolicy
    ``load_self_contained``), so with ``arch`` None they are left out. With ``rid_graph`` (the host picks by the RID
    graph: ``System.Runtime.Loader.UseRidGraph``, or a .NET before 8) that choice is not modelled: the library is
    returned among those not chosen and its assets of that kind left out. Left out: ``runtimepack`` libraries (a
    self-contained app's own runtime, whose bits are judged as such) and ``resources`` (satellite assemblies). Why not
    read: a link out of an offline image, not a regular file, over :data:`DEPS_LIMIT`, not JSON, no target to read.
    Raises nothing. The file is read and parsed once per scan (:func:`_json_document`; a published app's deps.json is
    tens to hundreds of KiB of JSON); only the choice of assets is made per call."""
    shown, doc, why = _deps_document(ctx, folder, stem)
    if doc is None:
        return shown, (), why, ()

    doc = doc if isinstance(doc, dict) else {}
    targets = doc.get("targets")
    targets = targets if isinstance(targets, dict) else {}
    rt = doc.get("runtimeTarget")
    name = rt.get("name") if isinstance(rt, dict) else None
    if not isinstance(name, str) or name not in targets:
        name = next(iter(targets)) if len(targets) == 1 else None
    target = targets.get(name) if name is not None else None
    if not isinstance(target, dict):
        return shown, (), "it names no runtime target the file holds", ()
    libraries = doc.get("libraries")
    libraries = libraries if isinstance(libraries, dict) else {}
    out: list[DepsAsset] = []
    unchosen: dict[str, None] = {}
    for key, entry in target.items():
        info = libraries.get(key)
        lib_type = str(info.get("type", "")) if isinstance(info, dict) else ""
        if lib_type.lower() == "runtimepack" or not isinstance(entry, dict):
            continue
        for kind in ("runtime", "native"):
            chosen: list[DepsAsset] | None = None
            listed = False
            if arch is not None:
                chosen, listed = _rid_assets(entry.get("runtimeTargets"), str(key), kind, lib_type, arch, rid_env)
            if listed and rid_graph:
                unchosen[str(key)] = None
                continue
            out.extend(chosen if chosen is not None else _plain_assets(entry.get(kind), str(key), kind, lib_type))
    return shown, tuple(out), "", tuple(unchosen)


def _deps_document(ctx: PlanContext, folder: Path, stem: str) -> tuple[str, Any, str]:
    """``(file shown, parsed JSON or None, why not read)`` of ``<stem>.deps.json`` in ``folder`` (``("", None, "")`` when
    the image lacks it), through :func:`_json_document`. Raises nothing."""
    candidate = ctx.image.find_child(folder, stem + ".deps.json")
    if candidate is None:
        return "", None, ""
    return _json_document(ctx, candidate, DEPS_LIMIT, "deps.json")


def _json_document(ctx: PlanContext, candidate: Path, limit: int, kind: str) -> tuple[str, Any, str]:
    """``(file shown, parsed JSON or None, why not read)`` of an app's ``candidate`` (its deps.json or
    runtimeconfig.json; at most ``limit`` bytes, ``kind`` naming it in messages), read and parsed once per scan and kept
    in :attr:`PlanContext.json_files`: each worker architecture a pool's outlook plans, and each fix re-plan, asks
    again. Why not read: a link out of an offline image, not a regular file, over ``limit``, not JSON. Raises
    nothing."""
    known = ctx.json_files.get(candidate)
    if known is None:
        shown = ctx.image.display(candidate)
        escapes = ctx.image.escapes(candidate)
        if escapes is not None:
            known = (shown, None, escapes)
        else:
            try:
                known = (shown, read_json(candidate, shown, limit, kind)[0], "")
            except ConfigError as e:
                known = (shown, None, e.message)
        ctx.json_files[candidate] = known
    return known


def _find(ctx: PlanContext, folder: Path, relative: str) -> Path | None:
    """The file ``relative`` (``/``-separated, below ``folder``) in the image; None when absent or not below it."""
    node: Path | None = folder
    for part in relative.split("/"):
        if part in ("", ".", "..") or node is None:
            return None
        node = ctx.image.find_child(node, part)
    return node


def _dependencies(ctx: PlanContext, server: Server, process: Process, app: Application, anc: AspNetCore,
                  folder: Path, folder_win: str, win: str, deployment: DeploymentMode, stem: str,
                  rid_graph: bool = False) -> Iterator[Found]:
    """The managed assemblies ``<stem>.deps.json`` lists as runtime assets (:func:`read_deps`), each a load of the
    worker, role :data:`APP_DEPENDENCY`: the host puts them on the app's trusted platform assemblies list and the
    runtime loads each into the worker on first use ("Default probing", learn.microsoft.com), so an x86-only or x64-only
    one fails there with System.BadImageFormatException. Its native assets, role :data:`APP_NATIVE`: the host puts
    each one's folder in NATIVE_DLL_SEARCH_DIRECTORIES (hostpolicy ``deps_resolver_t::resolve_probe_dirs``), where the
    runtime looks for a P/Invoke's DLL ("Native library loading", learn.microsoft.com). A framework-dependent app's
    ``runtimeTargets`` are chosen for the worker's runtime identifier (``rid_graph``: when the host picks them by the
    RID graph, the library named as not checked). An unread problem (the application partly checked) when the file is
    missing (the host would then take every DLL of the folder; which of them the app uses was not read), not read, or
    lists assets the image lacks (named)."""
    fdd = deployment is DeploymentMode.FRAMEWORK_DEPENDENT
    rid_env, rid_from = runtime_id(process, anc) if fdd else ("", "")
    shown, assets, unread, unchosen = read_deps(ctx, folder, stem, process.arch if fdd else None, rid_graph, rid_env)
    where = ctx.image.display(folder)
    if unread:
        yield Problem(shown, None, f"in-process ASP.NET Core app: {unread}: the app's other assemblies, which its "
                                   "runtime loads on first use, were not checked", unread=True)
        return
    if not shown:
        yield Problem(where, None, f"in-process ASP.NET Core app: {stem}.deps.json is not in the image: the app's "
                                   "other assemblies, which its runtime loads on first use, were not checked (copy the "
                                   "published app's folder)", unread=True)
        return
    seen = {(stem + ".dll").lower()}  # NOTE: the app's own DLL is its own load; the host keeps one asset per name
    missing: dict[str, None] = {}
    found: list[Load] = []
    for asset in assets:
        if asset.path.lower() in seen:
            continue
        seen.add(asset.path.lower())
        if _find(ctx, folder, asset.path) is None:
            missing[asset.path] = None
            continue
        name = ntpath.basename(asset.path.replace("/", "\\"))
        role = APP_NATIVE if asset.kind == "native" else APP_DEPENDENCY
        found.append(Load(process, LoadKind.ASPNETCORE, name,
                          ctx.resolve(ntpath.join(folder_win, asset.path.replace("/", "\\")), server.os_arch,
                                      process.arch),
                          anc.source, AspNetCoreHost(anc, win, role, deployment, library=asset.library,
                                                     library_type=asset.library_type, rid=asset.rid,
                                                     rid_set_in=rid_from if rid_env and asset.rid == rid_env else ""),
                          site=app.site, application=app.path))
    yield from _native_copies(found)
    if unchosen:
        libs = ", ".join(unchosen[:6]) + (f" and {len(unchosen) - 6} more" if len(unchosen) > 6 else "")
        yield Problem(shown, None, f"in-process ASP.NET Core app: {libs}: the host picks "
                                   f"{'its' if len(unchosen) == 1 else 'their'} runtime-specific assets (runtimeTargets) "
                                   "by the RID graph (System.Runtime.Loader.UseRidGraph, or a .NET before 8): which of "
                                   "them the worker loads was not checked", unread=True)
    if missing:
        listed = list(missing)
        files = ", ".join(listed[:6]) + (f" and {len(listed) - 6} more" if len(listed) > 6 else "")
        kinds = {a.kind for a in assets if a.path in missing}
        what = "runtime assets" if kinds == {"runtime"} else "native assets" if kinds == {"native"} else "assets"
        yield Problem(where, None, f"in-process ASP.NET Core app: {files}, which {shown} lists as {what}, "
                                   f"{'is' if len(listed) == 1 else 'are'} not in the image: "
                                   f"{'its' if len(listed) == 1 else 'their'} architecture was not checked (copy the "
                                   "published app's folder)", unread=True)


def _native_copies(loads: list[Load]) -> Iterator[Found]:
    """``loads`` (an app's deps.json assets, in order) as the worker meets them: a native asset of another
    architecture whose file name another native asset of the app has, one that fits the worker, is no load but a
    :class:`Skipped` (:attr:`SkipReason.FITTING_COPY`): the runtime looks for a P/Invoke's DLL in each folder of
    NATIVE_DLL_SEARCH_DIRECTORIES in turn until a load succeeds (dotnet/runtime ``NativeLibrary``
    ``LoadFromNativeDllSearchDirectories``), so the copy that fits is the one loaded, whichever folder comes first,
    and the other, where tried, fails and is passed over. A copy of unknown architecture, or where none fits, stays a
    load. Raises nothing."""
    fitting: dict[str, Load] = {}
    for ld in loads:
        if _role(ld) == APP_NATIVE and ld.fits is True:
            fitting.setdefault(ld.name.lower(), ld)
    for ld in loads:
        other = fitting.get(ld.name.lower()) if _role(ld) == APP_NATIVE and ld.fits is False else None
        if other is None:
            yield ld
            continue
        there = other.binary.windows_path or other.binary.configured
        yield Skipped(ld.process, ld.name, ld.source,
                      f"another copy of {ld.name} fits the worker ({there}): the runtime tries each native search "
                      "folder until a load succeeds, so that copy is the one loaded and this one, of another "
                      "architecture, is passed over where tried", SkipReason.FITTING_COPY, LoadKind.ASPNETCORE, ld.binary,
                      ld.binary.configured, ld.site, ld.application)


def _role(load: Load) -> str:
    """The :attr:`AspNetCoreHost.role` of an ANCM load ("" for any other)."""
    return load.entry.role if isinstance(load.entry, AspNetCoreHost) else ""


def read_runtimeconfig(ctx: PlanContext, folder: Path, anc: AspNetCore
                       ) -> tuple[str, tuple[tuple[str, str], ...], str, str, bool, bool]:
    """``(file shown, ((framework, version), ...), rollForward, why not read, self-contained, RID graph)`` of the app:
    all empty but ``rollForward`` (and RID graph True) when there is none; the file shown and why when it was not read (a
    link out of an offline image, not a regular file, over :data:`RUNTIMECONFIG_LIMIT`, not JSON). Self-contained when
    the file lists ``includedFrameworks`` (the frameworks published with the app: dotnet/sdk documentation/specs/
    runtime-configuration-file.md) rather than ``frameworks`` it needs installed. RID graph: the host may choose
    ``runtimeTargets`` by the RID graph rather than by its own runtime identifiers (:func:`host_rids`): the file sets
    ``System.Runtime.Loader.UseRidGraph`` true, names a framework before 8.0 (a host before .NET 8 always reads the
    graph: learn.microsoft.com dotnet/core/compatibility/deployment/8.0/rid-asset-list), or names none or was not
    read (not known)."""
    stem = _app_stem(anc)
    candidate = ctx.image.find_child(folder, stem + ".runtimeconfig.json") if stem else None
    if candidate is None:  # NOTE: the image's listing (the door), not a walk of the folder of its own
        found = sorted(n for n in ctx.image.listing(folder).files.values() if n.lower().endswith(".runtimeconfig.json"))
        candidate = folder / found[0] if found else None
    if candidate is None:
        return "", (), ROLL_FORWARD_DEFAULT, "", False, True
    shown, doc, why = _json_document(ctx, candidate, RUNTIMECONFIG_LIMIT, "runtimeconfig.json")
    if doc is None:
        return shown, (), ROLL_FORWARD_DEFAULT, why, False, True
    opts = doc.get("runtimeOptions", {}) if isinstance(doc, dict) else {}
    opts = opts if isinstance(opts, dict) else {}
    frameworks = opts.get("frameworks") or ([opts["framework"]] if isinstance(opts.get("framework"), dict) else [])
    frameworks = frameworks if isinstance(frameworks, list) else []
    pairs = tuple((str(f.get("name", "")), str(f.get("version", ""))) for f in frameworks if isinstance(f, dict))
    included = opts.get("includedFrameworks")
    props = opts.get("configProperties")
    graph = props.get("System.Runtime.Loader.UseRidGraph") if isinstance(props, dict) else None
    rid_graph = (graph is True or str(graph).lower() == "true" or not pairs
                 or any(_version(v)[:1] < (8,) for _, v in pairs))
    return (shown, pairs, str(opts.get("rollForward", ROLL_FORWARD_DEFAULT)), "",
            isinstance(included, list) and bool(included) and not pairs, rid_graph)


RUNTIMECONFIG_LIMIT = 1 << 20
"""The largest ``<app>.runtimeconfig.json`` read (1 MiB; a published app's is a few hundred bytes)."""


def _dotnet_root(ctx: PlanContext, server: Server, arch: Arch) -> tuple[str, Path | None, str]:
    """The worker's ``%ProgramFiles%\\dotnet`` (Windows path), its folder in the image (None when absent), and why it
    could not be looked at: the image's problem (a drive not mapped), or a drive a project scan does not hold (IIS
    Express without ``--drive C=``: its image takes an unmapped drive as absent, ``ServerImage.absent_drives``, so
    nothing there is read); "" when it was looked at."""
    env = process_environment(server.os_arch, arch, ctx.env_overrides)
    win = ntpath.join(env["PROGRAMFILES"], "dotnet")
    found = ctx.image.locate(win)
    host = found.host_path if found.host_path is not None and found.host_path.is_dir() else None
    drive = win[:1].upper()
    unread = found.problem or ""
    if not unread and host is None and ctx.image.absent_drives and drive not in ctx.image.drives:
        unread = f"drive {drive}: is not mapped (use --drive {drive}=/path/to/copy)"
    return win, host, unread


def _subdirs(ctx: PlanContext, folder: Path, *names: str) -> list[str]:
    node: Path | None = folder
    for n in names:
        node = ctx.image.find_child(node, n) if node is not None else None
    if node is None:
        return []
    try:
        return sorted((p.name for p in node.iterdir() if p.is_dir()), key=_version)
    except OSError:
        return []


def _runtime_status(ctx: PlanContext, root: Path | None, needs: tuple[tuple[str, str], ...], roll: str) -> tuple[str, str]:
    """``(status, installed)``: status ``ok``, ``no-dotnet`` or ``no-version``."""
    if root is None:
        return "no-dotnet", ""
    installed: list[str] = []
    ok = True
    for name, version in needs:
        have = _subdirs(ctx, root, "shared", name)
        installed.append(f"{name} {', '.join(have) or 'none'}")
        ok = ok and any(satisfies(h, version, roll) for h in have)
    return ("ok" if ok else "no-version"), "; ".join(installed)


def _framework_dependent(ctx: PlanContext, server: Server, process: Process, app: Application, anc: AspNetCore,
                         folder: Path | None, here_win: str, win_folder: str) -> Iterator[Found]:
    """The loads of a framework-dependent app whose files are in ``folder`` (Windows path ``here_win``; the
    application's folder is ``win_folder``): its own assembly and the worker's ``hostfxr.dll``."""
    if folder is not None:
        folder, dll_win = _app_dll_win(ctx, folder, here_win, anc)
    shown, needs, roll, unread, _, rid_graph = (read_runtimeconfig(ctx, folder, anc) if folder is not None
                                                else ("", (), ROLL_FORWARD_DEFAULT, "", False, True))
    if folder is not None:
        # NOTE: with its runtimeconfig.json missing too, that problem names the DLL (one reason, not two)
        yield from _app_assembly(ctx, server, process, app, anc, folder, dll_win, win_folder,
                                 DeploymentMode.FRAMEWORK_DEPENDENT, say_missing=bool(shown), rid_graph=rid_graph)
    if unread:  # NOTE: coverage counts it against the application: the runtime it needs was not read
        yield Problem(shown, None, f"in-process ASP.NET Core app: {unread}: the .NET runtime it needs was not checked",
                      unread=True)
        shown = ""
    elif folder is not None and not shown:
        # NOTE: coverage counts it against the application (issue 20): the runtime it needs was not read
        stem = _app_stem(anc)
        files = f"{stem}.runtimeconfig.json is" if stem else "no <app>.runtimeconfig.json is"
        if stem and ctx.image.find_child(folder, stem + ".dll") is None:
            files = f"{stem}.runtimeconfig.json and {stem}.dll are"
        yield Problem(ctx.image.display(folder), None,
                      f"in-process ASP.NET Core app: {files} not in the image: the .NET runtime it needs was not "
                      "checked (copy the published app's folder)", unread=True)
    fits_at: list[Arch] = []
    anywhere = False
    status = installed = root_win = unread = ""
    root_host: Path | None = None
    for arch in worker_candidates(server.os_arch):
        win, host, problem = _dotnet_root(ctx, server, arch)
        st, inst = _runtime_status(ctx, host, needs, roll)
        anywhere = anywhere or host is not None
        if st == "ok":
            fits_at.append(arch)
        if arch is process.arch:
            status, installed, root_win, root_host, unread = st, inst, win, host, problem
    fxr = _subdirs(ctx, root_host, "host", "fxr") if root_host is not None else []
    if fxr:
        binary = ctx.resolve(ntpath.join(root_win, "host", "fxr", fxr[-1], "hostfxr.dll"), server.os_arch, process.arch)
    elif root_host is not None:
        binary = ctx.resolve(ntpath.join(root_win, "dotnet.exe"), server.os_arch, process.arch)
    else:  # NOTE: no inference from the folder: a missing runtime is aspnetcore-runtime-missing's finding
        binary = BinaryRef(ntpath.join(root_win, "dotnet.exe"), ntpath.join(root_win, "dotnet.exe"), None, None)
    runtime = RuntimeCheck(root_win, status, installed, shown, needs, roll, frozenset(fits_at), anywhere, unread)
    yield Load(process, LoadKind.ASPNETCORE, "hostfxr.dll", binary, anc.source,
               AspNetCoreHost(anc, win_folder, "hostfxr", DeploymentMode.FRAMEWORK_DEPENDENT, runtime),
               site=app.site, application=app.path)


def collect_aspnetcore(ctx: PlanContext, server: Server, process: Process,
                       apps: tuple[Application, ...]) -> Iterator[Found]:
    """In-process ASP.NET Core applications: the runtime bits loaded into the worker (facts D6)."""
    for app in apps:
        anc = app.effects[0].aspnetcore if app.effects else None
        if anc is None or not anc.in_process or not anc.process_path.strip():
            continue  # NOTE: out-of-process apps run in their own dotnet.exe / app.exe
        modules = {m for h in app.effects[0].handlers for m in h.module_names}
        if anc.inherited and not modules & set(ANCM_MODULES):
            continue  # NOTE: a child application that removed the inherited ASP.NET Core handler is no ANCM app
        if "aspnetcoremodule" in modules and "aspnetcoremodulev2" not in modules:
            continue  # NOTE: ANCM V1 hosts out of process only and ignores hostingModel (in-process came with V2)
        where = app_folder(ctx, server, app, process.arch)
        if where is None:
            continue
        win, folder = where
        pp = normalize(anc.process_path.strip().strip('"'))
        exe = pp if ntpath.isabs(pp) else ntpath.normpath(ntpath.join(win, pp))
        here, here_win = folder, win  # NOTE: where the app's own files are; win stays the application's folder
        if folder is not None and ntpath.basename(pp).lower() not in ("dotnet", "dotnet.exe"):
            # NOTE: an app host below the application's folder (processPath=".\\bin\\App.exe"): ANCM joins a relative
            # processPath to the application's physical path and looks for hostfxr.dll and App.dll beside the EXE
            # (HostFxrResolver.cpp GetHostFxrParameters), so the app's files are read there
            sub = _below(ctx, folder, pp)
            if sub is not None:
                here, here_win = sub, ntpath.dirname(exe)
        local = [(n, ctx.image.find_child(here, n)) for n in HOSTING_FILES] if here is not None else []
        for name, host in local:
            if host is not None and name == "aspnetcorev2_inprocess.dll":
                yield Load(process, LoadKind.ASPNETCORE, name, ctx.resolve(ntpath.join(here_win, name), server.os_arch,
                           process.arch), anc.source, AspNetCoreHost(anc, win, "in-process request handler"),
                           site=app.site, application=app.path)
        if ntpath.basename(pp).lower() in ("dotnet", "dotnet.exe"):
            yield from _framework_dependent(ctx, server, process, app, anc, folder, win, win)
            continue
        has_fxr = any(n == "hostfxr.dll" and h is not None for n, h in local)
        # NOTE: a self-contained app's runtimeconfig.json lists includedFrameworks: without hostfxr.dll in the image it
        # is still self-contained, its runtime not copied (it was taken for a framework-dependent app, and judged so)
        if here is not None and not has_fxr and not read_runtimeconfig(ctx, here, anc)[4]:
            yield from _framework_dependent(ctx, server, process, app, anc, here, here_win, win)
            continue
        absent = [n for n, h in local if h is None and n in SELF_CONTAINED_RUNTIME]
        if here is not None and absent:
            yield Problem(ctx.image.display(here), None,
                          f"in-process ASP.NET Core app (self-contained): {', '.join(absent)}, which the worker loads "
                          f"from the app's folder, {'is' if len(absent) == 1 else 'are'} not in the image: "
                          f"{'its' if len(absent) == 1 else 'their'} architecture was not checked (copy the published "
                          "app's folder)", unread=True)
        yield Load(process, LoadKind.ASPNETCORE, ntpath.basename(exe), ctx.resolve(exe, server.os_arch, process.arch),
                   anc.source, AspNetCoreHost(anc, win, "app host", DeploymentMode.SELF_CONTAINED),
                   site=app.site, application=app.path)
        for name, host in local:
            if host is not None and name != "aspnetcorev2_inprocess.dll":
                yield Load(process, LoadKind.ASPNETCORE, name, ctx.resolve(ntpath.join(here_win, name), server.os_arch,
                           process.arch), anc.source, AspNetCoreHost(anc, win, "runtime", DeploymentMode.SELF_CONTAINED),
                           site=app.site, application=app.path)
        yield from _app_assembly(ctx, server, process, app, anc, here, here_win, win, DeploymentMode.SELF_CONTAINED)
