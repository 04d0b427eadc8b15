"""Compression scheme DLLs (``system.webServer/httpCompression/scheme/@dll``): loaded into the worker by the static and
dynamic compression modules.

A scheme provider "is a pluggable extension of IIS StaticCompressionModule and DynamicCompressionModule" ("IIS
Compression Overview", learn.microsoft.com/iis/extensions/iis-compression/iis-compression-overview), and
``InitCompression`` "is called when the compression scheme DLL is loaded by IIS compression module" ("InitCompression
Function", IIS native-code API reference). So a worker loads a scheme's DLL when one of those two global modules loads
in it (its preCondition holds). ``dll`` is expanded in the worker (``expanded="true"``, facts B10, B11): the path is
resolved as the worker resolves a global module's image (``%ProgramFiles%`` is ``Program Files (x86)`` in a 32-bit
worker, ``System32`` is ``SysWOW64``: facts B12, E1).
"""

from __future__ import annotations

import ntpath
from collections.abc import Iterator
from dataclasses import replace

from iisbitness.config.precondition import evaluate
from iisbitness.image.paths import counterparts
from iisbitness.loadplan.context import Found, PlanContext
from iisbitness.loadplan.plan import Absence, BinaryRef, Load, LoadKind, Process
from iisbitness.model.iis7 import Application, Server
from iisbitness.model.source import Problem

COMPRESSION_MODULES = frozenset({"staticcompressionmodule", "dynamiccompressionmodule"})
"""The global modules (lower case) that load the scheme DLLs: ``compstat.dll`` and ``compdyn.dll``."""


def collect_compression_schemes(ctx: PlanContext, server: Server, process: Process,
                                apps: tuple[Application, ...]) -> Iterator[Found]:
    """One load per ``httpCompression/scheme`` when a compression module loads in ``process`` (none otherwise)."""
    if not server.compression_schemes or process.pool is None:
        return
    if not any(gm.name.lower() in COMPRESSION_MODULES
               and evaluate(gm.precondition, process.pool, process.arch, server.os_arch).may_load
               for gm in server.global_modules):
        return
    for scheme in server.compression_schemes:
        if not scheme.dll.strip():
            yield Problem(scheme.source.file, scheme.source.line, f"compression scheme {scheme.name!r} names no DLL "
                          "(dll=\"\"): nothing to check; the compression modules cannot load it")
            continue
        ref = _only_other_build(ctx, ctx.resolve(scheme.dll, server.os_arch, process.arch), server)
        yield Load(process, LoadKind.COMPRESSION_SCHEME, scheme.name, ref, scheme.source, scheme)


def _only_other_build(ctx: PlanContext, ref: BinaryRef, server: Server) -> BinaryRef:
    """``ref``, or, when it is absent from a folder the image does not hold while the image holds the same file in
    the other ``Program Files`` / WOW64 view (:func:`~iisbitness.image.paths.counterparts`), that absence with the
    other build named (:class:`Absence` ``other_view``, no binaries counted) instead of an architecture inferred
    from the folder: the provider's installer wrote one architecture's build (IIS Compression ships separate x86
    and amd64 MSIs, github.com/microsoft/IIS.Compression releases), and this worker looks where it put none.

    NOTE: kept to this collector: the folder inference stays as it is for the other kinds of load."""
    if not ref.missing or ref.absent is not None or ref.windows_path is None:
        return ref
    for other in counterparts(ref.windows_path, server.os_arch):
        hit = ctx.image.locate(other)
        if hit.host_path is not None and not hit.is_dir:
            return replace(ref, inferred=None, absent=Absence(ntpath.dirname(ref.windows_path), 0,
                                                              ctx.image.display(hit.host_path)))
    return ref
