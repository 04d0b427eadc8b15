"""binary-invalid: a configured binary (or a bin DLL) that is not a valid PE, cannot be read, or
whose path cannot be resolved (unknown environment variable, UNC share, outside the image).

A file that is there but is not a valid PE (truncated, zero-filled, a text file named ``.dll``) is an
error: the process fails on it exactly as on a wrong-bitness one, with "%1 is not a valid Win32
application" (ERROR_BAD_EXE_FORMAT 193, 0x800700C1) for a native load, and for a ``bin`` file the CLR
fails the application at start with BadImageFormatException ("The module was expected to contain an
assembly manifest", 0x80131018) or 0x8007000B. What iisbitness could not check (unreadable, path not
resolvable offline) stays a warning.

On the server itself (live, or a zip collected on it: :attr:`LoadPlan.on_server`) the file is the server's. In a copy
made by hand, a file that is empty or shorter than its own headers say (:func:`cut_short`) is as likely the copy's
fault (a copy interrupted, a file locked while it was copied) as the server's: a warning that asks to compare its size
on the server before anything is replaced. Any other content (no MZ signature, a header that makes no sense) is the
error wherever the image comes from. Windows' own files (:func:`iisbitness.image.stock.is_windows_own`) are repaired
as Windows' ("sfc", Microsoft Learn, Windows Commands: it "replaces incorrect versions with correct versions" of
protected system files; or the IIS role service that installs them, removed and added again), never "the vendor's
original"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.fixes.commands import cmd_line, ps_escaped
from iisbitness.image.stock import is_iis_express_ancm, is_windows_iis_binary, is_windows_own
from iisbitness.loadplan.plan import Load, LoadKind, LoadPlan

_CUT = re.compile(r"not a valid PE: (?:empty file|file too small for a DOS header|truncated: |.*shorter than it was a "
                  r"moment ago|e_lfanew 0x(?P<lfanew>[0-9a-f]+) points past the end of the file)")
"""The reasons :func:`iisbitness.pe.headers.parse_headers` and :meth:`iisbitness.pe.source.Source.read_at` give for a
file that ends before its headers do."""

_LFANEW_MAX = 0x1000
"""An ``e_lfanew`` past the end of the file that is below this (the first page, where linkers put the PE header:
0x80 to 0x118 in the compiler-built fixtures) is a cut file; a larger one is a header of no sense (``corrupt_mz_only``:
0xffffff00), not a copy's fault."""


def cut_short(reason: str | None) -> bool:
    """True when ``reason`` (a :attr:`PeImage.reason <iisbitness.pe.types.PeImage.reason>`) says the file is empty or
    ends before its headers do (``"not a valid PE: empty file"``, ``"... truncated: optional header spans 0x98..0x188
    but the file ends at 0xc8"``, an ``e_lfanew`` in the first page past the end): what an interrupted copy leaves."""
    m = _CUT.match(reason or "")
    if m is None:
        return False
    return m["lfanew"] is None or int(m["lfanew"], 16) < _LFANEW_MAX


@rule("binary-invalid", Severity.WARNING, "A configured binary is not a valid PE, cannot be read, or cannot be resolved")
def binary_invalid(plan: LoadPlan) -> Iterator[Finding]:
    """The process would fail to load it; iisbitness cannot tell its architecture."""
    seen: set[str] = set()
    for load in plan.troubled():  # NOTE: nothing to say of any other load (issue 25)
        b = load.binary
        bad_pe = b.image is not None and not b.image.is_pe
        if plan.os_undecided(b):
            if (b.windows_path or b.configured).lower() not in seen:
                seen.add((b.windows_path or b.configured).lower())
                yield _os_unknown(plan, load)
            continue
        if not (bad_pe or b.problem):
            continue
        if load.kind in (LoadKind.BIN_ASSEMBLY, LoadKind.BIN_NATIVE) and load.process.pool is None:
            continue  # NOTE: the inetmgr.exe copy of a bin load would repeat the worker's finding
        # NOTE: one finding per process that fails on it (each pool's worker fails on its own, issue 20)
        key = "|".join((*load.process.key, (b.windows_path or b.configured).lower(), b.problem or ""))
        if key in seen:
            continue
        seen.add(key)
        why = b.image.reason if bad_pe and b.image is not None else b.problem
        if not bad_pe:
            yield Finding.for_load(load, binary_invalid.id, binary_invalid.severity,
                                   "iisbitness could not check this binary.",
                                   f"'{b.configured}' ({load.kind.value} '{load.name}'): {why}.")
            continue
        if load.kind in (LoadKind.BIN_ASSEMBLY, LoadKind.BIN_NATIVE):
            symptom = (f"{load.site}{load.application}: the application fails at start with "
                       "System.BadImageFormatException: \"Could not load file or assembly '"
                       f"{load.name.rsplit('.', 1)[0]}' or one of its dependencies. The module was expected to contain "
                       "an assembly manifest.\" (0x80131018), or \"An attempt was made to load a program with an "
                       "incorrect format.\" (0x8007000B).")
        else:
            symptom = "The loading process fails on it: \"%1 is not a valid Win32 application\" (error 193, 0x800700C1)."
        cause = (f"'{b.configured}' ({load.kind.value} '{load.name}') is in the image but is not a "
                 f"Windows binary: {why}.")
        repair = _repair(b.windows_path, plan)
        if plan.on_server or not cut_short(why) or b.windows_path is None:
            yield Finding.for_load(load, binary_invalid.id, Severity.ERROR, symptom, f"{cause} {repair}")
            continue
        # NOTE: an empty or cut file in a copy made by hand: as likely the copy's fault (K3 of audit 11)
        words, fix = _copy_fault(b.windows_path, repair)
        yield Finding.for_load(load, binary_invalid.id, Severity.WARNING, f"{symptom} Only if the server's file is as this copy's.",
                               f"{cause} {words}", (fix,))


def _repair(path: str | None, plan: LoadPlan) -> str:
    """What to do with a file that is not a valid PE on the server (``path``: its Windows path, None when unknown):
    Windows' own IIS modules and the .NET Framework's files repaired as Windows' (``sfc /scannow``; the role service),
    Microsoft's ASP.NET Core Module of IIS Express by its installer, any other file replaced by its vendor's."""
    if path is None or not is_windows_own(path, plan.server.os_arch):
        return "Replace it with the vendor's original file."
    if is_iis_express_ancm(path, plan.server.os_arch):
        return ("It is Microsoft's ASP.NET Core Module of IIS Express: repair or reinstall the Microsoft installer that "
                "put it there, not a copy from elsewhere.")
    feature = "the IIS role service that installs it" if is_windows_iis_binary(path) else "its .NET Framework version"
    return ("It is one of Windows' own files: repair it with sfc /scannow in an elevated prompt (System File Checker "
            "replaces protected system files that are not as Windows installed them), or remove and add again "
            f"{feature}; not a copy from another server.")


def _copy_fault(path: str, repair: str) -> tuple[str, Fix]:
    """For an empty or cut file in a copy made by hand (not the server itself): the words of the cause, and the advice
    to compare its size on the server (``path``: where the process loads it, after WOW64 redirection) before anything
    is replaced, as a cmd.exe and a PowerShell line that paste as they are (cmd.exe's ``dir``; PowerShell's
    ``Get-Item -LiteralPath``, "used exactly as it's typed": no wildcard in a file name matches another file)."""
    words = ("The image is a copy, not the server itself: an empty or cut file in a copy is as likely the copy's fault "
             "(a copy interrupted, or of a file locked while it was copied) as the server's. Compare its size on the "
             f"server before replacing anything (the fix's commands). If the server's file is as short, the server's "
             f"is broken: {repair} If it is not, copy it again (or run iisbitness collect on the server) and scan again.")
    fix = Fix(summary=f"Compare the size of {path} on the server with this copy's before replacing it",
              label="compare its size on the server", commands=(cmd_line(f'dir "{path}"', (path,)),),
              powershell=(f"(Get-Item -LiteralPath '{ps_escaped(path)}').Length",),
              note=f"If the server's file is as short, the server's is broken: {repair}")
    return words, fix


def _os_unknown(plan: LoadPlan, load: Load) -> Finding:
    """The warning for an ARM64X/ARM64EC binary on a server whose OS architecture was only assumed: whether any process
    loads it depends on that OS (none outside Windows on Arm, :func:`iisbitness.pe.classify.off_arm`), and the file
    itself is a sign of Windows on Arm (the arm64 ASP.NET Core Hosting Bundle installs ANCM as an ARM64X forwarder,
    facts A8), so neither verdict is stated as fact: one per file, asking for ``--os-arch``."""
    b = load.binary
    assert b.image is not None and b.image.hybrid is not None
    kind = b.image.hybrid.value
    os_arch = plan.server.os_arch.value
    return replace(Finding.for_load(
        load, binary_invalid.id, binary_invalid.severity, "iisbitness could not check this binary.",
        f"'{b.configured}' ({load.kind.value} '{load.name}') is {b.image.describe()}: an {kind} image holds ARM64 code "
        f"and loads only on Windows on Arm. The scan took the OS as {os_arch} ({plan.server.os_arch_from}), but an "
        f"{kind} binary is itself a sign of Windows on Arm (the arm64 ASP.NET Core Hosting Bundle installs ANCM's "
        f"aspnetcorev2.dll as an ARM64X forwarder): give --os-arch arm64 or --os-arch {os_arch}. If this server is "
        f"{os_arch} Windows, no process of it loads the file."), binary_not_checked=True)
