"""aspnetcore-runtime-missing: a framework-dependent in-process app whose pool architecture has no
(suitable) .NET install. ANCM uses the dotnet of the worker's %ProgramFiles% (Program Files (x86)
for a 32-bit pool). Sources: facts D6 (500.31 "ANCM Failed to Find Native Dependencies": in a
32-bit pool, the x86 runtime is missing), B11; runtimeconfig.json and roll-forward: dotnet/runtime docs.

Config-only images: when the image holds no dotnet folder for any architecture, the runtime cannot be
checked; the finding is then a NOTE with evidence ``unknown`` rather than an error (do not cry wolf
over a copy of the configuration files), and an error only when the other architecture's dotnet is
there (the image clearly holds .NET, just not for this pool).

No finding at all where the dotnet folder was not looked at (:attr:`RuntimeCheck.unread`: the image does not hold
its drive, as an IIS Express scan without the developer machine's ``--drive C=``): nothing was read that says the
runtime is missing, so no symptom is asserted; coverage says the app was partly checked and what to pass
(:attr:`iisbitness.loadplan.plan.Unchecked.RUNTIME`, audit9 H2)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from iisbitness.arch import format_arches
from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.fixes import iisexpress
from iisbitness.fixes.commands import flip_pool, move_to_new_pool
from iisbitness.loadplan.plan import AspNetCoreHost, Evidence, Load, LoadKind, LoadPlan
from iisbitness.rules._common import new_pool_for, runtime_check, runtime_move, runtime_target


def _process_path(load: Load) -> str:
    return load.entry.config.process_path if isinstance(load.entry, AspNetCoreHost) else ""


def _fit_fixes(plan: LoadPlan, load: Load) -> tuple[Fix, ...]:
    pool = load.process.pool
    assert pool is not None
    target = runtime_target(load)
    if target is None:
        return ()
    if plan.iisexpress is not None:  # NOTE: IIS Express: the project's bitness switch, not the pool (fixes/iisexpress.py)
        project = iisexpress.project_of(plan.iisexpress, load)
        return (iisexpress.bitness_fix(project, target),) if project is not None else ()
    out = [flip_pool(pool.name, target, plan.server.os_arch, declared=pool.declared)]
    if runtime_move(plan, load) is not None and load.site is not None and load.application is not None:
        moved = ((load.site, load.application),)
        out.append(move_to_new_pool(moved, new_pool_for(plan, f"{pool.name} ({target.value})", pool.name, target, moved),
                                    target, pool.name, pool.managed_runtime_version, pool.pipeline_mode.value,
                                    plan.server.os_arch, like=pool))
    return tuple(out)


@rule("aspnetcore-runtime-missing", Severity.ERROR,
      "A framework-dependent in-process app has no suitable .NET runtime for its pool's architecture",
      iisexpress=("A framework-dependent in-process app has no suitable .NET runtime for the architecture of the "
                  "iisexpress.exe that runs it"))
def aspnetcore_runtime_missing(plan: LoadPlan) -> Iterator[Finding]:
    """HTTP 500.31 on every request of the app."""
    for load in plan.loads_of(LoadKind.ASPNETCORE):
        runtime = runtime_check(load)
        if load.process.pool is None or runtime is None or runtime.status == "ok" or runtime.unread:
            continue  # NOTE: unread: coverage's (Unchecked.RUNTIME), never a symptom of a machine not read
        status = runtime.status
        app = f"{load.site}{load.application}"
        arch = load.process.arch
        root = runtime.dotnet_root
        needs = "; ".join(f"{n} {v}" for n, v in runtime.requires) or "the ASP.NET Core shared framework"
        install = Fix(summary=f"Install the {arch.value} ASP.NET Core Runtime / Hosting Bundle ({needs}) so that "
                              f"{root} holds it",
                      label=f"install the {arch.value} ASP.NET Core runtime",
                      note="The Hosting Bundle installs the x64 and x86 runtimes; a runtime-only installer does one.")
        symptom = f"{app}: HTTP Error 500.31 - ANCM Failed to Find Native Dependencies (Application log: event 1010)."
        finding = Finding.for_load(load, aspnetcore_runtime_missing.id, aspnetcore_runtime_missing.severity, symptom,
                                   "", _fit_fixes(plan, load) + (install,))
        if status == "no-dotnet" and not runtime.dotnet_anywhere:
            # NOTE: IIS Express: the image is the developer machine's drive given with --drive C= (or the live one)
            held, machine = (("the developer machine's drive read holds", "the machine") if plan.iisexpress is not None
                             else ("the image holds", "the server"))
            finding = replace(finding, symptom=f"{app}: if {machine} has no {root} either, HTTP Error 500.31 - ANCM "
                                               "Failed to Find Native Dependencies (Application log: event 1010).")
            yield _replace(finding, Severity.NOTE, Evidence.UNKNOWN,
                           f"Could not be checked: {load.process.describe()} would use the .NET install in {root}, "
                           f"and {held} no dotnet folder in either Program Files folder (a configuration-only "
                           f"copy?). If {machine} has none either, the app fails with 500.31.")
        elif status == "no-dotnet":
            where = "on the developer machine's drive read" if plan.iisexpress is not None else "in the image"
            yield _replace(finding, finding.severity, Evidence.READ,
                           f"{load.process.describe()} hosts '{app}' in process with processPath="
                           f"\"{_process_path(load)}\"; ANCM uses the .NET install of the worker's %ProgramFiles%, "
                           f"{root}, which is not {where}, while another architecture's install is "
                           f"(it fits at: {format_arches(runtime.fits_at) if runtime.fits_at else 'none that satisfies the app'}).")
        else:
            yield _replace(finding, finding.severity, Evidence.READ,
                           f"'{app}' asks for {needs} (rollForward {runtime.roll_forward}, "
                           f"{runtime.runtimeconfig or 'runtimeconfig.json'}), but {root} has {runtime.installed}.")


def _replace(f: Finding, severity: Severity, evidence: Evidence, cause: str) -> Finding:
    return replace(f, severity=severity, evidence=evidence, cause=cause)
