"""Compression scheme DLLs (``system.webServer/httpCompression/scheme/@dll``): loaded into the worker by the static and
dynamic compression modules.

A scheme provider "is a pluggable extension of IIS StaticCompressionModule and DynamicCompressionModule" ("IIS
Compression Overview", learn.microsoft.com/iis/extensions/iis-compression/iis-compression-overview), and
``InitCompression`` "is called when the compression scheme DLL is loaded by IIS compression module" ("InitCompression
Function", IIS native-code API reference). So a worker loads a scheme's DLL when one of those two global modules loads
in it: :func:`iisbitness.loadplan.collectors.modules.collect_global_modules` decides that (its preCondition, its
image) and asks :func:`scheme_loads` for the schemes, so that the decision is made once. ``dll`` is expanded in the
worker (``expanded="true"``, facts B10, B11): the path is resolved as the worker resolves a global module's image
(``%ProgramFiles%`` is ``Program Files (x86)`` in a 32-bit worker, ``System32`` is ``SysWOW64``: facts B12, E1).
"""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.loadplan.context import Found, PlanContext
from iisbitness.loadplan.plan import Load, LoadKind, Process
from iisbitness.model.iis7 import Server
from iisbitness.model.source import Problem

COMPRESSION_MODULES = frozenset({"staticcompressionmodule", "dynamiccompressionmodule"})
"""The global modules (lower case) that load the scheme DLLs: ``compstat.dll`` and ``compdyn.dll``."""


def scheme_loads(ctx: PlanContext, server: Server, process: Process) -> Iterator[Found]:
    """One load per ``httpCompression/scheme`` of ``server`` in ``process``, a worker in which a compression module
    (:data:`COMPRESSION_MODULES`) loads (the caller's decision); a problem for a scheme that names no DLL."""
    for scheme in server.compression_schemes:
        if not scheme.dll.strip():
            yield Problem(scheme.source.file, scheme.source.line, f"compression scheme {scheme.name!r} names no DLL "
                          "(dll=\"\"): nothing to check; the compression modules cannot load it")
            continue
        ref = ctx.resolve(scheme.dll, server.os_arch, process.arch)
        yield Load(process, LoadKind.COMPRESSION_SCHEME, scheme.name, ref, scheme.source, scheme)
