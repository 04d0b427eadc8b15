"""binary-missing: a configured binary is not in the image, as the loading process resolves it.

Where the folder decides the architecture (SysWOW64, Framework64, Program Files (x86), ...),
the binary's architecture is inferred and the mismatch rules still run; this rule then says
nothing, so that a configuration-only image gives a short report. Sources: facts B12 (a DLL only
in System32 breaks 32-bit pools with 0x8007007E, e.g. WSUS suscomp.dll -> HTTP 500.19)."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Severity, rule
from iisbitness.loadplan.plan import LoadKind, LoadPlan

_SYMPTOM = {
    LoadKind.GLOBAL_MODULE: "the worker fails at start (W3SVC-WP event 2280, data 7E 00 00 00 = error 126), then HTTP 503",
    LoadKind.ISAPI_FILTER: "the site's worker fails at start (W3SVC-WP event 2214/2268), then HTTP 503",
    LoadKind.ISAPI_EXTENSION: "HTTP 500 on mapped requests: \"The specified module could not be found.\" (0x8007007E)",
}


@rule("binary-missing", Severity.WARNING, "A configured binary is not in the server image")
def binary_missing(plan: LoadPlan) -> Iterator[Finding]:
    """One finding per missing binary whose architecture the folder does not decide."""
    seen: set[str] = set()
    for load in plan.loads_of(LoadKind.GLOBAL_MODULE, LoadKind.ISAPI_FILTER, LoadKind.ISAPI_EXTENSION):
        b = load.binary
        if not b.missing or b.inferred is not None:
            continue
        key = (b.windows_path or b.configured).lower()
        if key in seen:
            continue
        seen.add(key)
        users = sorted({ld.process.describe() for ld in plan.loads
                        if (ld.binary.windows_path or ld.binary.configured).lower() == key})
        yield Finding.for_load(
            load, binary_missing.id, binary_missing.severity,
            f"If the file is missing on the server too: {_SYMPTOM[load.kind]}.",
            f"'{b.configured}' resolves to {b.windows_path}, which is not in the image; its architecture cannot be "
            f"inferred from its folder. Loaded by: {'; '.join(users)}.",
        )
