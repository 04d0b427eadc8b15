"""aspnetcore-multiple-inprocess: two in-process ASP.NET Core apps in one worker process.
Source: facts D6 (AspNetCore.Docs in-process-hosting.md: one in-process app per pool; troubleshoot.md:
500.35 "ANCM Multiple In-Process Applications in same Process").

On IIS the worker is a pool's ``w3wp.exe``, and the fix a pool of its own for every app but one. Under IIS Express
the process is the project's ``iisexpress.exe /site:``, which runs every application of its site whatever pool each
names (no WAS: iis-express-facts.md F4.1): two in-process apps of one site answer 500.35 even in two pools
(dotnet/aspnetcore #31544, "IIS Express: HTTP Error 500.35 - ANCM Multiple In-Process Applications in same
Process", "Each iis application has its own application pool"), so a pool move fixes nothing there. What does:
hosting all but one out of process (Tratcher, dotnet/aspnetcore #15371: "If you're running multiple apps together
then you'll need to switch back to OutOfProcess"), or giving the app a site of its own, which Visual Studio starts
in an ``iisexpress.exe`` of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.fixes import iisexpress
from iisbitness.fixes.commands import move_to_new_pool
from iisbitness.loadplan.plan import Evidence, LoadKind, LoadPlan, Process
from iisbitness.model.iis7 import AppPool
from iisbitness.model.iisexpress import IisExpressWorkspace
from iisbitness.rules._common import inprocess_apps, new_pool_for


@rule("aspnetcore-multiple-inprocess", Severity.ERROR, "One application pool hosts two in-process ASP.NET Core apps",
      iisexpress="One iisexpress.exe (a project's site) hosts two in-process ASP.NET Core apps")
def aspnetcore_multiple_inprocess(plan: LoadPlan) -> Iterator[Finding]:
    """Only the first app to start runs; the others answer 500.35."""
    processes = _processes(plan)
    for (name, site), apps in inprocess_apps(plan).items():  # NOTE: per process: IIS Express runs one per project
        if len(apps) < 2:
            continue
        process, loaded_in = processes[(name, site)]  # NOTE: from the loads inprocess_apps counts: every key is there
        pool = plan.server.pool(name) or loaded_in  # NOTE: the configuration's pool, as before; else the process's
        labels = [f"{s}{p}" for s, p in apps]
        symptom = (f"Whichever of {', '.join(labels)} starts first works; the others answer \"HTTP Error 500.35 - "
                   "ANCM Multiple In-Process Applications in same Process\".")
        where = "; ".join(f"{label} at {src}" for label, src in zip(labels, apps.values()))
        if plan.iisexpress is not None:  # NOTE: never the server's finding (w3wp.exe, pool moves) under IIS Express
            yield _iisexpress_finding(plan, plan.iisexpress, process, pool, apps, symptom, where)
            continue
        fix_list: list[Fix] = []
        arch = pool.worker_arch(plan.server.os_arch)
        for app in list(apps)[1:]:
            fix_list.append(move_to_new_pool((app,), new_pool_for(plan, name, name, arch, (app,)), arch,
                                             name, pool.managed_runtime_version, pool.pipeline_mode.value,
                                             plan.server.os_arch, like=pool))
        moves = fix_list
        combined = Fix(summary="Give " + ", ".join(f"{s}{p}" for s, p in list(apps)[1:]) + " a pool of its own "
                               "(one in-process app per pool)",
                       label="a pool of its own for each other app",
                       commands=tuple(dict.fromkeys(c for f in moves for c in f.commands)),
                       powershell=tuple(dict.fromkeys(c for f in moves for c in f.powershell)),
                       edits=tuple(e for f in moves for e in f.edits), note=moves[0].note)
        yield Finding(
            rule=aspnetcore_multiple_inprocess.id, severity=aspnetcore_multiple_inprocess.severity,
            evidence=Evidence.READ, pool=name, site=None, application=None, process="w3wp.exe",
            process_arch=pool.worker_arch(plan.server.os_arch), binary=None, resolved=None, binary_arch=(),
            config=pool.source, symptom=symptom,
            cause=(f"Pool '{name}' hosts {len(labels)} in-process ASP.NET Core apps ({where}). ANCM V2 loads one .NET "
                   "runtime per worker process, so a pool serves one in-process app."),
            fixes=(combined, Fix(summary="Or host all but one of them out of process "
                                                 "(hostingModel=\"outofprocess\" in their web.config)",
                                         label="host the others out of process"),),
        )


def _processes(plan: LoadPlan) -> dict[tuple[str, str], tuple[Process, AppPool]]:
    """Per key of :func:`~iisbitness.rules._common.inprocess_apps` (``(pool name, process site)``, from the same
    loads), the process that hosts those in-process apps (a pool's ``w3wp.exe``, or the ``iisexpress.exe`` of a
    project's site) and its pool. Without ``assert`` (``python -O`` strips those): a key is looked up, never
    assumed."""
    out: dict[tuple[str, str], tuple[Process, AppPool]] = {}
    for ld in plan.loads_of(LoadKind.ASPNETCORE):
        if ld.process.pool is not None:
            out.setdefault((ld.process.pool.name, ld.process.site or ""), (ld.process, ld.process.pool))
    return out


def _iisexpress_finding(plan: LoadPlan, ws: IisExpressWorkspace, process: Process, pool: AppPool,
                        apps: dict[tuple[str, str], str], symptom: str, where: str) -> Finding:
    """The finding under IIS Express: the site's one ``iisexpress.exe``, whatever pool each app names; fixes that
    work there (out-of-process hosting for all but the site's root application ``/``, the project's own app, or the
    first app where the site's root is not among them; or a site of its own), never a pool move."""
    site = process.site or ""
    defined = next((s for s in plan.server.sites if s.name == site), None)
    pools = {a.path: a.pool for a in (defined.applications if defined is not None else ())}
    named = sorted({pools.get(path, "") for _, path in apps} - {""}, key=str.lower)
    # NOTE: the site's root application is the project's own app: it stays in process, whatever the config order
    kept = next((a for a in apps if a[1] == "/"), next(iter(apps)))
    others = [a for a in apps if a != kept]
    project = ws.project_for_site(site)
    cause = (f"{process.describe()} hosts {len(apps)} in-process ASP.NET Core apps ({where}). Visual Studio starts one "
             f"iisexpress.exe per project's site, and it runs every application of site '{site}'"
             + (f", whatever pool each names (here {', '.join(repr(p) for p in named)})" if len(named) > 1 else "")
             + ": IIS Express has no WAS to start a process per pool. ANCM V2 loads one .NET runtime per process, so "
             "the process serves one in-process app; giving an app another pool does not change that.")
    return Finding(
        rule=aspnetcore_multiple_inprocess.id, severity=aspnetcore_multiple_inprocess.severity,
        evidence=Evidence.READ, pool=pool.name, site=site, application=None, process=process.name,
        process_arch=process.arch, binary=None, resolved=None, binary_arch=(),
        config=defined.source if defined is not None else pool.source,  # NOTE: the site's <site>, not a pool
        symptom=symptom, cause=cause, process_arch_assumed=process.arch_assumption is not None, process_site=site,
        fixes=(iisexpress.others_out_of_process(project, others), iisexpress.site_of_its_own(site, others)),
    )
