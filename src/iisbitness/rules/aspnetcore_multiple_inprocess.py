"""aspnetcore-multiple-inprocess: two in-process ASP.NET Core apps in one application pool.
Source: facts D6 (AspNetCore.Docs in-process-hosting.md: one in-process app per pool; troubleshoot.md:
500.35 "ANCM Multiple In-Process Applications in same Process")."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.fixes.commands import move_to_new_pool
from iisbitness.loadplan.plan import Evidence, LoadPlan
from iisbitness.rules._common import inprocess_apps, new_pool_for


@rule("aspnetcore-multiple-inprocess", Severity.ERROR, "One application pool hosts two in-process ASP.NET Core apps")
def aspnetcore_multiple_inprocess(plan: LoadPlan) -> Iterator[Finding]:
    """Only the first app to start runs; the others answer 500.35."""
    for (name, _), apps in inprocess_apps(plan).items():  # NOTE: per process: IIS Express runs one per project
        if len(apps) < 2:
            continue
        pool = plan.server.pool(name)
        assert pool is not None
        labels = [f"{s}{p}" for s, p in apps]
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
            config=pool.source,
            symptom=(f"Whichever of {', '.join(labels)} starts first works; the others answer \"HTTP Error 500.35 - "
                     "ANCM Multiple In-Process Applications in same Process\"."),
            cause=(f"Pool '{name}' hosts {len(labels)} in-process ASP.NET Core apps ("
                   + "; ".join(f"{label} at {src}" for label, src in zip(labels, apps.values()))
                   + "). ANCM V2 loads one .NET runtime per worker process, so a pool serves one in-process app."),
            fixes=(combined, Fix(summary="Or host all but one of them out of process "
                                                 "(hostingModel=\"outofprocess\" in their web.config)",
                                         label="host the others out of process"),),
        )
