"""Windows' own IIS binaries: the native modules the IIS role services install in ``%windir%\\System32\\inetsrv``
(and, on 64-bit Windows, their 32-bit builds in ``%windir%\\SysWOW64\\inetsrv``), with the gzip compression scheme
DLL installed beside the compression modules and IIS 6's own ISAPI extensions (:data:`WINDOWS_IIS_BINARIES`).

A configuration that names one of them was written by the IIS installer when that role service was installed (a
module: "Global Modules <globalModules>": "when you install a role service or feature ... the IIS installer adds an
entry to the <globalModules> element for that module"; gzip.dll: the default ``<httpCompression>``, facts S2; IIS 6's
extensions: the script maps its installer writes, IIS 6.0 SDK), so an image whose ``inetsrv`` folder holds binaries
but not such a binary is a partial copy far more likely than a broken server (docs/images.md).

Sources: "IIS Modules Overview" (learn.microsoft.com/iis/get-started/introduction-to-iis/iis-modules-overview,
module -> DLL), "IIS Manager Feature to Configuration Mapping" (feature-to-configuration-reference), IIS 7.0
Resource Kit appendix C "Native Modules" (``%SystemRoot%\\System32\\Inetsrv\\Authanon.dll`` ...).
"""

from __future__ import annotations

import ntpath
import re

from iisbitness.arch import Arch
from iisbitness.image.paths import WINDIR

WINDOWS_IIS_BINARIES = frozenset({
    "asp.dll", "authanon.dll", "authbas.dll", "authcert.dll", "authmap.dll", "authmd5.dll", "authsspi.dll",
    "cachfile.dll", "cachhttp.dll", "cachtokn.dll", "cachuri.dll", "cgi.dll", "compdyn.dll", "compstat.dll",
    "custerr.dll", "defdoc.dll", "diprestr.dll", "dirlist.dll", "filter.dll", "iis_ssi.dll", "iisetw.dll",
    "iisfcgi.dll", "iisfreb.dll", "iisreqs.dll", "iiswsock.dll", "iprestr.dll", "isapi.dll", "logcust.dll",
    "loghttp.dll", "modrqflt.dll", "protsup.dll", "redirect.dll", "static.dll", "urlauthz.dll", "validcfg.dll",
    "warmup.dll", "webdav.dll",
    # NOTE: not a module: the gzip compression scheme the compression role services install beside compstat.dll and
    # compdyn.dll (the default <httpCompression> names %Windir%\system32\inetsrv\gzip.dll; facts S2)
    "gzip.dll",
    # NOTE: IIS 6's own ISAPI extensions its installer maps (IIS 6.0 SDK "Running SQL Queries from an IDC File on IIS":
    # ".idc is mapped to the Internet Database Connector (Httpodbc.dll) when you install IIS"; ssinc.dll for .shtm/.stm,
    # httpext.dll for WebDAV): a 32-bit IIS 6 (Enable32BitAppOnWin64) runs them from SysWOW64\inetsrv
    "httpext.dll", "httpodbc.dll", "ssinc.dll",
})
"""DLL names of the native modules Windows ships with IIS 7 and later, its gzip compression scheme, and IIS 6's own
ISAPI extensions (lower case)."""

_FOLDERS = (WINDIR + "\\System32\\inetsrv").lower(), (WINDIR + "\\SysWOW64\\inetsrv").lower()

_IIS_EXPRESS_FOLDER = re.compile(r"(?:[a-z]:\\)?program files(?: \(x86\))?\\iis express", re.IGNORECASE)
"""IIS Express's install folders, 64-bit and 32-bit (``%IIS_BIN%`` of each ``iisexpress.exe``: iis-express-facts.md
F1.3), where it installs its own builds of the same native modules its template ``applicationhost.config`` names
(``image="%IIS_BIN%\\authanon.dll"`` ...)."""


IIS_EXPRESS_OWN = frozenset({"rewrite.dll", "webmatrixsup.dll"})
"""Modules taken as IIS Express's own beyond :data:`WINDOWS_IIS_BINARIES`, from its template configuration alone: the
copies of it seen (the workspace corpus's IIS Express configurations, and per-solution copies in public repositories)
name ``RewriteModule`` ``%IIS_BIN%\\rewrite.dll`` and ``WebMatrixSupportModule`` ``%IIS_BIN%\\webmatrixsup.dll``,
and ``%IIS_BIN%`` is IIS Express's install folder (iis-express-facts.md F1.3). UNCONFIRMED: no Microsoft document
lists the files IIS Express installs (the IIS 8.0 Express readme says only that it "uses many of the same binaries"
as IIS), so the partial-copy warning that counts one of them as IIS Express's own says that it rests on the template
(rules/binary_missing.py)."""


IIS_EXPRESS_VARIABLES = {
    "LAUNCHER_PATH": ("Visual Studio sets it to the ASP.NET Core app it built, for the iisexpress.exe it starts; publishing "
                      "replaces it in the web.config a server gets"),
    "LAUNCHER_ARGS": ("Visual Studio sets it to the ASP.NET Core app's arguments, for the iisexpress.exe it starts; publishing "
                      "replaces it in the web.config a server gets"),
    "IIS_USER_HOME": "iisexpress.exe sets it to the user's IIS Express home directory",
    "IIS_SITES_HOME": "iisexpress.exe sets it to its default home directory for sites",
}
"""Environment variables IIS Express's configurations name that no IIS worker process has (upper-case name: who sets
it). ``%IIS_USER_HOME%``, ``%IIS_SITES_HOME%``: the header comment of the applicationhost.config IIS Express ships
(iis-express-facts.md F1.3, F1.4; iis-docs applyiisenvironmentvariables: the variables IIS Express injects "include
%IIS_BIN% and %IIS_USER_HOME%"); ``%LAUNCHER_PATH%``, ``%LAUNCHER_ARGS%``: the web.config Visual Studio writes for
ASP.NET Core under IIS Express (F2.4; dotnet/aspnetcore #19451), which publishing replaces (AspNetCore.Docs
host-and-deploy/aspnet-core-module.md; docs/explain.md, ``ancm-launcher-placeholder``)."""


def is_iis_express_folder(folder: str) -> bool:
    """True when ``folder`` is an IIS Express install folder: a Windows path (``X:\\Program Files*\\IIS Express``) or
    the folder as the image holds it, drive-relative (``Program Files (x86)/IIS Express``, :attr:`Absence.folder
    <iisbitness.loadplan.plan.Absence.folder>`, which the load map and the coverage name)."""
    return _IIS_EXPRESS_FOLDER.fullmatch(folder.rstrip("\\/").replace("/", "\\")) is not None


def is_windows_iis_binary(windows_path: str) -> bool:
    """True when ``windows_path`` (normalised, after WOW64 redirection) is one of Windows' own IIS binaries
    (:data:`WINDOWS_IIS_BINARIES`: a module, its gzip scheme DLL, an IIS 6 ISAPI extension) in its ``inetsrv`` folder,
    or IIS Express's own build of such a module in its install folder (``Program Files*\\IIS Express``): a copy of
    that folder lacking it is more likely partial than the install broken."""
    name = ntpath.basename(windows_path).lower()
    folder = ntpath.dirname(windows_path)
    if is_iis_express_folder(folder):
        return name in WINDOWS_IIS_BINARIES or name in IIS_EXPRESS_OWN
    return name in WINDOWS_IIS_BINARIES and folder.lower() in _FOLDERS


_IIS_EXPRESS_ANCM = re.compile(
    r"(?:[a-z]:\\)?program files(?P<x86> \(x86\))?\\iis express\\"
    r"(?:aspnetcore\.dll|asp\.net core module\\v2\\aspnetcorev2\.dll)", re.IGNORECASE)
"""The ASP.NET Core Module in IIS Express's two install folders: V1 ``aspnetcore.dll`` and V2 ``Asp.Net Core
Module\\V2\\aspnetcorev2.dll`` (AspNetCore.Docs host-and-deploy/iis/aspnet-core-module.md, "Module, schema, and
configuration file locations", IIS Express (x86/amd64); iis-express-facts.md F1.6).

Microsoft's own installers put one build in each folder, as Windows does with its own IIS modules: dotnet/aspnetcore
``src/Installers/Windows/AspNetCoreModule-Setup/ANCMIISExpressV2/ancm_iis_expressv2.wxs`` installs the x64 build
(``AspNetCoreModuleShim\\x64``) in the 64-bit ``IIS Express`` folder and the Win32 build in ``Program Files
(x86)\\IIS Express`` (component ``AspNetCoreModule.wow``, ``Bitness="always32"``); ``ANCMIISExpressV1/
ancm_iis_express.wxs`` does the same for ``aspnetcore.dll`` (``Win64="no"`` for the WOW64 copy); IIS Express itself is
installed x86 and x64 side by side in those folders (IIS 8.0 Express readme, F1.1). Not on Windows on Arm: there the
arm64 installer puts a forwarder ``aspnetcorev2.dll`` beside ``aspnetcorev2_x64.dll`` and ``aspnetcorev2_arm64.dll``
in the 64-bit folder (same file, ``AspNetCoreModuleForwarders``; F1.7), so that folder does not tell a build; its
``Program Files (x86)`` copy is the same Win32 build as on x64 Windows."""


def is_iis_express_ancm(windows_path: str, os_arch: Arch) -> bool:
    """True when ``windows_path`` is the ASP.NET Core Module Microsoft's installer puts in an IIS Express install folder
    (:data:`_IIS_EXPRESS_ANCM`), on an OS where that folder tells its build: x64 Windows (either folder), Windows on Arm
    (``Program Files (x86)`` only); not 32-bit Windows, whose one ``Program Files`` holds x86 builds."""
    found = _IIS_EXPRESS_ANCM.fullmatch(windows_path)
    if found is None or not os_arch.is_64bit:
        return False
    return os_arch is Arch.X64 or found["x86"] is not None


def is_windows_own(windows_path: str, os_arch: Arch) -> bool:
    """True when ``windows_path`` (normalised, after WOW64 redirection) is one of Windows' own IIS binaries
    (:func:`is_windows_iis_binary`), a file of a .NET Framework folder (``%windir%\\Microsoft.NET\\Framework*``,
    facts B2, C8), or the ASP.NET Core Module in an IIS Express folder on an OS of ``os_arch`` where Microsoft's
    installer puts one build per folder (:func:`is_iis_express_ancm`): files Windows (or the .NET Framework it ships, or
    Microsoft's ANCM installer for IIS Express) installs for each architecture in that architecture's own folder, so
    the folder tells their build (where it does: ``Framework64`` on ARM64 Windows tells nothing,
    :func:`iisbitness.image.paths.undecided`, and its files are never inferred there). A vendor's file is not: which
    build its installer put in a folder is the installer's choice (a 32-bit DLL copied into System32 is the mismatch this tool looks for), so
    an architecture inferred from its folder is a guess. The one test of it: the report's note on inferred files
    (``formats.causes``) and whether a load at an inferred architecture was checked
    (:meth:`iisbitness.loadplan.plan.LoadPlan.unchecked`)."""
    rest = windows_path.lower().split("\\microsoft.net\\", 1)
    return (is_windows_iis_binary(windows_path) or (len(rest) == 2 and rest[1].startswith("framework"))
            or is_iis_express_ancm(windows_path, os_arch))
