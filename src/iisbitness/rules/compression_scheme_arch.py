"""compression-scheme-arch: an ``httpCompression`` scheme DLL of another architecture than a worker that runs the
compression modules.

The static and dynamic compression modules load each scheme's DLL into the worker (``InitCompression`` "is called
when the compression scheme DLL is loaded by IIS compression module", IIS native-code API reference; "IIS Compression
Overview": a scheme provider "is a pluggable extension of IIS StaticCompressionModule and DynamicCompressionModule").
"Compression schemes are defined globally" and load in every application pool: one of the wrong architecture gives
HTTP 500.19 on every response of the pool's sites, a static file too (KB 4468361, "Management points stop
responding to HTTP requests with error 500.19", a KB number no stored corpus holds; the mechanism is Lex Li's "IIS 7
and WSUS on Windows Server x64", facts S43: WSUS's x64-only ``suscomp.dll``, which a 32-bit pool looks for in
SysWOW64, where it is absent: the absent case, binary-missing's, 0x8007007e). The wrong build gives the same 500.19
with its own error: KB 942055, "HRESULT code 0x800700c1": "This problem can occur if the bitness of the specified
module is different than that of the application pool hosting the application". An error, then, like a global
module's; the symptom names the module and notification IIS reports. A scheme DLL absent where the worker looks (``%ProgramFiles%`` is
``Program Files (x86)`` in a 32-bit worker, facts B11, B12) is ``binary-missing``'s, with its symptom for schemes:
each missing file is said once, in one rule.
"""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Severity, rule
from iisbitness.loadplan.plan import Load, LoadKind, LoadPlan
from iisbitness.rules._common import (
    build_fix,
    compression_modules_fix,
    fixes,
    flip_fix,
    mismatch_cause,
    scheme_removal,
    scheme_symptom,
)

_WHAT = "compression scheme"


def _symptom(load: Load) -> str:
    assert load.process.pool is not None
    text = scheme_symptom(f"pool '{load.process.pool.name}'")
    return (f"{text[0].upper()}{text[1:]}: its worker cannot load the DLL of compression scheme '{load.name}' "
            "(KB 4468361).")


@rule("compression-scheme-arch", Severity.ERROR,
      "An httpCompression scheme DLL of another architecture than a worker that runs the compression modules")
def compression_scheme_arch(plan: LoadPlan) -> Iterator[Finding]:
    """One error per scheme and worker whose DLL is of another architecture (read, or inferred from its folder)."""
    for load in plan.loads_of(LoadKind.COMPRESSION_SCHEME):
        if load.process.pool is None or load.fits is not False:
            continue
        yield Finding.for_load(load, compression_scheme_arch.id, compression_scheme_arch.severity, _symptom(load),
                               mismatch_cause(load, _WHAT + " DLL", plan.server.os_arch),
                               fixes(flip_fix(plan, load), build_fix(load, _WHAT + " DLL"),
                                     scheme_removal(plan, load), compression_modules_fix(plan, load)))
