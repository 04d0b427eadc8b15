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

from collections.abc import Sequence
from dataclasses import replace

from iisbitness.arch import Arch
from iisbitness.findings import Fix
from iisbitness.fixes.commands import (
    NOT_WRITTEN,
    AppcmdLine,
    Arg,
    EnvPath,
    Program,
    Quoted,
    modules_listing,
    native,
    same_in_both,
)
from iisbitness.loadplan.plan import Load
from iisbitness.model.edits import SetFilterPrecondition, SetGlobalModulePrecondition, SetIisExpressArch
from iisbitness.model.iis7 import Server
from iisbitness.model.iisexpress import CONFIG_OPTION, IisExpressProject, IisExpressWorkspace, SwitchKind

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


PREFER_32BIT_NOTE = ("\"Prefer 32-bit\" is meant for executables (anycpu32bitpreferred \"is valid only for executable "
                     "(.EXE) files\": /platform, C# Compiler Options; C# and VB refuse it for a library, CS4023, "
                     "BC31392), but a DLL that carries its 32BITPREFERRED flag anyway (set by CorFlags /32BITPREF+ or "
                     "another compiler) loads in 32-bit processes only (CorFlags documentation; facts I6).")
"""What the platform-target fix says of "Prefer 32-bit" on a DLL (facts I6, F4.2): it is no AnyCPU DLL."""


def platform_target(load: Load, *, prefers_32bit: bool = False) -> Fix:
    """Build the offending assembly for the running ``iisexpress.exe`` (F4.2): advice, not checkable. ``prefers_32bit``:
    the DLL read carries 32BITPREFERRED (AnyCPU 32-bit preferred), 32-bit only as a DLL (facts I6): the fix says to
    turn "Prefer 32-bit" off as well."""
    arch = load.process.arch
    pref = " and <Prefer32Bit>false</Prefer32Bit>" if prefers_32bit else ""
    said = ("This DLL carries it: built again without it, it is an AnyCPU DLL." if prefers_32bit else
            "A DLL built AnyCPU runs in the 32-bit and the 64-bit iisexpress.exe alike.")
    return Fix(summary=f"Build '{load.name}' as AnyCPU (or {PLATFORM[arch]}): set <PlatformTarget>AnyCPU</PlatformTarget>"
                       f"{pref} in the project that builds it (Project > Properties > Build > Platform target), or "
                       f"reference its AnyCPU / {PLATFORM[arch]} package",
               label="build it as AnyCPU",
               note=f"{PREFER_32BIT_NOTE} {said}" if prefers_32bit else f"{said} {PREFER_32BIT_NOTE}")


def publish_for(load: Load, workspace: IisExpressWorkspace | None = None) -> Fix:
    """ASP.NET Core: build or publish the app for the running ``iisexpress.exe`` (F2.4): advice. The app is named:
    its project (``workspace``'s, for the site's root application) or its ``site/path``, so that two apps' fixes,
    from different projects, are two fixes, not one shared."""
    arch = load.process.arch
    rid = RID[arch]
    project = project_of(workspace, load) if workspace is not None and load.application in (None, "", "/") else None
    who = f"project '{project.name}'" if project is not None else f"app {load.site or ''}{load.application or ''}"
    if project is not None:
        # NOTE: the project named, relative to the solution folder: two projects' lines differ and each paste publishes
        # its own (``dotnet publish [<PROJECT>]``), run from the solution folder as the appcmd lines are
        line = native("dotnet", "publish", Quoted("", project.project_file.replace("/", "\\")), "-c", "Release", "-r",
                      rid, "--self-contained")
        publish: tuple[tuple[str, ...], tuple[str, ...]] = ((line[0],), (line[1],))
        where = "Run it from the solution folder (the project's path is relative to it)."
    else:
        publish = same_in_both(f"dotnet publish -c Release -r {rid} --self-contained")
        where = "Run the command in the folder of the project that builds it."
    return Fix(summary=f"Build {who} for {arch.value}: <RuntimeIdentifier>{rid}</RuntimeIdentifier> (or <PlatformTarget>"
                       f"{PLATFORM[arch]}</PlatformTarget>) in {'it' if project is not None else 'the project that builds it'}, "
                       f"or publish it with -r {rid}",
               label=f"build {project.name if project is not None else (load.application or 'the app')} for {rid}",
               commands=publish[0], powershell=publish[1],
               note=f"In-process hosting loads the app's runtime into iisexpress.exe: they must have one architecture. "
                    f"{where}")


def hosting_switch(project: IisExpressProject | None, application: str | None) -> str:
    """Where a developer makes ``application`` (a URL path of ``project``'s site; None or ``/`` for the project's own
    app) host out of process: the project's own app in its launch profile (``"ancmHostingModel"``, F2.3) or project
    file (``<AspNetCoreHostingModel>``); another application of the site, which the project's launch profile does not
    reach, in the project that builds it or on the ``aspNetCore`` element of its web.config (``hostingModel``)."""
    if application not in (None, "", "/"):
        return ("<AspNetCoreHostingModel>OutOfProcess</AspNetCoreHostingModel> in the project that builds it, or "
                "hostingModel=\"outofprocess\" on the aspNetCore element of its web.config")
    if project is not None and project.profile is not None:
        return f"\"ancmHostingModel\": \"OutOfProcess\" in launch profile '{project.profile}' ({project.switch_at.file})"
    return "<AspNetCoreHostingModel>OutOfProcess</AspNetCoreHostingModel> in the project file"


def out_of_process(workspace: IisExpressWorkspace, load: Load) -> Fix:
    """ASP.NET Core: host ``load``'s app out of process under IIS Express, where a developer sets it
    (:func:`hosting_switch`): advice."""
    where = hosting_switch(project_of(workspace, load), load.application)
    return Fix(summary=f"Host the app out of process: {where}; it then runs in its own process beside iisexpress.exe",
               label="out-of-process hosting",
               note="Out-of-process is slower; use it to unblock debugging, not as the production setting.")


def others_out_of_process(project: IisExpressProject | None, apps: list[tuple[str, str]]) -> Fix:
    """aspnetcore-multiple-inprocess under IIS Express: host ``apps`` (``(site, path)``, all the site's in-process
    apps but the one kept in process, the site's root application) out of process, each where a developer sets it
    (:func:`hosting_switch`). Advice: the files are the developer's."""
    labels = ", ".join(f"{s}{p}" for s, p in apps)
    return Fix(summary=f"Host {labels} out of process, so that the site's iisexpress.exe hosts one in-process app: "
                       + "; ".join(f"{s}{p}: {hosting_switch(project, p)}" for s, p in apps),
               label="host the others out of process",
               note="An out-of-process app runs in its own process beside iisexpress.exe, so the site's one "
                    "iisexpress.exe then hosts one in-process app. Out-of-process is slower; use it to unblock "
                    "debugging, not as the production setting.")


def site_of_its_own(site: str, apps: list[tuple[str, str]]) -> Fix:
    """aspnetcore-multiple-inprocess under IIS Express: run ``apps`` as sites of their own, each started by Visual
    Studio in an ``iisexpress.exe /site:`` of its own (one process per project's site). Advice: no pool of the
    site's configuration separates them (IIS Express has no WAS, F4.1; dotnet/aspnetcore #31544)."""
    labels = ", ".join(f"{s}{p}" for s, p in apps)
    return Fix(summary=f"Or run {labels} as a site of its own: remove its <application> from site '{site}' in the "
                       "solution's applicationhost.config and give its project a URL with a port of its own (the "
                       "launch profile's App URL, or Project > Properties > Web > Project Url), so that F5 starts it "
                       "in an iisexpress.exe of its own",
               label="a site of its own for each other app",
               note="A different application pool does not help here: IIS Express runs every application of the "
                    "site in the one iisexpress.exe, whatever pool each names. Each site then has its own URL; a "
                    "link from one app to the other under one host name no longer works.")


IISEXPRESS_APPCMD = Program("%ProgramFiles%\\IIS Express\\appcmd.exe")
"""IIS Express ships its own appcmd.exe in its install folder; ``/apphostconfig:`` names the file to edit (the ANCM
installer runs ``"...\\IIS Express\\appcmd.exe" install module ... /apphostconfig:"..."``, facts F1.6
ancm_iis_expressv2.wxs)."""

PER_USER_CONFIG = "%USERPROFILE%\\Documents\\IISExpress\\config\\applicationhost.config"
"""The per-user configuration as Microsoft's documents name it ("user-specific ApplicationHost.config ... located in
the %userprofile%\\Documents\\IISExpress\\config folder": iis-docs running-iis-express-from-the-command-line.md, facts
F3.1; %IIS_USER_HOME% "By default ... %UserProfile%\\Documents\\IISExpress": iis-80-express-readme.md, F1.4). ASSUMPTION:
Documents is not moved (OneDrive's Known Folder Move, folder redirection); cmd.exe has no variable for the Documents
known folder, so its line keeps this form and the note says so (:data:`PER_USER_NOTE`)."""

PER_USER_CONFIG_PS = "$([Environment]::GetFolderPath('MyDocuments'))\\IISExpress\\config\\applicationhost.config"
"""The per-user configuration in PowerShell: below the Documents folder as Windows reports it (.NET's
``Environment.GetFolderPath(SpecialFolder.MyDocuments)``, the Documents known folder), wherever it was moved, and
``%USERPROFILE%\\Documents`` where it was not. That IIS Express's %IIS_USER_HOME% follows a moved Documents is the
known folder's behaviour as tools resolve it (Lex Li's JexusManager expands %IIS_USER_HOME% as
``GetFolderPath(SpecialFolder.MyDocuments)\\IISExpress``); no Microsoft document says so (UNCONFIRMED)."""

PER_USER_NOTE = ("The cmd.exe line takes Documents to be %USERPROFILE%\\Documents; if OneDrive (Known Folder Move) or "
                 "folder redirection moved it, cmd.exe has no variable for the new place: use the PowerShell line, which "
                 "asks Windows for the Documents folder ([Environment]::GetFolderPath('MyDocuments')). ")
"""What a fix naming the per-user configuration says of :data:`PER_USER_CONFIG`'s assumption."""

RESTART = ("IIS Express has no application pool to start or recycle: stop IIS Express (tray icon > Exit) so that the "
           "next F5 starts the project's iisexpress.exe with the change.")
"""What replaces a server fix's ``start apppool`` / recycle / ``iisreset`` under IIS Express: there is no WAS
("In IIS Express, there is no WAS"; "User launches and terminates sites": iis-docs iis-express-overview.md, facts
F4.1), a process reads its global modules when it starts, and the tray icon's Exit "Closes all the sites that you are
currently running" (iis-docs using-the-windows-system-tray-to-manage-websites-and-applications.md)."""


PLACEHOLDER_CONFIG = "C:\\PATH\\TO\\applicationhost.config"
"""How a command names a configuration the scan read by a path of another system (``--config /home/dev/...`` off
Windows): no Windows path is known, so a placeholder in capitals that the note says to replace."""


def _config_arg(workspace: IisExpressWorkspace) -> tuple[Arg, str]:
    """``(/apphostconfig: argument, what the note says of it)``: the per-user file by its Windows path
    (:data:`PER_USER_CONFIG` in cmd.exe, :data:`PER_USER_CONFIG_PS` in PowerShell; the note says what cmd.exe's form
    assumes, :data:`PER_USER_NOTE`); a relative path: the per-solution ``.vs`` file, named from the solution folder,
    "to run from the solution folder", or a relative ``--config``, named as it was given, relative to the folder the
    scan ran in, to run from that folder; a Windows path as it is; a path of the scanning system that is no Windows
    path (a POSIX ``/...``) as :data:`PLACEHOLDER_CONFIG`, the note saying to replace it."""
    if workspace.per_user:
        return EnvPath("/apphostconfig:", PER_USER_CONFIG, PER_USER_CONFIG_PS), PER_USER_NOTE
    given = workspace.server.config_file
    if given.startswith("/"):
        return Quoted("/apphostconfig:", PLACEHOLDER_CONFIG), (
            f"Replace {PLACEHOLDER_CONFIG} with the Windows path of the configuration the scan read as {given}. ")
    config = given.replace("/", "\\")
    if config.startswith("\\") or (len(config) > 1 and config[1] == ":"):
        return Quoted("/apphostconfig:", config), ""
    if workspace.config_from == CONFIG_OPTION:
        # NOTE: --config's own path, relative to the folder the scan ran in, not to the solution folder
        return Quoted("/apphostconfig:", config), (
            f"Run it from the folder the scan ran in: {config} is the --config path as given, relative to that folder "
            "(or replace it with the file's full Windows path). ")
    return Quoted("/apphostconfig:", config), "Run it from the solution folder. "


def with_iisexpress_appcmd(fix: Fix, workspace: IisExpressWorkspace, lines: Sequence[AppcmdLine]) -> Fix:
    """``fix`` (a server fix: appcmd and WebAdministration lines) as IIS Express takes it: ``lines`` (the appcmd
    arguments of its change, given by the fix's builder without the lines that start or recycle a pool, IIS Express
    having none: the note says to restart IIS Express instead, :data:`RESTART`) run by IIS Express's appcmd.exe
    with ``/apphostconfig:`` naming the workspace's configuration (:func:`_config_arg`: the solution's file, relative,
    "to run from the solution folder"; a relative ``--config`` to run from the folder the scan ran in; the per-user file
    by ``%USERPROFILE%\\Documents`` in cmd.exe, by the Documents folder Windows reports in PowerShell), each shell's
    form built from the arguments (:func:`~iisbitness.fixes.commands.native`). WebAdministration PowerShell
    (``IIS:\\``, ``MACHINE/WEBROOT/APPHOST``) edits the machine's IIS configuration, never a solution's, so its lines
    give way to appcmd's. A change no shell can take (a name holding ``"``, or ``'`` / ``]`` in appcmd's selector)
    has no command and no edits (so it is not verified): its note says to edit the file, ``fix`` refusing an IIS
    Express solution. A preCondition fix's summary and note speak of ``iisexpress.exe``, not of a server's workers
    and pools."""
    arg, where_note = _config_arg(workspace)
    pairs = [native(IISEXPRESS_APPCMD, *args, arg, selected=names) for args, names in lines]
    summary, note = _precondition_words(fix, workspace.server)
    if any(p.startswith(NOT_WRITTEN[1]) for _, p in pairs):
        where = (f"{PER_USER_CONFIG} (Documents\\IISExpress\\config\\applicationhost.config in the Documents folder, "
                 "wherever OneDrive or folder redirection moved it)" if workspace.per_user
                 else workspace.server.config_file.replace("/", "\\"))
        note = ((note + " ") if note else "") + (f"No command can name it (a name holds characters neither cmd.exe nor "
                                                 f"PowerShell can pass quoted): make the change in {where} by hand "
                                                 "(iisbitness fix does not write an IIS Express configuration). ")
        return replace(fix, summary=summary, commands=(), powershell=(), edits=(), note=note + RESTART)
    cmds = tuple(c for c, _ in pairs)
    cmds = cmds[:1] if cmds and cmds[0].startswith(NOT_WRITTEN[0]) else cmds
    note = ((note + " ") if note else "") + where_note + RESTART
    return replace(fix, summary=summary, commands=cmds, powershell=tuple(p for _, p in pairs), note=note)


def _precondition_words(fix: Fix, server: Server | None) -> tuple[str, str | None]:
    """The summary and note of a global module or ISAPI filter preCondition fix as IIS Express meets it: the
    ``iisexpress.exe`` of the other bitness skips the entry ("bitness32" / "bitness64": a 32-bit / 64-bit worker
    process, iis-docs moduleaction-class.md, facts F1.3), every project run there goes without it; any other fix
    as it is. ``server``: the workspace's configuration, whose ``<modules>`` entries the note names as the server fix
    does (:func:`~iisbitness.fixes.commands.modules_listing`); a fix built unverified keeps its reason in the note
    ("Not verified: " and :attr:`Fix.unverified_because <iisbitness.findings.Fix.unverified_because>`)."""
    edit = next((e for e in fix.edits if isinstance(e, (SetGlobalModulePrecondition, SetFilterPrecondition))), None)
    if edit is None:
        return fix.summary, fix.note
    bits = "64" if "bitness64" in edit.precondition.lower() else "32" if "bitness32" in edit.precondition.lower() else ""
    other = {"64": "32-bit", "32": "64-bit"}.get(bits, "other")
    what = "global module" if isinstance(edit, SetGlobalModulePrecondition) else "ISAPI filter"
    where = f"the {bits}-bit iisexpress.exe" if bits else "the iisexpress.exe it fits"
    note = (f"The {other} iisexpress.exe then runs without this {what}, for every project Visual Studio runs at that "
            "bitness; a project that needs it must run in " + (f"the {bits}-bit IIS Express" if bits else "the IIS "
            "Express that loads it") + " (its <Use64BitIISExpress> or launch profile \"use64Bit\"), or install the vendor's build for the other "
            "architecture as a second entry.")
    if isinstance(edit, SetGlobalModulePrecondition) and server is not None:
        # NOTE: what the server fix says of the <modules> entries its lines set, the same look-up
        note += " " + modules_listing(server, edit.name, edit.precondition).words
    if fix.verified is False and fix.unverified_because:
        # NOTE: the reason the fix was built unverified (a web.config's <modules> entry it leaves) stays in the note
        note += f" Not verified: {fix.unverified_because}."
    return (f"Load {what} '{edit.name}' only in {where}: preCondition=\"{edit.precondition}\"", note)
