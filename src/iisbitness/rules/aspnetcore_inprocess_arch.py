"""aspnetcore-inprocess-arch: an in-process ASP.NET Core app whose runtime bits, own assembly or the assemblies its
deps.json lists do not fit the pool.
Sources: facts D6 (AspNetCore.Docs host-and-deploy/iis/in-process-hosting.md, troubleshoot.md: 500.32
"ANCM Failed to Load dll", typically an app published for the other architecture; event 1010 with
ErrorCode 0x800700c1). The app's own DLL built x86 or x64 (``<PlatformTarget>``) in a worker of the other
architecture: the runtime starts, then cannot load it: System.BadImageFormatException "An attempt was made to load a
program with an incorrect format", HTTP 500.30 (AspNetCore.Docs test/troubleshoot-azure-iis.md "500.30 In-Process
Startup Failure": the module starts the CLR in process and the app fails to start; dotnet/runtime#85691 and
dotnet/project-system#3248, dotnet/cli issues 3684 and 7532: a PlatformTarget x86 app run by 64-bit .NET; facts sheet
silent). The other managed assemblies of the app, each a runtime asset its ``<app>.deps.json`` lists ("Default probing",
learn.microsoft.com dotnet/core/dependency-loading/default-probing: the host parses the deps.json into the trusted
platform assemblies list; dotnet/sdk documentation/specs/runtime-configuration-file.md for the format), load into the
same worker on first use: one built x86 or x64 throws the same exception then ("BadImageFormatException Class",
learn.microsoft.com). Its native DLLs (the deps.json's ``native`` assets, and the ``runtimeTargets`` the host picks for
the worker's runtime identifier) load on the first P/Invoke into them: one of another architecture is a warning, as
native-library-arch's (dotnet/runtime coreclr ``vm/nativelibrary.cpp``: BadImageFormatException)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from iisbitness.arch import Arch
from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.fixes import iisexpress
from iisbitness.fixes.commands import aspnetcore_out_of_process, same_in_both
from iisbitness.loadplan.plan import (
    APP_ASSEMBLY,
    APP_DEPENDENCY,
    APP_NATIVE,
    AspNetCoreHost,
    DeploymentMode,
    Load,
    LoadKind,
    LoadPlan,
)
from iisbitness.pe.types import ImageKind, PlatformTarget
from iisbitness.rules._assembly import arch_build_fix, rebuild_fix
from iisbitness.rules._common import binary_words, fixes, flip_fix, split_fix

RID = {Arch.X86: "win-x86", Arch.X64: "win-x64", Arch.ARM64: "win-arm64"}

ANYCPU_LABEL = "build the app as AnyCPU"
"""The label of the app-assembly finding's rebuild (check-app offers no publish for a runtime identifier beside it:
a RuntimeIdentifier of another architecture than an explicit PlatformTarget is SDK error NETSDK1032,
learn.microsoft.com dotnet/core/tools/sdk-errors/netsdk1032)."""


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


def out_of_process_fix(load: Load) -> Fix:
    """Switch the app to out-of-process hosting: it then runs in its own dotnet.exe / app.exe."""
    return aspnetcore_out_of_process(f"{load.site}{load.application}")


@rule("aspnetcore-inprocess-arch", Severity.ERROR,
      "An in-process ASP.NET Core app was built for another architecture than its pool",
      iisexpress="An in-process ASP.NET Core app was built for another architecture than the iisexpress.exe that runs it")
def aspnetcore_inprocess_arch(plan: LoadPlan) -> Iterator[Finding]:
    """One finding per application: HTTP 500.32 on every request when its runtime bits do not fit the worker (they
    load first), else HTTP 500.30 when its own assembly does not (:func:`_app_assembly_finding`)."""
    bad: dict[tuple[str, str, str], list[Load]] = {}
    for load in plan.loads_of(LoadKind.ASPNETCORE):
        if load.process.pool is not None and load.fits is False:
            bad.setdefault((load.process.pool.name, load.site or "", load.application or ""), []).append(load)
    for every in bad.values():
        loads = [ld for ld in every if _role(ld) not in (APP_ASSEMBLY, APP_DEPENDENCY, APP_NATIVE)]
        if not loads:
            # NOTE: the runtime fits: the app's own DLL fails at start (500.30), each dependency at its first use; each
            # has its own fix (an AnyCPU rebuild of the app leaves an x86-only package failing)
            yield from (_app_assembly_finding(plan, ld) for ld in every if _role(ld) == APP_ASSEMBLY)
            yield from (_dependency_finding(plan, ld) for ld in every if _role(ld) == APP_DEPENDENCY)
            yield from (_native_finding(plan, ld) for ld in every if _role(ld) == APP_NATIVE)
            continue
        first = loads[0]
        files = "; ".join(f"{ld.binary.windows_path or ld.binary.configured} is {binary_words(ld, plan.server.os_arch)}" for ld in loads)
        cause = (f"{_hosts(first, DeploymentMode.SELF_CONTAINED)}, so ANCM loads the app's runtime into the worker: "
                 f"{files}. A process can only load DLLs of its own architecture.")
        symptom = (f"{first.site}{first.application}: HTTP Error 500.32 - ANCM Failed to Load dll (Application log: "
                   "event 1010, IIS AspNetCore Module V2, ErrorCode '0x800700c1').")
        # NOTE: under IIS Express the developer's fixes are project settings (fixes/iisexpress.py)
        ws = plan.iisexpress
        tail = ((iisexpress.publish_for(first, ws), iisexpress.out_of_process(ws, first)) if ws is not None
                else (publish_fix(first), out_of_process_fix(first)))
        yield Finding.for_load(first, aspnetcore_inprocess_arch.id, aspnetcore_inprocess_arch.severity, symptom, cause,
                               fixes(flip_fix(plan, first), split_fix(plan, first), *tail))


def _hosts(load: Load, default: DeploymentMode) -> str:
    """``"<process> hosts '<app>' in process (hostingModel=..., processPath=..., <deployment>)"`` of an ANCM load
    (``default`` when its entry names no deployment)."""
    entry = load.entry
    assert isinstance(entry, AspNetCoreHost)
    return (f"{load.process.describe()} hosts '{load.site}{load.application}' in process "
            f"(hostingModel=\"{entry.config.hosting_model}\", processPath=\"{entry.config.process_path}\", "
            f"{(entry.deployment or default).value})")


def _role(load: Load) -> str:
    """The :attr:`AspNetCoreHost.role` of an ANCM load ("" for any other)."""
    return load.entry.role if isinstance(load.entry, AspNetCoreHost) else ""


_BUILT = {PlatformTarget.X86: "x86", PlatformTarget.X64: "x64", PlatformTarget.ARM64: "ARM64"}


def _how_built(load: Load) -> tuple[str | None, bool, str]:
    """``(PlatformTarget, prefer 32-bit, sentence)`` of a managed assembly read: the ``<PlatformTarget>`` it was built
    with (None when AnyCPU or not read), whether it is AnyCPU with 32BITPREF (32-bit only as a DLL, facts I6), and the
    sentence that says so ("" when neither)."""
    image = load.binary.image
    built = _BUILT.get(image.platform_target) if image is not None and image.is_managed else None
    prefer32 = image is not None and image.platform_target is PlatformTarget.ANYCPU_32BIT_PREFERRED
    why = (f" It was built with <PlatformTarget>{built}</PlatformTarget> (Project > Properties > Build > Platform "
           "target), or for a runtime identifier of that architecture." if built is not None else
           " It was built AnyCPU with \"Prefer 32-bit\" (<Prefer32Bit>true</Prefer32Bit>): a DLL that carries "
           "32BITPREF is read as 32-bit only (facts I6, CorFlags documentation)." if prefer32 else "")
    return built, prefer32, why


def _project_change(built: str | None, prefer32: bool, whose: str) -> str:
    """What to change in ``whose`` project so that its assembly builds AnyCPU."""
    return (f"set <Prefer32Bit>false</Prefer32Bit> in {whose}" if prefer32 else
            f"remove <PlatformTarget>{built or 'x86/x64'}</PlatformTarget> from {whose} or set "
            "<PlatformTarget>AnyCPU</PlatformTarget>")


_READY_TO_RUN_WHY = (
    " It is ReadyToRun (what PublishReadyToRun writes with a runtime identifier of that architecture): it carries "
    "code precompiled for {built}, and the runtime refuses a ReadyToRun image compiled for another machine "
    "(BadImageFormatException) rather than compile its IL (dotnet/runtime src/coreclr/vm/readytoruninfo.cpp: \"be "
    "strict about disallowing machine mismatches\").")
"""Why a ReadyToRun assembly fails in the worker: the sentence its finding's cause adds."""


def ready_to_run_fix(plan: LoadPlan, load: Load) -> Fix:
    """The remedy for an app's assembly published ReadyToRun for another architecture than the worker (``load``'s
    image is READY_TO_RUN): publish the app again for the worker's runtime identifier (the SDK compiles the app's
    assemblies ReadyToRun for the RID it publishes for: "ReadyToRun compilation", learn.microsoft.com
    dotnet/core/deploying/ready-to-run), or portable, without a runtime identifier (ReadyToRun "is only available when
    you publish an app that targets specific runtime environments (RID)", same page), whose assemblies keep their IL
    only. Not CorFlags, nor "install the x86 build" of a vendor: the native code was compiled by the app's own publish
    unless the package ships it precompiled, which the note says. Under IIS Express, the project's publish for the
    worker (:func:`iisbitness.fixes.iisexpress.publish_for`). Returns an advisory :class:`Fix`."""
    arch = load.process.arch
    rid = RID[arch]
    image = load.binary.image
    built = image.platform_target.value if image is not None else "another architecture"
    note = (f"'{load.name}' holds code precompiled for {built}: ReadyToRun code runs only on the architecture it was "
            f"compiled for. A publish for {rid} precompiles the app's assemblies for the worker; a portable publish "
            "(no -r, no PublishReadyToRun) leaves their IL, which loads in a worker of either bitness where the "
            "project builds AnyCPU. Where a NuGet package itself ships the file ReadyToRun, check the copy the new "
            f"publish writes (iisbitness inspect) before deploying it; else use a version of the package built AnyCPU "
            f"or for {arch.value}.")
    if plan.iisexpress is not None:
        ws_fix = iisexpress.publish_for(load, plan.iisexpress)
        return replace(ws_fix, note=f"{ws_fix.note or ''} {note}".strip())
    entry = load.entry
    self_contained = isinstance(entry, AspNetCoreHost) and entry.deployment is DeploymentMode.SELF_CONTAINED
    cmds, ps = same_in_both(f"dotnet publish -c Release -r {rid} --self-contained" + ("" if self_contained else " false"))
    return Fix(summary=(f"Publish the app for the pool's architecture ({rid}) or portable (no runtime identifier, "
                        f"without ReadyToRun) and redeploy it: '{load.name}' was published ReadyToRun for {built}"),
               label=f"publish for {rid} (ReadyToRun)", commands=cmds, powershell=ps, note=note)


def _app_assembly_finding(plan: LoadPlan, load: Load) -> Finding:
    """The app's own DLL does not fit the worker whose runtime fits: HTTP 500.30 with a BadImageFormatException.
    Fixes: run the worker at the DLL's architecture (verified or not by re-analysis), move the app to such a pool,
    build the DLL AnyCPU (a ReadyToRun one: the app's publish for the worker's runtime identifier or portable,
    :func:`ready_to_run_fix`). Neither out-of-process hosting (``dotnet.exe`` / the app host of the runtime's architecture
    still cannot load it) nor a publish for the worker's runtime identifier (the project's PlatformTarget stays) is
    offered."""
    app = f"{load.site}{load.application}"
    path = load.binary.windows_path or load.binary.configured
    built, prefer32, why = _how_built(load)
    cause = (f"{_hosts(load, DeploymentMode.FRAMEWORK_DEPENDENT)}: the worker's .NET runtime starts, then "
             f"loads the app's own assembly: {path} is {binary_words(load, plan.server.os_arch)}.{why} "
             "A process can only load assemblies built for its architecture or AnyCPU.")
    symptom = (f"{app}: HTTP Error 500.30 - ASP.NET Core app failed to start; the ANCM stdout log and the Application "
               "log show System.BadImageFormatException: \"Could not load file or assembly "
               f"'{load.name[:-4]}'. An attempt was made to load a program with an incorrect format.\"")
    image = load.binary.image
    if image is not None and image.is_pe and image.kind is ImageKind.READY_TO_RUN:
        cause = (f"{_hosts(load, DeploymentMode.FRAMEWORK_DEPENDENT)}: the worker's .NET runtime starts, then "
                 f"loads the app's own assembly: {path} is {binary_words(load, plan.server.os_arch)}."
                 f"{_READY_TO_RUN_WHY.format(built=image.platform_target.value)}")
        return Finding.for_load(load, aspnetcore_inprocess_arch.id, aspnetcore_inprocess_arch.severity, symptom,
                                cause, fixes(flip_fix(plan, load), split_fix(plan, load), ready_to_run_fix(plan, load)))
    change = _project_change(built, prefer32, "the app's project")
    again = "build it again (F5)" if plan.iisexpress is not None else "publish the app again and redeploy it"
    anycpu = Fix(
        summary=f"Build '{load.name}' as AnyCPU: {change}, {again}",
        label=ANYCPU_LABEL,
        note="An AnyCPU assembly loads in 32-bit and 64-bit processes alike; the app's other assemblies load on "
             "first use and need the same (Project > Properties > Build > Platform target): the scan judges those its "
             "deps.json lists.")
    return Finding.for_load(load, aspnetcore_inprocess_arch.id, aspnetcore_inprocess_arch.severity, symptom, cause,
                            fixes(flip_fix(plan, load), split_fix(plan, load), anycpu))


def _dependency_finding(plan: LoadPlan, load: Load) -> Finding:
    """An assembly the app's ``<app>.deps.json`` lists (role ``app dependency``) does not fit the worker whose runtime
    and app assembly fit: the runtime loads it on first use and throws System.BadImageFormatException ("BadImageFormat
    Exception Class", learn.microsoft.com: a component built for another platform than the process); at startup that
    is HTTP 500.30, on a request an HTTP 500 of that request. Fixes: run the worker at the assembly's architecture
    (verified or not by re-analysis), move the app to such a pool, or the library's own remedy: an AnyCPU version of the
    package, an AnyCPU build of the project, or the referenced DLL's rebuild (:func:`iisbitness.rules._assembly.
    rebuild_fix`); the build for the worker's architecture for native code (a mixed-mode one); for a ReadyToRun one,
    the app's publish for the worker's runtime identifier or portable (:func:`ready_to_run_fix`)."""
    entry = load.entry
    assert isinstance(entry, AspNetCoreHost)
    app = f"{load.site}{load.application}"
    path = load.binary.windows_path or load.binary.configured
    built, prefer32, why = _how_built(load)
    lib, _, version = entry.library.partition("/")
    kind = entry.library_type or "library"
    stem = load.name[:-4] if load.name.lower().endswith(".dll") else load.name
    image = load.binary.image
    if image is not None and image.is_pe and image.kind is ImageKind.READY_TO_RUN:
        why = _READY_TO_RUN_WHY.format(built=image.platform_target.value)
    elif built is not None and entry.library_type.lower() == "package":
        why = f" Its publisher built it with <PlatformTarget>{built}</PlatformTarget>."
    cause = (f"{_hosts(load, DeploymentMode.FRAMEWORK_DEPENDENT)}, and the app's deps.json lists {load.name} as a "
             f"runtime asset of {kind} '{lib}'{f' {version}' if version else ''}: the runtime loads it into the worker "
             f"the first time the app uses it. {path} is {binary_words(load, plan.server.os_arch)}.{why} A process can "
             "only load assemblies built for its architecture or AnyCPU.")
    symptom = (f"{app}: System.BadImageFormatException \"Could not load file or assembly '{stem}'. An attempt was "
               "made to load a program with an incorrect format.\" when the app first uses it: HTTP Error 500.30 if "
               "its startup does (the ANCM stdout log and the Application log show it), else HTTP 500 on the requests "
               "that reach it.")
    arch = load.process.arch
    again = "build it again (F5)" if plan.iisexpress is not None else "publish the app again and redeploy it"
    remedy: Fix
    if image is not None and image.is_pe and image.kind is ImageKind.READY_TO_RUN:
        remedy = ready_to_run_fix(plan, load)
    elif image is not None and image.is_pe and image.kind is not ImageKind.IL_ONLY:
        remedy = arch_build_fix(load)
    elif entry.library_type.lower() == "package":
        remedy = Fix(
            summary=(f"Use a version of package '{lib}' whose {load.name} is AnyCPU (or {arch.value}): update its "
                     f"<PackageReference> (now {version or 'this version'}), {again}"),
            label=f"an AnyCPU build of package {lib}",
            note=(f"'{load.name}' comes from the NuGet package '{lib}', built by its publisher: look for a version (or "
                  f"an {arch.value} variant) whose assembly is AnyCPU (corflags shows PE32 and 32BITREQ : 0), or ask "
                  "the publisher. CorFlags could clear 32BITREQ on an IL-only x86 copy, but the next publish restores "
                  "the package's file."))
    elif entry.library_type.lower() == "project":
        change = _project_change(built, prefer32, f"project '{lib}'")
        remedy = Fix(summary=f"Build project '{lib}' as AnyCPU: {change}, {again}",
                     label=f"build project {lib} as AnyCPU",
                     note="An AnyCPU assembly loads in 32-bit and 64-bit processes alike (Project > Properties > Build "
                          "> Platform target).")
    else:
        remedy = rebuild_fix(load)
    return Finding.for_load(load, aspnetcore_inprocess_arch.id, aspnetcore_inprocess_arch.severity, symptom, cause,
                            fixes(flip_fix(plan, load), split_fix(plan, load), remedy))


def _native_finding(plan: LoadPlan, load: Load) -> Finding:
    """A native DLL the app's ``<app>.deps.json`` lists (role ``app native library``) does not fit the worker whose
    runtime and app assembly fit: the host puts its folder in NATIVE_DLL_SEARCH_DIRECTORIES, and the first P/Invoke into
    it fails: LoadLibrary's ERROR_BAD_EXE_FORMAT outranks "not found", so the runtime throws
    System.BadImageFormatException (dotnet/runtime src/coreclr/vm/nativelibrary.cpp ``LoadLibErrorTracker::Throw``;
    DllNotFoundException for the other errors), an HTTP 500 on the requests that reach it. A warning, as
    native-library-arch's: the rest of the app may work. Fixes: the pool's bitness (verified or not by re-analysis), a
    pool of its own, the publish for the worker's runtime identifier (a runtime-specific publish copies one
    architecture's native assets), or, for an asset the host picked by runtime identifier, the package's build for the
    worker's architecture."""
    entry = load.entry
    assert isinstance(entry, AspNetCoreHost)
    app = f"{load.site}{load.application}"
    arch = load.process.arch
    rid = RID[arch]
    path = load.binary.windows_path or load.binary.configured
    lib, _, version = entry.library.partition("/")
    kind = entry.library_type or "library"
    picked = bool(entry.rid)
    cause = (f"{_hosts(load, DeploymentMode.FRAMEWORK_DEPENDENT)}, and the app's deps.json lists {load.name} as a native "
             f"asset of {kind} '{lib}'{f' {version}' if version else ''}: the host puts its folder in "
             "NATIVE_DLL_SEARCH_DIRECTORIES and the worker loads it on the first P/Invoke into it. "
             f"{path} is {binary_words(load, plan.server.os_arch)}. A process can only load DLLs of its own "
             "architecture.")
    cause += (f" The host picked it from the package's runtime-specific assets by DOTNET_RUNTIME_ID={entry.rid}, set "
              f"in {entry.rid_set_in}: the host tries that runtime identifier before its own ({rid}, win, any)."
              if entry.rid_set_in else
              f" The host picked it from the package's runtime-specific assets for the worker ({entry.rid}: it tries "
              f"{rid}, then win, then any), yet it is not {arch.value}." if picked else
              " No runtime identifier chooses it: the deps.json lists it for every worker, as a publish for one "
              "runtime identifier (dotnet publish -r) writes it, with that architecture's native assets copied into "
              "the app's folder.")
    symptom = (f"{app}: calls into '{load.name}' fail with System.BadImageFormatException \"An attempt was made to load "
               "a program with an incorrect format.\" (0x8007000B), an HTTP 500 on the requests that reach it; the rest "
               "of the app may work.")
    ws = plan.iisexpress
    remedy: Fix
    if entry.rid_set_in:
        remedy = Fix(summary=f"Remove DOTNET_RUNTIME_ID={entry.rid} from {entry.rid_set_in} (or set it to {rid})",
                     label=f"DOTNET_RUNTIME_ID {rid}",
                     note=(f"The host takes the assets of DOTNET_RUNTIME_ID's runtime identifier first; without it, a "
                           f"{arch.value} worker takes {rid}'s, then win's, then any's (dotnet/runtime hostpolicy "
                           "deps_format.cpp try_get_matching_rid)."))
    elif picked:
        remedy = Fix(summary=(f"Use a version of {kind} '{lib}' whose runtimes\\{rid}\\native\\{load.name} is "
                              f"{arch.value}, publish the app again and redeploy it"),
                     label=f"the {arch.value} build of {load.name}",
                     note=f"The package's {rid} folder holds a DLL of another architecture: ask its publisher.")
    elif ws is not None:
        remedy = iisexpress.publish_for(load, ws)
    elif entry.deployment is DeploymentMode.SELF_CONTAINED:
        remedy = publish_fix(load)
    else:
        cmds, ps = same_in_both(f"dotnet publish -c Release -r {rid} --self-contained false")
        remedy = Fix(summary=f"Publish the app for the pool's architecture ({rid}) and redeploy it",
                     label=f"publish for {rid}", commands=cmds, powershell=ps,
                     note=(f"The {rid} publish copies each package's {arch.value} native assets "
                           f"(runtimes\\{rid}\\native) into the app's folder; the worker keeps its "
                           f"{arch.value} ASP.NET Core runtime."))
    return Finding.for_load(load, aspnetcore_inprocess_arch.id, Severity.WARNING, symptom, cause,
                            fixes(flip_fix(plan, load), split_fix(plan, load), remedy))
