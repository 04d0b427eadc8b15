"""isapi-extension-arch: a handler mapping's ISAPI extension (scriptProcessor) that cannot load.
Sources: facts D4 (HTTP 500, "%1 is not a valid Win32 application", 0x800700C1; the pool stays
up), KB 895976, David Wang "HOWTO: Diagnose one cause of '%1 is not a valid Win32 application'"."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Severity, rule
from iisbitness.loadplan.plan import LoadKind, LoadPlan
from iisbitness.model.iis7 import Handler
from iisbitness.rules._common import (
    build_fix,
    fixes,
    flip_fix,
    import_failure,
    mismatch_cause,
    mismatches,
    split_fix,
)


@rule("isapi-extension-arch", Severity.ERROR, "An ISAPI extension behind a handler mapping cannot load")
def isapi_extension_arch(plan: LoadPlan) -> Iterator[Finding]:
    """Requests to the mapped path fail with HTTP 500; other requests still work."""
    for load in mismatches(plan, LoadKind.ISAPI_EXTENSION):
        assert isinstance(load.entry, Handler)
        symptom = (f"HTTP 500 on requests for '{load.entry.path}' under {load.site}{load.application}: "
                   "\"%1 is not a valid Win32 application.\" (0x800700C1, Win32 error 193). "
                   "The pool stays up; other requests work.")
        if (off := import_failure(load, plan.server.os_arch)) is not None:  # NOTE: ARM64EC: not error 193
            symptom = (f"HTTP 500 on requests for '{load.entry.path}' under {load.site}{load.application}: "
                       f"{off.failure}. The pool stays up; other requests work.")
        yield Finding.for_load(
            load, isapi_extension_arch.id, isapi_extension_arch.severity, symptom,
            mismatch_cause(load, "the ISAPI extension of handler", plan.server.os_arch),
            fixes(flip_fix(plan, load), split_fix(plan, load), build_fix(load, "ISAPI extension")),
        )
