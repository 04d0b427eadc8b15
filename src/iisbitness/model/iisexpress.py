"""A developer machine: Visual Studio projects run by IIS Express, and which ``iisexpress.exe`` runs each.

IIS Express reads the same applicationHost.config format as IIS (the model is a
:class:`~iisbitness.model.iis7.Server`), but there is no WAS and no per-pool worker bitness: each
project is served by the ``iisexpress.exe`` Visual Studio starts for it, 32-bit from
``Program Files (x86)\\IIS Express`` or 64-bit from ``Program Files\\IIS Express`` (facts sheet
iis-express-facts.md F1.1, F1.2, F4.1). What picks that exe is a developer setting, not the config:

- ``<Use64BitIISExpress>`` in the ``.csproj`` or ``.csproj.user`` (F2.2);
- ``use64Bit`` in an ``IISExpress`` profile of ``Properties/launchSettings.json`` (F2.3; schema default true);
- Visual Studio's option "Use the 64 bit version of IIS Express for web sites and projects" (F2.1,
  off by default in VS 2015; not on disk), or ``--iisexpress-arch``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from iisbitness.arch import Arch
from iisbitness.model.iis7 import Server
from iisbitness.model.source import ConfigSource, Problem


class ProjectKind(str, Enum):
    """What kind of web project Visual Studio runs under IIS Express."""

    ASPNET = "aspnet"
    """A .NET Framework web application (``Use64BitIISExpress`` in the project file)."""
    ASPNETCORE = "aspnetcore"
    """An ASP.NET Core project (``use64Bit`` in a launch profile)."""


class ArchFrom(str, Enum):
    """Where the bitness of a project's ``iisexpress.exe`` was decided."""

    PROJECT = "project"
    """``<Use64BitIISExpress>true|false`` in the ``.csproj`` (F2.2)."""
    PROJECT_USER = "project-user"
    """``<Use64BitIISExpress>true|false`` in the ``.csproj.user`` (F2.2; read after the .csproj, so it wins)."""
    LAUNCH_PROFILE = "launch-profile"
    """``"use64Bit"`` in the ``IISExpress`` profile of ``launchSettings.json`` (F2.3)."""
    LAUNCH_PROFILE_DEFAULT = "launch-profile-default"
    """An ``IISExpress`` profile without ``use64Bit``: the launchSettings schema default ``true`` (F2.3, UNCONFIRMED
    beyond the schema)."""
    OPTION = "option"
    """``--iisexpress-arch`` on the command line: Visual Studio's option, where no project setting decides."""
    OS = "os"
    """32-bit Windows: only the 32-bit ``iisexpress.exe`` exists (F1.1)."""
    VS_DEFAULT = "vs-default"
    """Visual Studio's global option, which is not on disk: assumed off (32-bit), its default as documented for VS 2015
    (F2.1; the documents of later versions do not say, correction C10)."""

    @property
    def assumed(self) -> bool:
        """True when the bitness is a default assumption rather than a setting read from a file or given."""
        return self in (ArchFrom.LAUNCH_PROFILE_DEFAULT, ArchFrom.VS_DEFAULT)


class SwitchKind(str, Enum):
    """The place a developer changes which ``iisexpress.exe`` runs the project."""

    PROJECT_PROPERTY = "project-property"
    """``<Use64BitIISExpress>`` in the project file (Project > Properties > Web > Servers, "Bitness")."""
    LAUNCH_PROFILE = "launch-profile"
    """``"use64Bit"`` of the ``IISExpress`` profile in ``Properties/launchSettings.json``."""


@dataclass(frozen=True, slots=True)
class IisExpressProject:
    """A web project of the solution, the IIS Express site that serves it, and its ``iisexpress.exe``.

    Attributes:
        name: the project name (the ``.csproj`` file stem).
        project_file: the ``.csproj`` as the user names it (relative to the scanned folder).
        kind: .NET Framework or ASP.NET Core.
        site: the site of applicationhost.config whose root folder is the project folder.
        arch: the architecture of the ``iisexpress.exe`` that runs it.
        arch_from: where that was decided; ``arch_from.assumed`` when it is a default.
        reason: one sentence for the report: which setting, which file and line, or which default and why.
        switch: where a developer flips it (the project property, or the launch profile).
        switch_at: the file and line of that setting when it is in a file (else the project file).
        profile: the ``IISExpress`` launch profile's name (ASP.NET Core), else None.
        output_folder: ASP.NET Core: the build or publish folder holding the app Visual Studio starts
            (``%LAUNCHER_PATH%``), as a Windows path; None when none was found or for .NET Framework.
        output_note: how ``output_folder`` was chosen (for the report).
        hosting_model: ASP.NET Core: ``InProcess`` / ``OutOfProcess`` from the profile's ``ancmHostingModel``
            or the project's ``<AspNetCoreHostingModel>``, "" when neither says (the config's value is then kept).
    """

    name: str
    project_file: str
    kind: ProjectKind
    site: str
    arch: Arch
    arch_from: ArchFrom
    reason: str
    switch: SwitchKind
    switch_at: ConfigSource
    profile: str | None = None
    output_folder: str | None = None
    output_note: str = ""
    hosting_model: str = ""
    launcher: str = ""
    """ASP.NET Core: what Visual Studio sets ``%LAUNCHER_PATH%`` to: the app host EXE in ``output_folder``
    (Windows path) when there is one, else ``dotnet`` (the app's DLL then goes in ``%LAUNCHER_ARGS%``).
    MS staff, dotnet/aspnetcore #14735 (anurse): "In 2.2 and earlier ... the launcher was dotnet.exe and you had to
    specify the app dll as an argument. In 3.0, the app itself is an exe"; newer ANCM also reads
    ``ANCM_LAUNCHER_PATH`` (dotnet/aspnetcore #19451, #19797). Not in the facts sheet."""


CONFIG_OPTION = "--config"
""":attr:`IisExpressWorkspace.config_from` of a configuration named by ``--config`` (its path as given, which may be
relative to the folder the scan ran in, not to the solution)."""


@dataclass(frozen=True, slots=True)
class IisExpressWorkspace:
    """A Visual Studio solution (or project) folder and the IIS Express configuration it runs under.

    Attributes:
        server: applicationhost.config as an IIS 7+ model (pools, sites, modules, handlers).
        folder: the scanned folder as given.
        config_from: why this applicationhost.config (per-solution ``.vs``, per-user, ``--config``).
        projects: the web projects found that the configuration has a site for.
        problems: what could not be read or matched (project files, launch settings, sites).
        per_user: True when the configuration is the per-user
            ``%USERPROFILE%\\Documents\\IISExpress\\config\\applicationhost.config`` (``UseGlobalApplicationHostFile``,
            facts F3.1): a command names it by that Windows path, not by where the scan found it.
    """

    server: Server
    folder: str
    config_from: str
    projects: tuple[IisExpressProject, ...]
    problems: tuple[Problem, ...] = ()
    per_user: bool = False

    def project_for_site(self, site: str | None) -> IisExpressProject | None:
        """The project served by ``site`` (case-insensitive), or None."""
        low = (site or "").lower()
        return next((p for p in self.projects if p.site.lower() == low), None)
