"""IIS 6 fixes: the metabase edits (:mod:`iisbitness.model.edits`) as adsutil.vbs / aspnet_regiis commands.

On IIS 6 the worker bitness is server-wide (facts G4): switching it is all or nothing. So a
switch is verified like every fix (edit a copy of the model, re-plan, re-run the rules), but
where it would break something else it is still offered, with ``verified=False`` and the full
list of what it breaks in its note: there is no per-pool alternative to offer instead.

Commands (facts G6, G7; KB 895976, "Running 32-bit Applications on 64-bit Windows"):
``cscript %SystemDrive%\\Inetpub\\AdminScripts\\adsutil.vbs SET W3SVC/AppPools/Enable32bitAppOnWin64 1``
then ``%windir%\\Microsoft.NET\\Framework\\v2.0.50727\\aspnet_regiis.exe -i``; the reverse with
``0`` and the Framework64 copy. UNCONFIRMED: the AdminScripts folder (the default install
location is used) and that ``-enable`` marks the ASP.NET Web Service Extension Allowed.

ASP.NET 1.1's ``aspnet_regiis.exe`` has no ``-enable`` (the option exists from ASP.NET 2.0 on):
for ``v1.1.4322`` the commands are ``aspnet_regiis.exe -i`` and then allowing the ASP.NET v1.1.4322
Web Service Extension, here with ``iisext.vbs /EnFile`` on its aspnet_isapi.dll (KB 894435: "make
sure that the status of ASP.NET version 1.1.4322 in the Web service extension list is set to
Allowed"; "ASP.NET IIS Registration Tool (Aspnet_regiis.exe)" docs; "Iisext.vbs: IIS Web service
extension script", Windows Server 2003 command-line reference).
"""

from __future__ import annotations

from iisbitness.arch import Arch
from iisbitness.findings import Fix
from iisbitness.fixes.commands import Program, native
from iisbitness.model.edits import FRAMEWORK_FOLDER, RegisterAspNet, SetIsolation5, SetWow64, aspnet_version
from iisbitness.model.iis6 import Iis6Server

ADSUTIL = Program("%SystemDrive%\\Inetpub\\AdminScripts\\adsutil.vbs")
"""adsutil.vbs, an argument of ``cscript`` (``cscript %SystemDrive%\\...`` / ``cscript "$env:SystemDrive\\..."``)."""

IISEXT = Program("%windir%\\system32\\iisext.vbs")


def _both(pairs: list[tuple[str, str]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(c for c, _ in pairs), tuple(p for _, p in pairs)


def is_aspnet_1x(version: str) -> bool:
    """True for ASP.NET 1.0/1.1 version folders (``v1.1.4322``): no ``-enable``, no 64-bit build."""
    return version.lower().startswith("v1.")


def regiis_both(arch: Arch, version: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(cmd.exe lines, PowerShell lines)`` that register ASP.NET ``version`` from the ``arch`` Framework folder and
    allow its Web Service Extension: ``aspnet_regiis.exe -i -enable`` (2.0 and later), or for 1.x
    ``aspnet_regiis.exe -i`` then ``iisext.vbs /EnFile`` on its aspnet_isapi.dll (1.1 has no ``-enable``)."""
    folder = f"%windir%\\Microsoft.NET\\{FRAMEWORK_FOLDER[arch]}\\{version}"
    regiis_exe = Program(f"{folder}\\aspnet_regiis.exe")
    if is_aspnet_1x(version):
        return _both([native(regiis_exe, "-i"),
                      native("cscript", IISEXT, "/EnFile", Program(f"{folder}\\aspnet_isapi.dll"))])
    return _both([native(regiis_exe, "-i", "-enable")])


def regiis(arch: Arch, version: str) -> tuple[str, ...]:
    """The cmd.exe lines of :func:`regiis_both`."""
    return regiis_both(arch, version)[0]


def aspnet_versions(server: Iis6Server) -> tuple[str, ...]:
    """ASP.NET versions registered (filters and script maps), e.g. ``("v2.0.50727",)``."""
    paths = [f.path for f in server.global_filters + server.site_filters]
    paths += [s.processor for a in server.apps for s in a.script_maps]
    found = {v[1] for p in paths if (v := aspnet_version(p)) is not None}
    return tuple(sorted(found)) or ("v2.0.50727",)


def switch_workers(server: Iis6Server, arch: Arch) -> Fix:
    """Fix: every w3wp.exe at ``arch`` (32-bit: Enable32bitAppOnWin64 1, else 0), plus ASP.NET
    re-registered from the matching Framework folder."""
    to32 = arch is Arch.X86
    versions = [v for v in aspnet_versions(server) if to32 or not is_aspnet_1x(v)]
    pairs = [native("cscript", ADSUTIL, "SET", "W3SVC/AppPools/Enable32bitAppOnWin64", "1" if to32 else "0")]
    pairs += [p for v in versions for p in zip(*regiis_both(arch, v), strict=True)]
    pairs.append(native("iisreset"))
    cmds, ps = _both(pairs)
    return Fix(
        summary=f"Run every IIS 6 worker process as {'32-bit (x86, WOW64)' if to32 else '64-bit'}: "
                f"Enable32bitAppOnWin64 {1 if to32 else 0} and ASP.NET from {FRAMEWORK_FOLDER[arch]}",
        label=f"every worker as {'32-bit (WOW64)' if to32 else '64-bit'}",
        commands=cmds,
        powershell=ps,
        edits=(SetWow64(to32), RegisterAspNet(arch)),
        note="IIS 6 runs all workers at one bitness: this affects every site and application pool. aspnet_regiis -i "
             "-enable re-registers ASP.NET's filter and script maps from that folder and allows its Web Service "
             "Extension (check in IIS Manager > Web Service Extensions); ASP.NET 1.1's aspnet_regiis has no -enable, "
             "so its extension is allowed with iisext.vbs /EnFile."
             + ("" if to32 else " ASP.NET 1.1 has no 64-bit build; applications on it must move to 2.0 first."),
    )


def worker_isolation() -> Fix:
    """Fix: leave IIS 5 isolation mode (filters and applications then run in w3wp.exe)."""
    cmds, ps = _both([native("cscript", ADSUTIL, "SET", "W3SVC/IIs5IsolationModeEnabled", "0"),
                      native("net", "stop", "http", "/y"), native("net", "start", "w3svc")])
    return Fix(
        summary="Switch IIS to worker process isolation mode (IIs5IsolationModeEnabled 0)",
        label="worker process isolation mode",
        commands=cmds,
        powershell=ps,
        edits=(SetIsolation5(False),),
        note="Applications that rely on IIS 5 mode (in-process state shared with inetinfo.exe, ISAPI filters that "
             "read raw data) must be tested first. 'net stop http /y' stops every service that uses HTTP.sys.",
    )


def reregister_aspnet(arch: Arch, version: str) -> Fix:
    """Fix: run ``aspnet_regiis -i`` from the Framework folder that matches the worker."""
    cmds, ps = regiis_both(arch, version)
    return Fix(
        summary=f"Register ASP.NET {version} from {FRAMEWORK_FOLDER[arch]} (the {arch.bits}-bit build) to match the "
                f"{arch.bits}-bit processes that load it",
        label=f"ASP.NET from {FRAMEWORK_FOLDER[arch]}",
        commands=(*cmds, "iisreset"),
        powershell=(*ps, "iisreset"),
        edits=(RegisterAspNet(arch),),
        note="aspnet_regiis run from the other Framework folder registered the wrong build. On IIS 6 x64 each "
             "aspnet_regiis.exe works only in its own mode (facts G6).",
    )
