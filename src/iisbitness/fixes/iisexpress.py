"""Fixes where a developer works: the project's IIS Express bitness, the launch profile, the platform target.

On a developer machine the fix for a process/binary mismatch is not an appcmd line but a project setting
(iis-express-facts.md F2.1-F2.3, F4.2):

- .NET Framework web projects: ``<Use64BitIISExpress>true|false</Use64BitIISExpress>`` in the project file
  (Project > Properties > Web > Servers) or its ``.csproj.user``; empty leaves it to Visual Studio's option
  "Use the 64 bit version of IIS Express for web sites and projects" (Tools > Options > Projects and
  Solutions > Web Projects), which is not stored in the project;
- ASP.NET Core: ``"use64Bit": true|false`` in the ``IISExpress`` profile of ``Properties/launchSettings.json``;
- the offending binary's own build: ``<PlatformTarget>`` of the project that builds it (a DLL built
  AnyCPU runs in either ``iisexpress.exe``, F4.2).

The bitness fix carries a :class:`~iisbitness.model.edits.SetIisExpressArch` edit, so it is verified on a
copy of the workspace like any other fix.
"""

from __future__ import annotations

from dataclasses import replace

from iisbitness.arch import Arch
from iisbitness.findings import Fix
from iisbitness.fixes.commands import Program, Quoted, retarget, same_in_both
from iisbitness.loadplan.plan import Load
from iisbitness.model.edits import SetIisExpressArch
from iisbitness.model.iisexpress import IisExpressProject, IisExpressWorkspace, SwitchKind

VS_OPTION = ("Tools > Options > Projects and Solutions > Web Projects > \"Use the 64 bit version of IIS Express "
             "for web sites and projects\"")
"""Visual Studio's global option (F2.1)."""
RID = {Arch.X86: "win-x86", Arch.X64: "win-x64", Arch.ARM64: "win-arm64"}
PLATFORM = {Arch.X86: "x86", Arch.X64: "x64", Arch.ARM64: "ARM64"}


def project_of(workspace: IisExpressWorkspace, load: Load) -> IisExpressProject | None:
    """The project whose ``iisexpress.exe`` made ``load``: by the process's site (one process per project,
    :attr:`iisbitness.loadplan.plan.Process.site`; a global module's load names no site of its own), by the load's
    site, else the only project of that pool and arch."""
    by_site = workspace.project_for_site(load.process.site or load.site) if load.process.site or load.site else None
    if by_site is not None:
        return by_site
    pool = load.process.pool.name.lower() if load.process.pool else ""
    hits = [p for p in workspace.projects if p.arch is load.process.arch and _pool_of(workspace, p) == pool]
    return hits[0] if len(hits) == 1 else None


def _pool_of(workspace: IisExpressWorkspace, project: IisExpressProject) -> str:
    site = next((s for s in workspace.server.sites if s.name == project.site), None)
    root = next((a for a in site.applications if a.path == "/"), None) if site is not None else None
    return root.pool.lower() if root is not None else ""


def bitness_fix(project: IisExpressProject, arch: Arch) -> Fix:
    """Run ``project`` in the ``arch`` ``iisexpress.exe``, by the setting a developer edits (F2.2, F2.3)."""
    value = "true" if arch.is_64bit else "false"
    bits = f"{arch.bits}-bit ({arch.value})"
    edits = (SetIisExpressArch(project.name, arch),)
    if project.switch is SwitchKind.LAUNCH_PROFILE:
        return Fix(summary=f"Run project '{project.name}' in the {bits} IIS Express: set \"use64Bit\": {value} in launch "
                           f"profile '{project.profile}' ({project.switch_at})",
                   label=f'"use64Bit": {value} in the launch profile',
                   edits=edits,
                   note="Or pick the bitness in the profile's settings (Debug > launch profiles). Stop IIS Express "
                        "(tray icon > Exit) so that the next F5 starts the other iisexpress.exe.")
    where = project.switch_at
    return Fix(summary=f"Run project '{project.name}' in the {bits} IIS Express: set "
                       f"<Use64BitIISExpress>{value}</Use64BitIISExpress> in {where} (the PropertyGroup with <UseIISExpress>)",
               label=f"<Use64BitIISExpress>{value}</Use64BitIISExpress>",
               edits=edits,
               note=("The same setting is Project > Properties > Web > Servers > Bitness. A value in the .csproj.user "
                     "overrides the .csproj. Left empty, Visual Studio's option decides for every such project: "
                     f"{VS_OPTION}{' (on for 64-bit)' if arch.is_64bit else ' (off for 32-bit)'}. Stop IIS Express "
                     "(tray icon > Exit) before the next F5."))


def flip(workspace: IisExpressWorkspace, load: Load, arches: frozenset[Arch], os_arch: Arch) -> Fix | None:
    """The bitness fix for the project behind ``load``, when the other ``iisexpress.exe`` is at one of ``arches``
    (those that load the binary)."""
    project = project_of(workspace, load)
    if project is None or not os_arch.is_64bit:
        return None
    wide = Arch.ARM64 if os_arch is Arch.ARM64 else Arch.X64
    for arch in (Arch.X86, wide):
        if arch is not load.process.arch and arch in arches:
            return bitness_fix(project, arch)
    return None


def platform_target(load: Load) -> Fix:
    """Build the offending assembly for the running ``iisexpress.exe`` (F4.2): advice, not checkable."""
    arch = load.process.arch
    return Fix(summary=f"Build '{load.name}' as AnyCPU (or {PLATFORM[arch]}): set <PlatformTarget>AnyCPU</PlatformTarget> "
                       f"in the project that builds it (Project > Properties > Build > Platform target), or reference "
                       f"its AnyCPU / {PLATFORM[arch]} package",
               label="build it as AnyCPU",
               note="A DLL built AnyCPU runs in the 32-bit and the 64-bit iisexpress.exe alike; \"Prefer 32-bit\" "
                    "has no effect on a DLL.")


def publish_for(load: Load) -> Fix:
    """ASP.NET Core: build or publish the app for the running ``iisexpress.exe`` (F2.4): advice."""
    arch = load.process.arch
    rid = RID[arch]
    publish = same_in_both(f"dotnet publish -c Release -r {rid} --self-contained")
    return Fix(summary=f"Build the app for {arch.value}: <RuntimeIdentifier>{rid}</RuntimeIdentifier> (or <PlatformTarget>"
                       f"{PLATFORM[arch]}</PlatformTarget>) in the project, or publish with -r {rid}",
               label=f"build the app for {rid}",
               commands=publish[0], powershell=publish[1],
               note="In-process hosting loads the app's runtime into iisexpress.exe: they must have one architecture.")


def out_of_process(workspace: IisExpressWorkspace, load: Load) -> Fix:
    """ASP.NET Core: host out of process under IIS Express, where a developer sets it: advice."""
    project = project_of(workspace, load)
    where = (f"\"ancmHostingModel\": \"OutOfProcess\" in launch profile '{project.profile}' ({project.switch_at.file})"
             if project is not None and project.profile is not None else
             "<AspNetCoreHostingModel>OutOfProcess</AspNetCoreHostingModel> in the project file")
    return Fix(summary=f"Host the app out of process: {where}; it then runs in its own process beside iisexpress.exe",
               label="out-of-process hosting",
               note="Out-of-process is slower; use it to unblock debugging, not as the production setting.")


IISEXPRESS_APPCMD = Program("%ProgramFiles%\\IIS Express\\appcmd.exe")
"""IIS Express ships its own appcmd.exe in its install folder; ``/apphostconfig:`` names the file to edit (the ANCM
installer runs ``"...\\IIS Express\\appcmd.exe" install module ... /apphostconfig:"..."``, facts F1.6
ancm_iis_expressv2.wxs; without it appcmd edits the per-user file, not the solution's)."""


def with_iisexpress_appcmd(fix: Fix, workspace: IisExpressWorkspace) -> Fix:
    """``fix`` with its server appcmd lines run by IIS Express's appcmd.exe against the solution's
    applicationhost.config (to run from the solution folder), in both shells; WebAdministration PowerShell does not
    reach IIS Express, so its lines give way to appcmd's."""
    config = workspace.server.config_file.replace("/", "\\")
    pairs = [retarget(c, IISEXPRESS_APPCMD, Quoted("/apphostconfig:", config)) for c in fix.commands]
    note = ((fix.note + " ") if fix.note else "") + "Run it from the solution folder."
    return replace(fix, commands=tuple(c for c, _ in pairs), powershell=tuple(p for _, p in pairs), note=note)
