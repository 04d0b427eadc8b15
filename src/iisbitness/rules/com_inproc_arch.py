"""com-inproc-arch: a page creates an in-process COM object the worker cannot load.
The CLSID is registered only in the other registry view (32-bit registrations live under
WOW6432Node\\Classes\\CLSID), or its InprocServer32 DLL is of another architecture.
Sources: facts D8, D9, E3, H (0x80040154); Persits KB PS080519170."""

from __future__ import annotations

import ntpath
from collections.abc import Iterator

from iisbitness.arch import Arch
from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.loadplan.plan import ComServer, Load, LoadKind, LoadPlan
from iisbitness.rules._common import binary_words, fixes, flip_fix, split_fix


def _register_fix(load: Load) -> Fix:
    """Advice, not a command: the vendor's build of the other architecture has a path only its installer knows."""
    dll = ntpath.basename(load.binary.windows_path or load.binary.configured)
    if load.process.arch is Arch.X86:
        return Fix(summary=f"Register the vendor's x86 build of {dll} with SysWOW64\\regsvr32.exe (32-bit view)",
                   label="register an x86 build (32-bit view)")
    return Fix(summary=f"Register the vendor's {load.process.arch.value} build of {dll} with System32\\regsvr32.exe "
                       "(64-bit view)",
               label=f"an {load.process.arch.value} build",  # NOTE: the advice says how (regsvr32); the fix line fits one line
               note="Only if the vendor ships a 64-bit build; the 32-bit DLL cannot be registered for 64-bit callers.")


def _complus_fix(pool: str) -> Fix:
    return Fix(summary="Keep the component 32-bit and run it out of process: add it to a COM+ server application "
                       "(Component Services, runs in dllhost.exe), so any worker bitness can call it",
               label="a COM+ server application",
               commands=("mmc comexp.msc /32",), powershell=("mmc comexp.msc /32",),
               # NOTE: /32 after a console file starts the 32-bit MMC with it ("Running 32-Bit and 64-Bit Snap-ins on
               # 64-Bit Windows Operating Systems", TechNet cc749541): the note names the command it stands beside
               note="The command opens Component Services in the 32-bit console, which shows 32-bit components; there "
                    "add the component to a server application and set its DCOM launch permissions for the pool "
                    f"identity (IIS AppPool\\{pool}).")


@rule("com-inproc-arch", Severity.ERROR, "A page creates an in-process COM object the pool's worker cannot load",
      iisexpress="A page creates an in-process COM object the iisexpress.exe that runs it cannot load")
def com_inproc_arch(plan: LoadPlan) -> Iterator[Finding]:
    """Server.CreateObject fails: ASP 0177 / 800A01AD, or 80040154 "Class not registered"."""
    for load in plan.loads_of(LoadKind.COM_INPROC):
        if load.process.pool is None or load.fits is not False:
            continue
        com = load.entry
        assert isinstance(com, ComServer)
        progid, clsid = com.progid, com.clsid
        if com.other_view is not None:
            why = (f"'{progid}' ({clsid}) is registered only in the {com.other_view} registry view "
                   f"({com.registry_key}); its InprocServer32 {load.binary.configured} is "
                   f"{binary_words(load, plan.server.os_arch)}. "
                   f"{load.process.describe()} reads the {com.view} view, where the class does not exist.")
        else:
            why = (f"{load.process.describe()} finds '{progid}' ({clsid}) at {com.registry_key}; its "
                   f"InprocServer32 {load.binary.windows_path or load.binary.configured} is {binary_words(load, plan.server.os_arch)}. "
                   "A process can only load DLLs of its own architecture.")
        symptom = (f"{load.site}{load.application}: Server.CreateObject(\"{progid}\") fails: \"ActiveX component "
                   "can't create object\" (800A01AD), ASP 0177 \"Server.CreateObject Failed\" or 80040154 "
                   "\"Class not registered\".")
        yield Finding.for_load(load, com_inproc_arch.id, com_inproc_arch.severity, symptom,
                               why + " Out-of-process servers (LocalServer32, COM+ server apps) need not match.",
                               fixes(flip_fix(plan, load), split_fix(plan, load), _register_fix(load),
                                     _complus_fix(load.process.pool.name)))
