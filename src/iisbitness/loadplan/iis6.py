"""The load plan of an IIS 6 server: which process loads which filter and ISAPI extension.

- Worker process isolation (or isolation mode unknown): every w3wp.exe runs at the server-wide
  bitness (facts G4); a worker loads the global filters and the filters of each site it serves
  (when it starts, facts D3), and the ISAPI extensions its applications' ``ScriptMaps`` name (on
  the first matching request, D4).
- IIS 5 isolation mode (G5): filters and in-process applications (``AppIsolated`` 0) load into
  inetinfo.exe, which is always native. INFERENCE / UNCONFIRMED: out-of-process applications
  (``AppIsolated`` 1 or 2) run in dllhost.exe, taken here as native too.
- ASP.NET applications' ``bin`` (:func:`_aspnet_bin`): an application (``AppRoot``) whose ``ScriptMaps`` (or a
  directory's below it) send an extension to ``aspnet_isapi.dll`` runs ASP.NET, whose CLR loads every assembly in
  its ``bin`` (facts D5); a wrong-architecture one gives ``BadImageFormatException``. In worker process isolation mode ASP.NET runs in the
  pool's w3wp.exe, at the server-wide bitness; in IIS 5 isolation mode in ASP.NET's own process model,
  aspnet_wp.exe (Microsoft, "Reviewing How ASP.NET Applications Run In Each Application Isolation Mode",
  Windows Server 2003 docs cc740165: "When running in worker process isolation mode, ASP.NET applications use the
  W3wp.exe worker process ... in IIS 5.0 isolation mode, ASP.NET applications use the ASP.NET request processing
  model, Aspnet_wp.exe"), of the bitness of the Framework folder ASP.NET is registered from
  (:func:`aspnet_processes`). The files are
  read as for IIS 7+ (:func:`iisbitness.loadplan.collectors.bin.app_bin_loads`); a ``bin`` that cannot be listed
  is an unread problem, which coverage counts against its application.

Extensions the ``WebSvcExtRestrictionList`` prohibits never load (HTTP 404.2): they are skipped.
CGI programs (``.exe``) run in their own process: not loads. The result is a
:class:`iisbitness.loadplan.plan.LoadPlan` (so ``binary-missing``/``binary-invalid`` apply) whose
``server`` is a projection of the IIS 6 model for the report, and whose ``iis6`` is that model.
"""

from __future__ import annotations

import ntpath
import re

from iisbitness.arch import Arch
from iisbitness.loadplan.collectors.bin import app_bin_loads
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.plan import (
    Iis6IsapiFilter,
    Load,
    LoadKind,
    LoadPlan,
    Process,
    ScriptMapGroup,
    Skipped,
    SkipReason,
)
from iisbitness.model.edits import aspnet_version
from iisbitness.model.iis6 import Iis6App, Iis6Server
from iisbitness.model.iis7 import Application, AppPool, PipelineMode, Server, Site, VirtualDirectory
from iisbitness.model.source import Problem, ServerKind

_RUNTIME = re.compile(r"\\Microsoft\.NET\\Framework(?:64)?\\v(\d+)\.(\d+)", re.IGNORECASE)


def _runtime(apps: tuple[Iis6App, ...]) -> str:
    """The ASP.NET version the pool's applications map ``.aspx`` to (``v2.0``), or ``""``."""
    for a in apps:
        for s in a.script_maps:
            m = _RUNTIME.search(s.processor)
            if m and s.extension.lower() == ".aspx":
                return f"v{m.group(1)}.{m.group(2)}"
    return ""


def project(server: Iis6Server) -> Server:
    """The IIS 6 model as a :class:`Server` (kind ``iis6``) for the report's pool and site summaries."""
    from_ = f"{server.enable_32bit_from} (server-wide)" if server.enable_32bit_source else "schema default (server-wide)"
    pools = tuple(AppPool(p.name, server.enable_32bit_app_on_win64, from_, True, _runtime(server.apps_in(p.name)),
                          PipelineMode.CLASSIC, p.source, p.declared) for p in server.pools)
    sites = tuple(
        Site(s.name, s.id, tuple(Application(a.site_name, a.path, a.pool,
                                             (VirtualDirectory("/", a.physical_path, a.source),), a.source)
                                 for a in server.apps if a.site_id == s.id and a.is_application), s.source)
        for s in server.sites)
    return Server(server.os_arch, server.os_arch_from, server.config_file, pools, sites, (), server.problems,
                  ServerKind.IIS6)


def _filter_loads(ctx: PlanContext, server: Iis6Server, process: Process, site_ids: list[str],
                  done: set[tuple[str, str]]) -> list[Load]:
    loads: list[Load] = []
    for sid in site_ids:
        for f in server.filters_for(sid):
            site = None if f.site_id is None else server.site_name(sid)
            key = (process.name + (process.pool.name if process.pool else ""), f.location.lower())
            if key in done:
                continue
            done.add(key)
            level = "global (/LM/W3SVC/Filters)" if f.site_id is None else f"site {site} ({f.location.rsplit('/', 1)[0]})"
            loads.append(Load(process, LoadKind.ISAPI_FILTER, f.name, ctx.resolve(f.path, server.os_arch, process.arch),
                              f.source, Iis6IsapiFilter(f, level), site=site))
    return loads


def _extension_loads(ctx: PlanContext, server: Iis6Server, apps: tuple[Iis6App, ...],
                     process_of: dict[str, Process], skipped: list[Skipped]) -> list[Load]:
    """One load per (process, extension DLL), listing every extension and application that maps to it."""
    groups: dict[tuple[str, str], tuple[Process, Iis6App, list[str], list[str]]] = {}
    for app in apps:
        process = process_of[app.location]
        for sm in app.script_maps:
            if not sm.is_isapi:
                continue
            allowed = server.restriction_for(sm.processor)
            if allowed is False:
                skipped.append(Skipped(process, sm.extension, sm.source,
                                       "WebSvcExtRestrictionList prohibits it: requests get HTTP 404.2 and the DLL is "
                                       "never loaded", SkipReason.RESTRICTED, LoadKind.ISAPI_EXTENSION,
                                       ctx.resolve(sm.processor, server.os_arch, process.arch)))
                continue
            pname = process.name + (process.pool.name if process.pool else "")
            key = (pname.lower(), sm.processor.strip().lower())
            if key not in groups:
                groups[key] = (process, app, [], [])
            _, _, exts, labels = groups[key]
            if sm.extension not in exts:
                exts.append(sm.extension)
            if app.label not in labels:
                labels.append(app.label)
    loads: list[Load] = []
    for process, app, exts, labels in groups.values():
        sm = next(s for s in app.script_maps if s.extension == exts[0])
        loads.append(Load(process, LoadKind.ISAPI_EXTENSION, exts[0], ctx.resolve(sm.processor, server.os_arch, process.arch),
                          sm.source, ScriptMapGroup(sm, tuple(exts), tuple(labels)), site=app.site_name,
                          application=app.path))
    return loads


def _aspnet_isapi(server: Iis6Server, app: Iis6App) -> tuple[str | None, str | None]:
    """The first ``aspnet_isapi.dll`` (of any folder) the effective ``ScriptMaps`` of ``app`` send an extension to, and
    the first one that ``WebSvcExtRestrictionList`` does not prohibit (facts G2, G3); None where there is none."""
    first: str | None = None
    for sm in app.script_maps:
        if sm.is_isapi and ntpath.basename(sm.processor.strip().strip('"')).lower() == "aspnet_isapi.dll":
            first = first or sm.processor
            if server.restriction_for(sm.processor) is not False:
                return first, sm.processor
    return first, None


def _aspnet_both(server: Iis6Server) -> tuple[dict[str, str], dict[str, str]]:
    """:func:`aspnet_applications` with ``allowed`` True and False, from one walk of the applications."""
    roots = sorted((a.location.lower() for a in server.apps if a.is_application), key=len, reverse=True)
    allowed: dict[str, str] = {}
    mapped: dict[str, str] = {}
    for a in sorted(server.apps, key=lambda x: not x.is_application):  # NOTE: an application's own maps first
        first, isapi = _aspnet_isapi(server, a)
        if first is None:
            continue
        low = a.location.lower()
        owner = next((r for r in roots if low == r or low.startswith(r + "/")), None)  # NOTE: the deepest first
        if owner is not None:
            mapped.setdefault(owner, first)
            if isapi is not None:
                allowed.setdefault(owner, isapi)
    return allowed, mapped


def aspnet_applications(server: Iis6Server) -> dict[str, str]:
    """The applications (``AppRoot``) that run ASP.NET, by key location (lower case), each with the ``aspnet_isapi.dll``
    path that starts it: their own ``ScriptMaps``, or else those of a directory below them that is no application of
    its own, send a request to ``aspnet_isapi.dll`` (:func:`_aspnet_isapi`: the first one ``WebSvcExtRestrictionList``
    does not prohibit). Such a request starts ASP.NET, and
    with it the application's AppDomain, which loads its ``bin`` (facts D5)."""
    return _aspnet_both(server)[0]


def aspnet_processes(server: Iis6Server, running: dict[str, str] | None = None) -> dict[str, tuple[str, Arch]]:
    """Per application that runs ASP.NET (:func:`aspnet_applications`, by key location in lower case; ``running``:
    what it returns for ``server``, when the caller has it), the process its
    ASP.NET runs in and that process's architecture: in worker process isolation mode its pool's ``w3wp.exe``, at the
    server-wide bitness (none for a pool with no ``IIsApplicationPool`` key: no worker starts); in IIS 5 isolation
    mode ``aspnet_wp.exe`` (cc740165, module docstring), of the Framework folder of the ``aspnet_isapi.dll`` that
    starts it (``Framework64``: x64; ``Framework``: x86; another folder: the OS's architecture). INFERENCE: the
    ``aspnet_isapi.dll`` starts the ``aspnet_wp.exe`` of its own folder; one of the other bitness than
    inetinfo.exe/dllhost.exe does not load at all (``iis6-extension-arch`` says so), and the fix that registers the
    other Framework's runs it there."""
    pools = {p.name.lower(): p for p in server.pools}
    out: dict[str, tuple[str, Arch]] = {}
    apps = {a.location.lower(): a for a in server.apps}
    for loc, isapi in (aspnet_applications(server) if running is None else running).items():
        if server.iis5_mode:
            framework = aspnet_version(isapi)
            out[loc] = ("aspnet_wp.exe", framework[0] if framework is not None else server.os_arch)
            continue
        pool = pools.get(apps[loc].pool.lower())
        if pool is not None and pool.declared:
            out[loc] = ("w3wp.exe", server.worker_arch)
    return out


_AspNetIndex = tuple[dict[tuple[str, str], Application], dict[str, str], frozenset[str]]
"""Per :func:`_aspnet_index`."""


def _aspnet_index(server: Iis6Server, view: Server) -> _AspNetIndex:
    """``(projected applications by (site, path) lower case, aspnet_applications allowed, and with prohibited ones)``
    of ``server``: what :func:`_aspnet_bin` asks for each pool, worked out once per plan (one walk of the
    applications for both: :func:`_aspnet_both`)."""
    projected = {(a.site.lower(), a.path.lower()): a for s in view.sites for a in s.applications}
    allowed, mapped = _aspnet_both(server)
    return projected, allowed, frozenset(mapped)


def _aspnet_bin(ctx: PlanContext, view: Server, index: _AspNetIndex, process: Process, apps: tuple[Iis6App, ...],
                problems: list[Problem], skipped: list[Skipped]) -> list[Load]:
    """The ``bin`` loads of the applications of ``apps`` that run ASP.NET (:func:`aspnet_applications`, in
    ``index``: :func:`_aspnet_index`), in ``process``
    (see the module docstring), read as :func:`iisbitness.loadplan.collectors.bin.app_bin_loads` reads them for IIS
    7+; its unread problems go to ``problems`` (each folder once). Native DLLs in ``bin`` are left out: ASP.NET's
    ``bin`` scan skips them (facts correction C2), only a P/Invoke loads one (facts addition P1), which IIS 7+'s
    ``native-library-arch`` models and IIS 6 scans do not. The ``bin`` assemblies of the other applications go to ``skipped``, each with why
    ASP.NET never starts for its application (no script map to ``aspnet_isapi.dll``, or one the
    ``WebSvcExtRestrictionList`` prohibits), so that the load map says why they give no finding."""
    projected, aspnet, mapped = index
    loads: list[Load] = []
    for a in apps:
        found = projected.get((a.site_name.lower(), a.path.lower())) if a.is_application else None
        if found is None:
            continue
        runs = a.location.lower() in aspnet
        for item in app_bin_loads(ctx, view, process, (found,)):
            if isinstance(item, Problem):
                if runs and item not in problems:
                    problems.append(item)
            elif isinstance(item, Load) and item.kind is LoadKind.BIN_ASSEMBLY:
                if runs:
                    loads.append(item)
                    continue
                why = ("the WebSvcExtRestrictionList prohibits the aspnet_isapi.dll its script maps name (HTTP 404.2)"
                       if a.location.lower() in mapped else "no script map of it names aspnet_isapi.dll")
                skipped.append(Skipped(process, item.name, item.source,
                                       f"ASP.NET never starts for {a.label}: {why}, so its bin is never loaded",
                                       SkipReason.NO_ASPNET_SCRIPT_MAP, item.kind, item.binary, site=item.site,
                                       application=item.application))
    return loads


def build_iis6(server: Iis6Server, ctx: PlanContext) -> LoadPlan:
    """Build the load plan of an IIS 6 server (see the module docstring).

    Raises:
        ValueError: ``ctx`` was made for another server (its ``os_assumed`` is not ``server.os_arch_assumed``).
    """
    view = project(server)
    # NOTE: one OS per scan: the context serves one server, made for it (PlanContext(os_assumed=...))
    if ctx.os_assumed != server.os_arch_assumed:  # NOTE: not an assert: python -O would judge hybrids by a guess
        raise ValueError("a PlanContext serves one server: give it os_assumed=backend.os_assumed")
    loads: list[Load] = []
    skipped: list[Skipped] = []
    idle: list[str] = []
    done: set[tuple[str, str]] = set()
    problems: list[Problem] = []
    index = _aspnet_index(server, view)
    if server.iis5_mode:
        inetinfo = Process("inetinfo.exe", server.os_arch)
        dllhost = Process("dllhost.exe", server.os_arch)
        loads.extend(_filter_loads(ctx, server, inetinfo, [s.id for s in server.sites], done))
        process_of = {a.location: inetinfo if a.isolated == 0 else dllhost for a in server.apps}
        loads.extend(_extension_loads(ctx, server, server.apps, process_of, skipped))
        # NOTE: one aspnet_wp.exe per Framework folder's bitness (aspnet_processes); the others' bin is skipped
        at = aspnet_processes(server, index[1])
        for arch in dict.fromkeys(a for _, a in at.values()):
            mine = tuple(a for a in server.apps if a.is_application and at.get(a.location.lower(), ("", None))[1] is arch)
            loads.extend(_aspnet_bin(ctx, view, index, Process("aspnet_wp.exe", arch), mine, problems, skipped))
        rest = tuple(a for a in server.apps if a.is_application and a.location.lower() not in at)
        loads.extend(_aspnet_bin(ctx, view, index, Process("aspnet_wp.exe", server.os_arch), rest, problems, skipped))
        idle = [p.name for p in view.pools]
    else:
        for pool in view.pools:
            apps = server.apps_in(pool.name)
            if not apps:
                idle.append(pool.name)
                continue
            if not pool.declared:
                continue  # NOTE: no IIsApplicationPool key: W3SVC starts no worker for it (pool-undefined)
            process = Process("w3wp.exe", server.worker_arch, pool)
            site_ids = list(dict.fromkeys(a.site_id for a in apps))
            loads.extend(_filter_loads(ctx, server, process, site_ids, done))
            loads.extend(_extension_loads(ctx, server, apps, {a.location: process for a in apps}, skipped))
            loads.extend(_aspnet_bin(ctx, view, index, process, apps, problems, skipped))
    present = [ld for ld in loads if ld.binary.resolved is not None]
    config_only = bool(loads) and not present
    return LoadPlan(view, tuple(loads), tuple(skipped), tuple(idle), config_only, tuple(problems), (), server,
                    deps_unchecked=ctx.deps_unchecked, on_server=ctx.image.is_the_server)
