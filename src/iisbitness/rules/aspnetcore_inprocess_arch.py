"""aspnetcore-inprocess-arch: an in-process ASP.NET Core app whose runtime bits do not fit the pool.
Sources: facts D6 (AspNetCore.Docs host-and-deploy/iis/in-process-hosting.md, troubleshoot.md: 500.32
"ANCM Failed to Load dll", typically an app published for the other architecture; event 1010 with
ErrorCode 0x800700c1). A framework-dependent app's own assembly built x86 or x64 (``<PlatformTarget>``) under the
worker's runtime of the other architecture: System.BadImageFormatException at start-up (dotnet/cli issues 3684, 7532:
an x86 app run by the x64 ``dotnet``), troubleshoot.md's 500.30 "In-Process Start Failure"."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.arch import Arch
from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.fixes import iisexpress
from iisbitness.fixes.commands import aspnetcore_out_of_process, same_in_both
from iisbitness.loadplan.plan import AspNetCoreHost, DeploymentMode, Load, LoadKind, LoadPlan
from iisbitness.rules._common import binary_words, fixes, flip_fix, split_fix

RID = {Arch.X86: "win-x86", Arch.X64: "win-x64", Arch.ARM64: "win-arm64"}


def publish_parts(arch: Arch) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """``dotnet publish`` for ``arch``'s runtime identifier as cmd.exe and PowerShell lines, and its note.

    ``--self-contained`` is written out: since the .NET 8 SDK a runtime identifier no longer implies it ("Runtime-specific
    apps no longer self-contained", learn.microsoft.com dotnet/core/compatibility/sdk/8.0/runtimespecific-app-default),
    so ``-r`` alone would turn a self-contained app into one that needs the runtime installed; the note gives the
    framework-dependent form."""
    rid = RID[arch]
    cmds, ps = same_in_both(f"dotnet publish -c Release -r {rid} --self-contained")
    return cmds, ps, (f"Framework-dependent apps: publish with -r {rid} --self-contained false, and install the "
                      f"{arch.value} ASP.NET Core runtime (Hosting Bundle).")


def publish_fix(load: Load) -> Fix:
    """Publish the app for the worker's runtime identifier (not checkable offline)."""
    rid = RID[load.process.arch]
    cmds, ps, note = publish_parts(load.process.arch)
    return Fix(summary=f"Publish the app for the pool's architecture ({rid}) and redeploy it",
               label=f"publish for {rid}", commands=cmds, powershell=ps, note=note)


def app_build_fix(load: Load) -> Fix:
    """Build the framework-dependent app's own assembly AnyCPU (or for the worker): advice, not checkable offline."""
    arch = load.process.arch
    target = {Arch.X86: "x86", Arch.X64: "x64", Arch.ARM64: "ARM64"}[arch]
    return Fix(summary=f"Build '{load.name}' as AnyCPU (or {target}): remove <PlatformTarget> from the app's project (or "
                       f"set <PlatformTarget>AnyCPU</PlatformTarget>) and redeploy it",
               label="build the app as AnyCPU",
               note="A framework-dependent app runs in the .NET runtime of the worker's architecture: its own assembly "
                    "must be AnyCPU or built for that architecture.")


def out_of_process_fix(load: Load) -> Fix:
    """Switch the app to out-of-process hosting: it then runs in its own dotnet.exe / app.exe."""
    return aspnetcore_out_of_process(f"{load.site}{load.application}")


@rule("aspnetcore-inprocess-arch", Severity.ERROR,
      "An in-process ASP.NET Core app was built for another architecture than its pool",
      iisexpress="An in-process ASP.NET Core app was built for another architecture than the iisexpress.exe that runs it")
def aspnetcore_inprocess_arch(plan: LoadPlan) -> Iterator[Finding]:
    """One finding per application: HTTP 500.32 on every request; HTTP 500.30 when only the framework-dependent app's own
    assembly does not fit (the worker's runtime loads, then refuses it: System.BadImageFormatException)."""
    bad: dict[tuple[str, str, str], list[Load]] = {}
    for load in plan.loads_of(LoadKind.ASPNETCORE):
        if load.process.pool is not None and load.fits is False:
            bad.setdefault((load.process.pool.name, load.site or "", load.application or ""), []).append(load)
    for loads in bad.values():
        first = loads[0]
        files = "; ".join(f"{ld.binary.windows_path or ld.binary.configured} is {binary_words(ld, plan.server.os_arch)}" for ld in loads)
        entry = first.entry
        assert isinstance(entry, AspNetCoreHost)
        model = (entry.deployment or DeploymentMode.SELF_CONTAINED).value
        cause = (f"{first.process.describe()} hosts '{first.site}{first.application}' in process "
                 f"(hostingModel=\"{entry.config.hosting_model}\", processPath=\"{entry.config.process_path}\", "
                 f"{model}), so ANCM loads the app's runtime into the worker: {files}. "
                 "A process can only load DLLs of its own architecture.")
        symptom = (f"{first.site}{first.application}: HTTP Error 500.32 - ANCM Failed to Load dll (Application log: "
                   "event 1010, IIS AspNetCore Module V2, ErrorCode '0x800700c1').")
        # NOTE: under IIS Express the developer's fixes are project settings (fixes/iisexpress.py)
        ws = plan.iisexpress
        if all(isinstance(ld.entry, AspNetCoreHost) and ld.entry.role == "app assembly" for ld in loads):
            # NOTE: the worker's own runtime loads (hostfxr, coreclr of its architecture), then the app's assembly built
            # for the other one is refused: the start-up fails with BadImageFormatException (dotnet/cli issues 3684,
            # 7532), HTTP 500.30; out-of-process hosting would run it in a dotnet.exe of the machine's architecture,
            # which may refuse it alike, and a publish with -r keeps an explicit <PlatformTarget>: neither is offered
            cause = (f"{first.process.describe()} hosts '{first.site}{first.application}' in process "
                     f"(hostingModel=\"{entry.config.hosting_model}\", processPath=\"{entry.config.process_path}\", "
                     f"framework-dependent): the {first.process.arch.value} .NET runtime of the worker loads the app's "
                     f"own assembly: {files}. The CLR loads only assemblies built AnyCPU or for its process's "
                     "architecture (<PlatformTarget>).")
            symptom = (f"{first.site}{first.application}: HTTP Error 500.30 - ASP.NET Core app failed to start; the ANCM "
                       "stdout log and the Application log show System.BadImageFormatException: \"Could not load file or "
                       f"assembly '{first.name[:-4]}'. An attempt was made to load a program with an incorrect format.\"")
            build = iisexpress.platform_target(first) if ws is not None else app_build_fix(first)
            yield Finding.for_load(first, aspnetcore_inprocess_arch.id, aspnetcore_inprocess_arch.severity, symptom,
                                   cause, fixes(flip_fix(plan, first), split_fix(plan, first), build))
            continue
        tail = ((iisexpress.publish_for(first, ws), iisexpress.out_of_process(ws, first)) if ws is not None
                else (publish_fix(first), out_of_process_fix(first)))
        yield Finding.for_load(first, aspnetcore_inprocess_arch.id, aspnetcore_inprocess_arch.severity, symptom, cause,
                               fixes(flip_fix(plan, first), split_fix(plan, first), *tail))
