"""iis6-os-version: a native binary IIS 6 loads whose PE headers ask for a newer Windows than the server's.

IIS 6 runs on Windows Server 2003 and Windows XP Professional x64, both Windows 5.2. The optional header's
subsystem version is the linker's ``/SUBSYSTEM:WINDOWS,major.minor``, "the minimum required version of the
subsystem", 6.00 by default for x86 and x64 since Visual Studio 2012 (MSVC "/SUBSYSTEM (Specify Subsystem)",
minimum 5.01 for x86, 5.02 for x64); "Only Windows desktop apps created by using a Windows XP platform toolset can run
on Windows XP and Windows Server 2003" (MSVC "Configuring Programs for Windows XP"). An EXE whose headers ask for a
newer operating system than the one it is started on fails with "not a valid Win32 application", error 193
(Microsoft developer support blog, "Troubleshooting 'Not a valid win32 Application' error at the startup", 2009: an
EXE linked for 5.02 on Windows XP 5.1). That the loader refuses a *DLL* (LoadLibrary, which is how W3SVC loads a
filter or an extension) for the same fields is reported by users (Chuyu-Team/YY-Thunks issue #149: a DLL whose header
asks for NT 6.0 "cannot be loaded" on XP, loads once the header is edited; cbucher/console PR #457) but in no
Microsoft document found: UNCONFIRMED, so this is a warning and says so. Which of the two fields (operating system or
subsystem version) the loader compares is not documented either: the newer of the two is taken
(:attr:`~iisbitness.pe.types.PeImage.required_windows`); Visual Studio writes both alike."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.loadplan.plan import Iis6IsapiFilter, Load, LoadKind, LoadPlan, ScriptMapGroup
from iisbitness.pe.types import ImageKind

SERVER_2003 = (5, 2)
"""Windows Server 2003 and Windows XP Professional x64 Edition: Windows 5.2, the only Windows IIS 6 runs on
(/subsystemversion compiler option: "Windows Server 2003 5.02")."""

_NAMES = {(5, 0): "Windows 2000", (5, 1): "Windows XP", (5, 2): "Windows Server 2003", (6, 0): "Windows Vista / Server 2008",
          (6, 1): "Windows 7 / Server 2008 R2", (6, 2): "Windows 8 / Server 2012", (6, 3): "Windows 8.1 / Server 2012 R2",
          (10, 0): "Windows 10 / Server 2016"}
"""Windows versions by (major, minor) (the /subsystemversion compiler option's table; "Operating System Version",
learn.microsoft.com/windows/win32/sysinfo/operating-system-version)."""

UNCONFIRMED = ("That Windows Server 2003 refuses a DLL for this (error 193, as it refuses such an EXE) is reported by "
               "users but not documented by Microsoft (UNCONFIRMED): the loader may load it and the DLL then fail on a "
               "function Windows 5.2 lacks.")


def windows_name(version: tuple[int, int]) -> str:
    """``"6.0 (Windows Vista / Server 2008)"``; ``"6.4"`` for a version with no name here."""
    name = _NAMES.get(version)
    text = f"{version[0]}.{version[1]}"
    return f"{text} ({name})" if name else text


@rule("iis6-os-version", Severity.WARNING,
      "A binary IIS 6 loads is built for a newer Windows than Windows Server 2003 (5.2)")
def iis6_os_version(plan: LoadPlan) -> Iterator[Finding]:
    """Windows 5.2 cannot run an image linked for 6.0 or later: the same error 193 as a wrong architecture."""
    if plan.iis6 is None:
        return
    seen: set[tuple[str, ...]] = set()
    for load in plan.loads:
        image = load.binary.image
        if image is None or image.kind is not ImageKind.NATIVE:
            continue  # NOTE: the CLR maps a .NET assembly itself; a native image is what LoadLibrary refuses
        needs = image.required_windows
        if needs is None or needs <= SERVER_2003:
            continue
        key = (*load.process.key, (load.binary.windows_path or load.binary.configured).lower())
        if key in seen:
            continue  # NOTE: one finding per process that fails on it (each pool's worker on its own)
        seen.add(key)
        yield _finding(load, needs)


def _finding(load: Load, needs: tuple[int, int]) -> Finding:
    b = load.binary
    image = b.image
    assert image is not None and image.os_version is not None and image.subsystem_version is not None
    path = b.windows_path or b.configured
    what = _what(load)
    cause = (f"'{b.configured}' ({what}) asks for Windows {windows_name(needs)} or later in its PE headers "
             f"(operating system version {image.os_version[0]}.{image.os_version[1]}, subsystem version "
             f"{image.subsystem_version[0]}.{image.subsystem_version[1]}); IIS 6 runs on Windows 5.2 (Server 2003, "
             "XP x64). Visual Studio 2012 and later link 6.00 unless the project uses a Windows XP platform toolset "
             f"(v110_xp ... v141_xp). This is not its architecture: {image.describe()}. {UNCONFIRMED}")
    if load.kind is LoadKind.ISAPI_FILTER and load.process.name != "w3wp.exe":
        symptom = ("If refused: W3SVC does not start (\"System error 193 has occurred. *** is not a valid Win32 "
                   f"application.\"), the event log showing \"Could not load all ISAPI filters for site/service\" for "
                   f"'{path}', as for a filter of the other architecture.")
    elif load.kind is LoadKind.ISAPI_FILTER:
        pool = load.process.pool.name if load.process.pool is not None else "?"
        symptom = (f"If refused: HTTP 503 on the sites of pool '{pool}': the worker fails at start with W3SVC-WP 2268 "
                   "\"Could not load all ISAPI filters for site/service. Therefore startup aborted.\" (data c1 00 00 00 "
                   "= error 193), as for a filter of the other architecture.")
    elif isinstance(load.entry, ScriptMapGroup):
        symptom = (f"If refused: HTTP 500 on requests for the extensions mapped to '{path}': \"%1 is not a valid Win32 "
                   "application.\" (0x800700C1, error 193), as for an extension of the other architecture.")
    else:
        symptom = (f"If refused: {load.process.name} fails to load '{path}' with \"%1 is not a valid Win32 "
                   "application.\" (0x800700C1, error 193), as for a DLL of the other architecture.")
    return Finding.for_load(load, iis6_os_version.id, iis6_os_version.severity, symptom, cause, _fixes(load))


def _what(load: Load) -> str:
    if isinstance(load.entry, Iis6IsapiFilter):
        return f"the {load.entry.level} ISAPI filter '{load.name}'"
    if isinstance(load.entry, ScriptMapGroup):
        return f"the ISAPI extension of script map '{load.name}'"
    return f"{load.kind.value} '{load.name}'"


def _fixes(load: Load) -> tuple[Fix, ...]:
    name = load.name
    rebuild = Fix(
        summary=(f"Rebuild '{name}' for Windows XP / Server 2003: Platform Toolset v141_xp (or v140_xp, v120_xp, "
                 "v110_xp), or link with /SUBSYSTEM:WINDOWS,5.01 (x86) or /SUBSYSTEM:WINDOWS,5.02 (x64)"),
        label="rebuild with a Windows XP toolset",
        note=("MSVC \"Configuring Programs for Windows XP\": only apps built with a Windows XP platform toolset run on "
              "Windows XP and Windows Server 2003, which also need a runtime (CRT) that supports them; the "
              "/SUBSYSTEM version alone does not remove calls to functions Windows 5.2 lacks."))
    vendor = Fix(
        summary=f"Install the vendor's build of '{name}' for Windows Server 2003 (an 'XP' or '2003' build)",
        label="the vendor's Windows Server 2003 build")
    return rebuild, vendor
