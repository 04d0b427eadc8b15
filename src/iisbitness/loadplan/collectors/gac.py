"""Strong-named assemblies the configuration names, bound from the Global Assembly Cache (GAC).

A managed module or handler registered by type (``type="Ns.Module, Contoso.Sso, Version=1.0.0.0,
Culture=neutral, PublicKeyToken=…"``) in applicationHost.config or a web.config, a Classic-pipeline
``system.web/httpModules`` or ``httpHandlers`` type, or a ``system.web/compilation/assemblies`` entry makes the
pool's CLR load that assembly. For a fully specified (strong) name the CLR looks in the GAC first, then probes
the application's ``bin`` ("How the Runtime Locates Assemblies", steps 3 and 4; ASP.NET does not probe the
application root). The GAC is split by processor architecture, and a process looks only in the folders of its
own architecture and the neutral ones (:func:`gac_view`): an assembly installed only in the other architecture's
folder is not found, and the application fails with FileNotFoundException "Could not load file or assembly
'Name, Version=…' or one of its dependencies. The system cannot find the file specified." (not
BadImageFormatException: the worker never sees the file).

Layouts (one folder per name, then one per identity):

- .NET Framework 4 CLR: ``%windir%\\Microsoft.NET\\assembly\\GAC_32|GAC_64|GAC_MSIL\\Name\\v4.0_1.0.0.0_<culture>_<token>\\Name.dll``
  ("Global Assembly Cache", learn.microsoft.com: the GAC of .NET Framework 4 and later is
  ``%windir%\\Microsoft.NET\\assembly``); it also sees the CLR 2.0 GAC. INFERENCE from the one-way wording
  of the split as Microsoft gave it ("CLR v2.0 applications now cannot see CLR v4.0 assemblies in the GAC",
  quoted in ".NET 4.0 has a new GAC, why?", Stack Overflow, and "Top 2 things you should know about the GAC in
  .NET 4.0", MSDN blogs) and from .NET 4 applications loading .NET 2.0-era GAC assemblies in practice.
- .NET Framework 2.0 CLR (``managedRuntimeVersion="v2.0"``): ``%windir%\\assembly\\GAC_32|GAC_64|GAC_MSIL|GAC\\Name\\1.0.0.0_<culture>_<token>\\Name.dll``;
  a 64-bit process looks in GAC_64, GAC_MSIL, then GAC (v1.x assemblies) and never in GAC_32 (Junfeng Zhang,
  "GAC, Assembly ProcessorArchitecture, and Probing"; David Anson, "When the GAC makes you gack", a Filemon
  trace of exactly these three look-ups).

A partial name (no version or public key token: ``type="Ns.Module, Contoso.Auth"``) is probed in ``bin`` only
("How the Runtime Locates Assemblies": the GAC is searched for strong-named assemblies only); the bin collector
has the files ``bin`` holds. When the image holds the application's folder but no ``bin`` in it, what the CLR
loads there was not read (a partial copy): an unknown entry in the load map, from which the coverage makes that
application partly checked (so no fix that moves it to another architecture is verified), never silence. Names of
assemblies ASP.NET compiles itself (``App_Code``, ``App_Web_…``, ``App_global.asax``) are not looked for.

NOT MODELLED: a GAC assembly's own references to other GAC assemblies (its dependency search looks in its own
folder and System32 only), ``system.web`` in applicationHost.config ``<location>`` elements, publisher policy
and ``bindingRedirect`` (the version looked for is the configured one),
``codeBase``, a partial name absent from a ``bin`` the image holds (missing on the server: the application
fails with FileNotFoundException, not a bitness problem), ``qualifyAssembly`` (a partial name made full), the
.NET Framework's own assemblies (System.*, installed for every architecture), and an ARM64 GAC folder (a native
ARM64 worker is taken to see GAC_MSIL and the v1.x GAC only).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from iisbitness.arch import Arch
from iisbitness.image.paths import expand, process_environment
from iisbitness.loadplan.collectors.folders import app_bin_folder, app_folder
from iisbitness.loadplan.context import Found, PlanContext
from iisbitness.loadplan.plan import BinaryRef, GacAssembly, Load, LoadKind, Process, Skipped, SkipReason
from iisbitness.model.iis7 import Application, AssemblyName, ManagedType, PipelineMode, Server
from iisbitness.model.source import Problem
from iisbitness.pe.deps import is_framework_assembly

GAC4 = "%windir%\\Microsoft.NET\\assembly"
"""The .NET Framework 4 GAC."""
GAC2 = "%windir%\\assembly"
"""The .NET Framework 2.0 (and 1.x) GAC."""
_ARCH_FOLDER = {Arch.X86: "GAC_32", Arch.X64: "GAC_64"}


@dataclass(frozen=True, slots=True)
class GacFolder:
    """One GAC folder: its root (:data:`GAC4` or :data:`GAC2`) and name (``GAC_64``, ``GAC_MSIL``, ...)."""

    root: str
    name: str

    @property
    def label(self) -> str:
        """``Microsoft.NET\\assembly\\GAC_64`` or ``assembly\\GAC_64``."""
        return self.root.removeprefix("%windir%\\") + "\\" + self.name

    def path(self, asm: AssemblyName) -> str:
        """Where ``asm`` is in this folder (``…\\Name\\v4.0_1.0.0.0__token\\Name.dll``), unexpanded."""
        prefix = "v4.0_" if self.root == GAC4 else ""
        return f"{self.root}\\{self.name}\\{asm.name}\\{prefix}{asm.version}_{asm.culture}_{asm.public_key_token}\\{asm.name}.dll"


def gac_view(runtime: str, arch: Arch) -> tuple[GacFolder, ...]:
    """The GAC folders a CLR of ``runtime`` (``managedRuntimeVersion``) in a process of ``arch`` looks in, in order."""
    own = _ARCH_FOLDER.get(arch)
    v2 = tuple(GacFolder(GAC2, n) for n in (own, "GAC_MSIL", "GAC") if n)
    if runtime.startswith("v4"):
        return tuple(GacFolder(GAC4, n) for n in (own, "GAC_MSIL") if n) + v2
    return v2


def other_views(runtime: str, arch: Arch) -> tuple[GacFolder, ...]:
    """The architecture-specific GAC folders of the same GAC(s) that a process of ``arch`` never looks in (none
    for ARM64, whose own folder is not modelled)."""
    if arch not in _ARCH_FOLDER:
        return ()
    roots = (GAC4, GAC2) if runtime.startswith("v4") else (GAC2,)
    return tuple(GacFolder(root, n) for root in roots for a, n in _ARCH_FOLDER.items() if a is not arch)


def collect_gac(ctx: PlanContext, server: Server, process: Process, apps: tuple[Application, ...]) -> Iterator[Found]:
    """The strong-named assemblies the applications' configuration names, as this worker binds them, and the partial
    names it would look for in a ``bin`` the image lacks (module docstring).

    Integrated pipeline: ``system.webServer`` modules and handlers; Classic: ``system.web`` httpModules and
    httpHandlers; both: ``system.web/compilation/assemblies``. A pool with No Managed Code starts no CLR (facts A9).
    """
    pool = process.pool
    assert pool is not None
    integrated = pool.pipeline_mode is PipelineMode.INTEGRATED
    for app in apps:
        seen: set[str] = set()
        for effect in app.effects:
            for managed in effect.managed:
                asm = managed.assembly
                if is_framework_assembly(asm.name):
                    continue
                if managed.section != "system.web/compilation/assemblies" and managed.integrated != integrated:
                    continue  # NOTE: this pipeline mode does not read that section
                key = asm.display.lower()
                if key in seen:
                    continue
                seen.add(key)
                yield from (_bind(ctx, server, process, app, managed, asm) if asm.strong
                            else _bin_not_read(ctx, server, process, app, managed, asm))


def _bin_not_read(ctx: PlanContext, server: Server, process: Process, app: Application, managed: ManagedType,
                  asm: AssemblyName) -> Iterator[Found]:
    """A partial name, which the CLR probes in ``bin`` only: an unread problem and an unknown load when the image holds
    the application's folder without a ``bin`` (module docstring); nothing otherwise."""
    pool = process.pool
    assert pool is not None
    if not pool.managed_runtime_version or asm.name.lower().startswith("app_"):
        return  # NOTE: no CLR; or an assembly ASP.NET compiles from the application's own App_Code, pages, global.asax
    where = app_folder(ctx, server, app, process.arch)
    if where is None or where[1] is None or app_bin_folder(ctx, server, app, process.arch) is not None:
        return  # NOTE: the folder not read is the coverage's; a bin the image holds is the bin collector's
    if (skipped := _precondition_false(ctx, server, process, app, managed, asm)) is not None:
        yield skipped
        return
    folder = where[0] + "\\bin"
    why = (f"the CLR looks for '{asm.display}' (a partial name) in {folder} only, which is not in the image: the "
           "assembly and its architecture were not checked")
    # NOTE: no Problem here: the coverage says it under the applications whose worker has this load
    # (loadplan.coverage._unread_by_load), not under every application below the configuration file's folder, whose
    # own bin the image may hold
    yield _load(process, app, managed, asm, BinaryRef(asm.display, None, None, None),
                GacAssembly(managed, asm, ("bin",), unchecked=why, bin_folder=folder))


def _precondition_false(ctx: PlanContext, server: Server, process: Process, app: Application, managed: ManagedType,
                        asm: AssemblyName) -> Skipped | None:
    """The load map's skipped entry when the entry's preCondition is false in this worker, else None."""
    if not managed.precondition.strip():
        return None
    ev = ctx.precondition(server, process, managed.precondition, asm.name, managed.source, LoadKind.GAC_ASSEMBLY,
                          asm.display)
    return replace(ev, site=app.site, application=app.path) if isinstance(ev, Skipped) else None


def _bind(ctx: PlanContext, server: Server, process: Process, app: Application, managed: ManagedType,
          asm: AssemblyName) -> Iterator[Found]:
    pool = process.pool
    assert pool is not None
    if not pool.managed_runtime_version:
        yield Skipped(process, asm.name, managed.source,
                      f"pool '{pool.name}' runs No Managed Code (managedRuntimeVersion=\"\"): no CLR starts in its "
                      "worker, so no managed module or handler loads", SkipReason.NO_MANAGED_CODE,
                      LoadKind.GAC_ASSEMBLY, configured=asm.display, site=app.site, application=app.path)
        return
    if (skipped := _precondition_false(ctx, server, process, app, managed, asm)) is not None:
        yield skipped
        return
    view = gac_view(pool.managed_runtime_version, process.arch)
    searched = tuple(f.label for f in view)
    for folder in view:
        ref = ctx.resolve(folder.path(asm), server.os_arch, process.arch)
        if ref.resolved is not None:
            yield _load(process, app, managed, asm, ref, GacAssembly(managed, asm, searched, folder.name))
            return
    if _in_bin(ctx, server, app, process.arch, asm.name):
        return  # NOTE: probed in bin next: the bin collector has that load
    for folder in other_views(pool.managed_runtime_version, process.arch):
        ref = ctx.resolve(folder.path(asm), server.os_arch, process.arch)
        if ref.resolved is not None:
            yield _load(process, app, managed, asm, ref, GacAssembly(managed, asm, searched, folder.label, in_view=False))
            return
    roots = (GAC4, GAC2) if pool.managed_runtime_version.startswith("v4") else (GAC2,)
    if not any(_is_dir(ctx, server, process.arch, root) for root in roots):
        folders = " or ".join(r.replace("%windir%", "Windows") for r in roots)
        why = (f"the image holds no GAC folder ({folders}): where the CLR finds '{asm.display}', and its "
               "architecture, were not checked")
        # NOTE: unread: what the application names was not checked, so its coverage is partial (issue 20)
        yield Problem(managed.source.file, managed.source.line, f"{managed.section} names {asm.name!r}, which is not "
                      f"in bin, and {why}", unread=True)
        # NOTE: an incomplete image, said once in the problems: no binary-invalid "could not check" finding as well
        yield _load(process, app, managed, asm, BinaryRef(asm.display, None, None, None),
                    GacAssembly(managed, asm, searched, unchecked=why))
        return
    why = f"in none of {', '.join(searched)} nor in bin, nor in another architecture's GAC folder of the image"
    if process.arch not in _ARCH_FOLDER:
        why = (f"in none of {', '.join(searched)} nor in bin; the GAC folder of a native {process.arch.value} "
               "worker is not modelled")
    yield _load(process, app, managed, asm, BinaryRef(asm.display, None, None, None, problem=why),
                GacAssembly(managed, asm, searched))


def _load(process: Process, app: Application, managed: ManagedType, asm: AssemblyName, ref: BinaryRef,
          entry: GacAssembly) -> Load:
    return Load(process, LoadKind.GAC_ASSEMBLY, asm.name, replace(ref, configured=asm.display), managed.source, entry,
                site=app.site, application=app.path)


def _in_bin(ctx: PlanContext, server: Server, app: Application, arch: Arch, name: str) -> bool:
    found = app_bin_folder(ctx, server, app, arch)
    if found is None:
        return False
    names = ctx.facts.listing(found[1])
    return f"{name.lower()}.dll" in names or f"{name.lower()}.exe" in names


def _is_dir(ctx: PlanContext, server: Server, arch: Arch, root: str) -> bool:
    expanded, _ = expand(root, process_environment(server.os_arch, arch, ctx.env_overrides))
    host = ctx.image.locate(expanded).host_path
    return host is not None and host.is_dir()
