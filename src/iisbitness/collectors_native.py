"""Per-architecture copies of native libraries that NuGet packages lay out below an app's ``bin``.

Packages with native code ship one build per architecture, either in ``bin\\x86`` / ``bin\\x64``
(e.g. System.Data.SQLite's ``SQLite.Interop.dll``) or in the NuGet runtime-asset layout
``bin\\runtimes\\win-<arch>\\native``; their managed wrapper picks the copy for the running process.
These copies are yielded as ``BIN_NATIVE`` loads marked with a ``layout`` detail, so that
``native-library-arch`` can tell a root ``bin`` DLL of the wrong architecture that a fitting copy
stands in for. They are not loads of the worker by themselves (rules must skip the marked ones).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from iisbitness.collectors import app_bin_folder
from iisbitness.loadplan import Load, LoadKind, PlanContext, Process
from iisbitness.model import Application, ConfigSource, Server

LAYOUTS: tuple[tuple[str, ...], ...] = (
    ("x86",), ("x64",), ("arm64",),
    ("runtimes", "win-x86", "native"), ("runtimes", "win-x64", "native"), ("runtimes", "win-arm64", "native"),
)
"""Folders below ``bin`` that hold per-architecture native copies."""


def collect_native_layouts(ctx: PlanContext, server: Server, process: Process,
                           apps: tuple[Application, ...]) -> Iterator[Load]:
    """Native DLLs in the package layouts below each application's ``bin`` (only in managed pools)."""
    assert process.pool is not None
    if not process.pool.managed_runtime_version:
        return
    seen: set[Path] = set()
    for app in apps:
        found = app_bin_folder(ctx, server, app, process.arch)
        if found is None:
            continue
        win, host = found
        for layout in LAYOUTS:
            node: Path | None = host
            for part in layout:
                node = ctx.image.find_child(node, part) if node is not None else None
            if node is None or not node.is_dir() or node in seen:
                continue
            seen.add(node)
            rel = "\\".join(layout)
            for f in ctx.bin_files(node)[0]:
                ref = ctx.resolve(f"{win}\\{rel}\\{f.name}", server.os_arch, process.arch)
                if ref.image is None or not ref.image.is_pe or ref.image.is_managed:
                    continue
                yield Load(process, LoadKind.BIN_NATIVE, f.name, ref, ConfigSource(ref.resolved or ctx.image.display(f)),
                           site=app.site, application=app.path,
                           detail=(("bin", ctx.image.display(host)), ("layout", rel)))
