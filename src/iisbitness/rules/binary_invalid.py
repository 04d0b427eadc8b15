"""binary-invalid: a configured binary (or a bin DLL) that is not a valid PE, cannot be read, or
whose path cannot be resolved (unknown environment variable, UNC share, outside the image).

A file that is there but is not a valid PE (truncated, zero-filled, a text file named ``.dll``) is an
error: the process fails on it exactly as on a wrong-bitness one, with "%1 is not a valid Win32
application" (ERROR_BAD_EXE_FORMAT 193, 0x800700C1) for a native load, and for a ``bin`` file the CLR
fails the application at start with BadImageFormatException ("The module was expected to contain an
assembly manifest", 0x80131018) or 0x8007000B. What iisbitness could not check (unreadable, path not
resolvable offline) stays a warning."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from iisbitness.findings import Finding, Severity, rule
from iisbitness.loadplan.plan import Load, LoadKind, LoadPlan


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
        yield Finding.for_load(load, binary_invalid.id, Severity.ERROR, symptom,
                               f"'{b.configured}' ({load.kind.value} '{load.name}') is in the image but is not a "
                               f"Windows binary: {why}. Replace it with the vendor's original file.")


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
