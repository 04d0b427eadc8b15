"""compression-scheme-arch: an ``httpCompression`` scheme DLL that a worker with the compression modules cannot load:
built for another architecture, or absent where that worker looks for it.

The static and dynamic compression modules load each scheme's DLL into the worker (``InitCompression`` "is called
when the compression scheme DLL is loaded by IIS compression module", IIS native-code API reference; "IIS Compression
Overview": a scheme provider "is a pluggable extension of IIS StaticCompressionModule and DynamicCompressionModule").
``%ProgramFiles%`` in ``dll`` expands to ``Program Files (x86)`` in a 32-bit worker (facts B11, B12), where IIS
Compression's amd64 build is not. What IIS does when a scheme DLL fails to load is not documented in the sources
searched (IIS docs, microsoft/IIS.Compression issues): the finding is a warning, and its symptom says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from iisbitness.arch import Arch
from iisbitness.findings import Finding, Severity, rule
from iisbitness.loadplan.plan import Evidence, Load, LoadKind, LoadPlan
from iisbitness.rules._common import build_fix, fixes, flip_fix, mismatch_cause, pool_flip

_WHAT = "compression scheme"


def _symptom(load: Load) -> str:
    assert load.process.pool is not None
    return (f"Responses from pool '{load.process.pool.name}' are likely not compressed with scheme '{load.name}' "
            "(check the response's Content-Encoding for a client that accepts it): its worker cannot load the "
            "scheme's DLL. What IIS logs then, and whether the worker keeps serving, is not documented in the "
            "sources checked; a scheme DLL is not a global module, so no HTTP 503 is claimed.")


@rule("compression-scheme-arch", Severity.WARNING,
      "An httpCompression scheme DLL cannot load in a worker that runs the compression modules")
def compression_scheme_arch(plan: LoadPlan) -> Iterator[Finding]:
    """One warning per scheme and worker: its DLL is of another architecture (read, or inferred from its folder), or
    absent where this worker looks while the image holds it elsewhere (another view's copy, or its folder)."""
    for load in plan.loads_of(LoadKind.COMPRESSION_SCHEME):
        if load.process.pool is None:
            continue
        if load.fits is False:
            yield Finding.for_load(load, compression_scheme_arch.id, compression_scheme_arch.severity, _symptom(load),
                                   mismatch_cause(load, _WHAT + " DLL"),
                                   fixes(flip_fix(plan, load), build_fix(load, _WHAT + " DLL")))
            continue
        absent = load.binary.absent
        if absent is None or absent.why is not None:
            continue
        b = load.binary
        if not absent.other_build_only:
            where = (f"The image holds {absent.folder} with {absent.binaries} other "
                     f"binar{'y' if absent.binaries == 1 else 'ies'} but not this file: taken as missing on the server.")
        else:
            where = f"The image does not hold {absent.folder}: if the server does not either, the file is missing there."
        other = (f" The image has {absent.other_view}: the other architecture's build was installed, not this "
                 "worker's." if absent.other_view else "")
        cause = (f"{load.process.describe()} loads {_WHAT} '{load.name}' from '{b.configured}', which it resolves to "
                 f"{b.windows_path}. {where}{other}")
        flip = None
        if absent.other_view and plan.iisexpress is None and plan.server.os_arch is Arch.X64:
            pool = load.process.pool
            target = Arch.X64 if load.process.arch is Arch.X86 else Arch.X86
            flip = pool_flip(plan, pool, target)
        found = Finding.for_load(load, compression_scheme_arch.id, compression_scheme_arch.severity, _symptom(load),
                                 cause, fixes(flip, build_fix(load, _WHAT + " DLL")))
        yield replace(found, evidence=Evidence.INFERRED) if absent.other_build_only else found
