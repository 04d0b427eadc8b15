"""Build the load plan of IIS Express on a developer machine: one ``iisexpress.exe`` per Visual Studio project.

Visual Studio starts ``iisexpress.exe /config:<file> /site:<project's site>``: one process serves one
site, at the bitness the project asks for (iis-express-facts.md F1.1, F2.1-F2.3), whatever the pool's
``enable32BitAppOnWin64`` says (no WAS, F4.1). The same collectors as for IIS run for that process, so
the same rules judge it: global modules (``%IIS_BIN%`` resolves to that bitness's install folder, F1.3;
:func:`iisbitness.image.paths.process_environment`), the project's ``bin`` (F4.3), and for ASP.NET Core
the app Visual Studio starts through ``%LAUNCHER_PATH%`` (F2.4; since ASP.NET Core 3.0 the app's own EXE,
dotnet/aspnetcore #14735): the app is planned from the project's build or publish folder
(:attr:`IisExpressProject.output_folder`) instead of the project folder.
Sites that are no project of the scanned folder are not planned; pools no project uses are idle.
"""

from __future__ import annotations

from dataclasses import replace

from iisbitness.loadplan.build import served, sort_found
from iisbitness.loadplan.collectors import COLLECTORS
from iisbitness.loadplan.context import Collector, PlanContext
from iisbitness.loadplan.plan import Load, LoadPlan, Process, Skipped
from iisbitness.model.iis7 import Application, AspNetCore, Server, WebConfigEffect
from iisbitness.model.iisexpress import IisExpressProject, IisExpressWorkspace, ProjectKind
from iisbitness.model.source import ConfigSource, Problem

IISEXPRESS = "iisexpress.exe"
DEFAULT_HOSTING_MODEL = "InProcess"
"""ASP.NET Core 3.0 and later host in process unless told otherwise (AspNetCore.Docs in-process-hosting.md; F2.4)."""


def as_launched(app: Application, project: IisExpressProject) -> Application:
    """The root application as ANCM sees it under Visual Studio: ``%LAUNCHER_PATH%`` is the project's built
    app, so its folder is the build output (the ``aspNetCore`` element of the site's ``<location>``)."""
    if project.kind is not ProjectKind.ASPNETCORE or project.output_folder is None or app.path != "/":
        return app
    root = app.root_vdir
    effects = app.effects or (WebConfigEffect("", (), (), None),)
    first = effects[0]
    anc = first.aspnetcore or AspNetCore("%LAUNCHER_PATH%", project.hosting_model or DEFAULT_HOSTING_MODEL, "",
                                         ConfigSource(project.project_file))
    if "%launcher_path%" in anc.process_path.lower():
        anc = replace(anc, process_path=project.launcher or "dotnet")
    if project.hosting_model:
        anc = replace(anc, hosting_model=project.hosting_model)
    vdirs = tuple(replace(v, physical_path=project.output_folder) if v is root else v for v in app.vdirs)
    return replace(app, vdirs=vdirs, effects=(replace(first, aspnetcore=anc),) + tuple(effects[1:]))


def process_for(server: Server, project: IisExpressProject, apps: tuple[Application, ...]) -> Process | None:
    """The ``iisexpress.exe`` that serves ``project``: its architecture, its site (one process per project, whatever
    pool other projects' sites share with it: :attr:`Process.site`), and its site's pool."""
    root = next((a for a in apps if a.path == "/"), apps[0] if apps else None)
    pool = server.pool(root.pool) if root is not None else None
    if pool is None:
        return None
    assumed = project.reason if project.arch_from.assumed else None
    return Process(IISEXPRESS, project.arch, pool, assumed, project.site)


def build_iisexpress(workspace: IisExpressWorkspace, ctx: PlanContext,
                     collectors: tuple[Collector, ...] = COLLECTORS) -> LoadPlan:
    """Build the load plan of every project's ``iisexpress.exe``; never raises for bad binaries.

    Raises:
        ValueError: ``ctx`` was made for another server (its ``os_assumed`` is not ``server.os_arch_assumed``).
    """
    server = workspace.server
    # NOTE: one OS per scan: the context serves one server, made for it (PlanContext(os_assumed=...))
    if ctx.os_assumed != server.os_arch_assumed:  # NOTE: not an assert: python -O would judge hybrids by a guess
        raise ValueError("a PlanContext serves one server: give it os_assumed=backend.os_assumed")
    loads: list[Load] = []
    skipped: list[Skipped] = []
    problems: list[Problem] = []
    used: set[str] = set()
    for project in workspace.projects:
        site = next((s for s in server.sites if s.name == project.site), None)
        if site is None:
            continue
        apps = tuple(as_launched(a, project) for a in site.applications)
        process = process_for(server, project, apps)
        if process is None or process.pool is None:
            continue
        used.add(process.pool.name.lower())
        for collect in collectors:
            sort_found(collect(ctx, server, process, served(apps)), loads, skipped, problems)
    idle = tuple(p.name for p in server.pools if p.name.lower() not in used)
    return LoadPlan(server, tuple(loads), tuple(skipped), idle, False, tuple(dict.fromkeys(problems)),
                    iisexpress=workspace, deps_unchecked=ctx.deps_unchecked, on_server=ctx.image.is_the_server)
