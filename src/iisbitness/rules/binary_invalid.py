"""binary-invalid: a configured binary (or a bin DLL) that is not a valid PE, cannot be read, or
whose path cannot be resolved (unknown environment variable, UNC share, outside the image)."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Severity, rule
from iisbitness.loadplan.plan import LoadKind, LoadPlan


@rule("binary-invalid", Severity.WARNING, "A configured binary is not a valid PE, cannot be read, or cannot be resolved")
def binary_invalid(plan: LoadPlan) -> Iterator[Finding]:
    """The process would fail to load it; iisbitness cannot tell its architecture."""
    seen: set[str] = set()
    for load in plan.loads:
        b = load.binary
        bad_pe = b.image is not None and not b.image.is_pe
        if not (bad_pe or b.problem):
            continue
        if load.kind in (LoadKind.BIN_ASSEMBLY, LoadKind.BIN_NATIVE) and load.process.pool is None:
            continue  # NOTE: the inetmgr.exe copy of a bin load would repeat the worker's finding
        key = (b.windows_path or b.configured).lower() + "|" + (b.problem or "")
        if key in seen:
            continue
        seen.add(key)
        why = b.image.reason if bad_pe and b.image is not None else b.problem
        symptom = ("The loading process fails on it (\"%1 is not a valid Win32 application\", error 193)."
                   if bad_pe else "iisbitness could not check this binary.")
        yield Finding.for_load(load, binary_invalid.id, binary_invalid.severity, symptom,
                               f"'{b.configured}' ({load.kind.value} '{load.name}'): {why}.")
