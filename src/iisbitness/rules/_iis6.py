"""Helpers shared by the IIS 6 rules: symptoms and the fixes a mismatch on IIS 6 gets.

IIS 6 has no per-pool bitness (facts G4), so besides re-registering ASP.NET from the right
Framework folder, the only configuration fix is the server-wide switch; its breakage is listed
by :func:`iisbitness.fixes.iis6.verify`.
"""

from __future__ import annotations

from iisbitness.arch import Arch
from iisbitness.findings import Fix
from iisbitness.fixes.commands_iis6 import (
    aspnet_versions,
    is_aspnet_1x,
    reregister_aspnet,
    switch_workers,
    worker_isolation,
)
from iisbitness.image.paths import basename
from iisbitness.loadplan.plan import Load
from iisbitness.model.edits import aspnet_version
from iisbitness.model.iis6 import Iis6Server

VENDOR_ALTERNATIVES: dict[str, str] = {
    "wc.dll": "West Wind Web Connection also ships a managed .NET handler (Westwind.WebConnection.WebConnectionHandler "
              "in WebConnectionModule.dll) that runs at either bitness: map the Web Connection script extensions to "
              "ASP.NET and register the handler in web.config instead of wc.dll; then no 32-bit-only ISAPI DLL is "
              "loaded and the server can stay 64-bit.",
}
"""Managed handlers vendors offer in place of a single-bitness ISAPI extension, by DLL file name."""


def other_worker_arch(server: Iis6Server, load: Load) -> Arch | None:
    """The other worker bitness the binary fits, when the server could switch to it (64-bit OS only)."""
    arches = load.binary.arches
    if arches is None or not server.os_arch.is_64bit:
        return None
    for arch in (Arch.X86, server.os_arch):
        if arch is not server.worker_arch and arch in arches:
            return arch
    return None


def aspnet_fix(server: Iis6Server, load: Load) -> Fix | None:
    """Re-register ASP.NET from the Framework folder of the loading process's bitness.

    On IIS 6 x64 each ``aspnet_regiis.exe`` runs only while IIS is in its own mode (facts G6; "ASP.NET IIS
    Registration Tool": "The 64-bit version runs only if IIS has been set to run in 64-bit mode"): where the loading
    process is not of the server's mode (inetinfo.exe, 64-bit only (facts G4), or dllhost.exe in IIS 5 isolation
    mode, where no process runs 32-bit: 32-bit code needs worker-process isolation (G4, G5); either with
    Enable32bitAppOnWin64 on), re-registering alone cannot run, so the fix is the server-wide switch, which sets the
    mode first."""
    asp = aspnet_version(load.binary.configured)
    arch = load.process.arch
    if asp is None or arch not in (Arch.X86, Arch.X64) or asp[0] is arch:
        return None
    if arch is Arch.X64 and asp[1].lower().startswith("v1."):
        return None  # NOTE: ASP.NET 1.1 has no 64-bit build (facts G6, UNCONFIRMED)
    if arch is not server.worker_arch:
        return switch_workers(server, arch)
    return reregister_aspnet(arch, asp[1])


def bitness_fixes(server: Iis6Server, load: Load) -> list[Fix | None]:
    """Leaving IIS 5 mode (when the worker then fits), else the server-wide switch; plus a vendor's
    managed alternative for a known single-bitness ISAPI DLL."""
    out: list[Fix | None] = []
    arches = load.binary.arches or frozenset()
    if load.process.name != "w3wp.exe":
        if server.worker_arch in arches:
            out.append(worker_isolation())
    else:
        other = other_worker_arch(server, load)
        if other is not None:
            out.append(switch_workers(server, other))
    alt = VENDOR_ALTERNATIVES.get(basename(load.binary.configured).lower())
    if alt is not None:
        out.append(Fix(summary=f"Replace {basename(load.binary.configured)} with the vendor's managed handler",
                       label="the vendor's managed handler", note=alt))
    return out


def aspnet_wp_fix(server: Iis6Server, load: Load) -> Fix | None:
    """IIS 5 isolation mode: a ``bin`` assembly that does not fit ``aspnet_wp.exe``, which runs at the bitness of the
    Framework folder ASP.NET is registered from (:func:`iisbitness.loadplan.iis6.aspnet_processes`). Where the
    assembly fits the OS's own architecture: ASP.NET registered from ``Framework64`` (after the server-wide switch
    when ``Enable32bitAppOnWin64`` is on: each ``aspnet_regiis.exe`` runs only in its own mode, facts G6). Where it fits
    x86 only: 32-bit ASP.NET needs 32-bit worker processes, which need worker process isolation mode (G4, G5):
    leaving IIS 5 isolation mode, when the workers are 32-bit (``Enable32bitAppOnWin64`` on); else None."""
    arches = load.binary.arches or frozenset()
    native = server.os_arch
    if native.is_64bit and native in arches and load.process.arch is not native:
        if server.worker_arch is not native:
            return switch_workers(server, native)
        versions = [v for v in aspnet_versions(server) if not is_aspnet_1x(v)]
        return reregister_aspnet(native, versions[-1]) if versions else None
    if Arch.X86 in arches and load.process.arch is not Arch.X86 and server.worker_arch is Arch.X86:
        return worker_isolation()
    return None


def build_advice(load: Load, what: str) -> Fix:
    """Advice to install the build of the binary that matches the loading process."""
    arch = load.process.arch
    return Fix(summary=f"Install an {arch.value} build of {what} '{load.name}' for {load.process.name} ({arch.bits}-bit)",
               label=f"an {arch.value} build of the {what}",
               note="On IIS 6 one bitness serves the whole server: every ISAPI filter and extension must exist in it.")
