"""The load plan: which process loads which binary, at which architecture, and why.

A :class:`Load` joins a process (w3wp.exe of a pool at its architecture, or inetmgr.exe), a
configuration entry (with file and line), and the binary resolved as that process sees it
(environment variables of that process, WOW64 file-system redirection). Rules are pure
functions of a :class:`LoadPlan`.

Who loads what (facts D1-D7, F2):
- every worker loads every global module whose preCondition holds, at start;
- a worker loads the ISAPI filters of the sites it serves, at start;
- a worker loads an ISAPI extension (IsapiModule + scriptProcessor) on the first request;
- the CLR in a worker loads the assemblies in an application's ``bin``;
- IIS Manager (inetmgr.exe, 64-bit on 64-bit Windows) loads every ``bin`` assembly when its
  Add Managed Handler/Module dialog lists types (KB 3194551).
FastCGI and CGI programs run in their own processes and are not loads of the worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from iisbitness.arch import Arch, format_arches
from iisbitness.config.precondition import Evaluation, evaluate
from iisbitness.errors import ImageReadError
from iisbitness.image.paths import (
    Inference,
    expand,
    infer_from_location,
    is_absolute,
    normalize,
    process_environment,
    redirect,
)
from iisbitness.image.server_image import ServerImage
from iisbitness.model import Application, AppPool, ConfigSource, Problem, Server
from iisbitness.pe.classify import read_image
from iisbitness.pe.deps import find_mismatch
from iisbitness.pe.types import PeImage

MAX_BIN_FILES = 20000
"""Files classified per ``bin`` folder; a larger folder is reported and cut there."""


class LoadKind(str, Enum):
    """Why a process loads a binary."""

    GLOBAL_MODULE = "global-module"
    ISAPI_FILTER = "isapi-filter"
    ISAPI_EXTENSION = "isapi-extension"
    BIN_ASSEMBLY = "bin-assembly"
    BIN_NATIVE = "bin-native"
    ASPNETCORE = "aspnetcore"
    COM_INPROC = "com-inproc"


class Evidence(str, Enum):
    """How the binary's architecture is known: read from its headers, or inferred from its folder."""

    READ = "read"
    INFERRED = "inferred"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Process:
    """A process that loads binaries.

    Attributes:
        name: executable name, e.g. ``w3wp.exe``, ``inetmgr.exe``, ``inetinfo.exe``.
        arch: its architecture.
        pool: the application pool it serves (workers only).
    """

    name: str
    arch: Arch
    pool: AppPool | None = None

    def describe(self) -> str:
        """E.g. ``"w3wp.exe of pool 'X' (x86, 32-bit under WOW64)"``."""
        bits = "32-bit" if self.arch is Arch.X86 else "64-bit"
        what = f"{self.name} of pool '{self.pool.name}'" if self.pool else self.name
        return f"{what} ({self.arch.value}, {bits})"


@dataclass(frozen=True, slots=True)
class BinaryRef:
    """A configured binary resolved as one process sees it.

    Attributes:
        configured: the path exactly as configured.
        windows_path: after environment expansion and WOW64 redirection (None if unresolvable).
        resolved: the file in the image as the user names it, or None when absent.
        image: its headers, when the file was read.
        inferred: an architecture inferred from a well-known folder, when the file is absent.
        problem: why it could not be resolved or read (unknown variable, UNC, outside the image).
        chain: when the binary fits but a dependency does not, the chain from it to that
            dependency, e.g. ``("app.dll", "native.dll (x86)")``; empty otherwise.
    """

    configured: str
    windows_path: str | None
    resolved: str | None
    image: PeImage | None
    inferred: Inference | None = None
    problem: str | None = None
    chain: tuple[str, ...] = ()

    @property
    def arches(self) -> frozenset[Arch] | None:
        """Architectures that can load it, from its headers or inferred; None when unknown."""
        if self.image is not None:
            return self.image.loadable_by if self.image.is_pe else None
        if self.inferred is not None:
            return self.inferred.arches
        return None

    @property
    def evidence(self) -> Evidence:
        """READ when the headers were read, INFERRED from the folder, else UNKNOWN."""
        if self.image is not None and self.image.is_pe:
            return Evidence.READ
        if self.inferred is not None and self.image is None:
            return Evidence.INFERRED
        return Evidence.UNKNOWN

    @property
    def missing(self) -> bool:
        """True when the file is not in the image (and nothing else went wrong)."""
        return self.resolved is None and self.problem is None


@dataclass(frozen=True, slots=True)
class Load:
    """One binary loaded by one process because of one configuration entry.

    Attributes:
        process: the loading process.
        kind: why it is loaded.
        name: the configuration entry's name (module, filter, handler, assembly file).
        binary: the binary as that process resolves it.
        source: the configuration entry (file and line); for bin files, the application.
        site: site name, or None for server-wide loads (global modules).
        application: application path (``/app``), or None.
        precondition: the preCondition evaluation, for entries that carry one.
        detail: extra facts for this kind of load (e.g. the handler's path pattern).
    """

    process: Process
    kind: LoadKind
    name: str
    binary: BinaryRef
    source: ConfigSource
    site: str | None = None
    application: str | None = None
    precondition: Evaluation | None = None
    detail: tuple[tuple[str, str], ...] = ()

    @property
    def fits(self) -> bool | None:
        """True/False when the binary's architecture is known (a dependency that does not fit makes
        it False); None when unknown."""
        arches = self.binary.arches
        if arches is None:
            return None
        return self.process.arch in arches and not self.binary.chain

    def get(self, key: str, default: str = "") -> str:
        """A value from :attr:`detail`."""
        return next((v for k, v in self.detail if k == key), default)


APP_LEVEL_KINDS = frozenset({LoadKind.ISAPI_EXTENSION, LoadKind.BIN_ASSEMBLY, LoadKind.ASPNETCORE, LoadKind.COM_INPROC})
"""Loads that break one application (not the whole pool) when they do not fit."""


@dataclass(frozen=True, slots=True)
class PoolOutlook:
    """What would fail in a pool at each architecture its worker could run as.

    Attributes:
        pool: the pool's name.
        current: the worker's architecture now.
        app_failures: per candidate architecture, the ``(application label, binary)`` pairs of
            application-level loads that would not fit.
    """

    pool: str
    current: Arch
    app_failures: tuple[tuple[Arch, tuple[tuple[str, str], ...]], ...]

    def failures_at(self, arch: Arch) -> tuple[tuple[str, str], ...]:
        """The application-level failures at ``arch`` (empty when none or not a candidate)."""
        return next((f for a, f in self.app_failures if a is arch), ())

    @property
    def candidates(self) -> tuple[Arch, ...]:
        """The architectures considered."""
        return tuple(a for a, _ in self.app_failures)


def worker_candidates(os_arch: Arch) -> tuple[Arch, ...]:
    """Architectures a worker can run as on an OS of ``os_arch`` (facts A4-A7)."""
    return {Arch.X86: (Arch.X86,), Arch.X64: (Arch.X86, Arch.X64), Arch.ARM64: (Arch.X86, Arch.X64, Arch.ARM64)}[os_arch]


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """Every load of a server, plus what was skipped.

    Attributes:
        server: the model it was built from.
        loads: all loads, in a stable order (pool, kind, configuration order).
        skipped: ``(process, entry name, source, reason)`` for entries whose preCondition is
            false in that process (kept so reports can say why nothing was found).
        idle_pools: pools that host no application (their worker never starts).
        config_only: True when the image holds none of the configured binaries (a support
            engineer's copy of the configuration files only).
        problems: files and folders that could not be read while planning.
        outlook: per pool hosting applications, what would fail at each worker architecture.
    """

    server: Server
    loads: tuple[Load, ...]
    skipped: tuple[tuple[Process, str, ConfigSource, str], ...] = ()
    idle_pools: tuple[str, ...] = ()
    config_only: bool = False
    problems: tuple[Problem, ...] = ()
    outlook: tuple[PoolOutlook, ...] = ()

    def loads_of(self, *kinds: LoadKind) -> Iterator[Load]:
        """The loads of the given kinds, in plan order."""
        return (ld for ld in self.loads if ld.kind in kinds)



@dataclass
class PlanContext:
    """What planning reads from, with caches so that a re-plan (fix verification) is cheap.

    Attributes:
        image: the server image.
        env_overrides: environment variables given by the user (``--env NAME=VALUE``).
        follow_dependencies: follow imports / assembly references of loaded binaries.
    """

    image: ServerImage
    env_overrides: dict[str, str] = field(default_factory=dict)
    follow_dependencies: bool = True
    _images: dict[Path, PeImage | str] = field(default_factory=dict, repr=False)
    _dirs: dict[Path, tuple[list[Path], str | None]] = field(default_factory=dict, repr=False)
    _resolved: dict[tuple[str, Arch, Arch], BinaryRef] = field(default_factory=dict, repr=False)
    _chains: dict[tuple[Path, Arch], tuple[str, ...]] = field(default_factory=dict, repr=False)
    problems: list[Problem] = field(default_factory=list, repr=False)
    skipped: list[tuple[Process, str, ConfigSource, str]] = field(default_factory=list, repr=False)

    def precondition(self, server: Server, process: Process, precondition: str, name: str,
                     source: ConfigSource) -> Evaluation | None:
        """Evaluate a preCondition in ``process``; record a skip and return None when false."""
        assert process.pool is not None
        ev = evaluate(precondition, process.pool, process.arch, server.os_arch)
        if not ev.may_load:
            self.skipped.append((process, name, source, f"preCondition token '{ev.false_token}' is false"))
            return None
        return ev

    def read(self, host: Path) -> PeImage | str:
        """The headers of ``host``, or a reason string when it cannot be read. Cached."""
        if host not in self._images:
            try:
                self._images[host] = read_image(host)
            except ImageReadError as e:
                self._images[host] = str(e).split(": ", 1)[-1]
        return self._images[host]

    def resolve(self, configured: str, os_arch: Arch, process_arch: Arch) -> BinaryRef:
        """Resolve a configured binary path as a process of ``process_arch`` would (facts B11, B12, E1). Cached."""
        # NOTE: a bin of 20,000 DLLs is resolved for every worker, candidate and re-plan (issue 7)
        key = (configured, os_arch, process_arch)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(configured, os_arch, process_arch)
        return self._resolved[key]

    def _resolve(self, configured: str, os_arch: Arch, process_arch: Arch) -> BinaryRef:
        env = process_environment(os_arch, process_arch, self.env_overrides)
        expanded, unresolved = expand(configured, env)
        if unresolved:
            return BinaryRef(configured, None, None, None,
                             problem=f"%{unresolved[0]}% is not an environment variable of {process_arch.value} "
                                     "worker processes (pass --env NAME=VALUE if the server sets it)")
        path = normalize(expanded)
        if not path:
            return BinaryRef(configured, None, None, None, problem="empty path")
        if not is_absolute(path):
            return BinaryRef(configured, path, None, None,
                             problem="relative path: resolved against the worker's current folder, unknown offline")
        seen = redirect(path, os_arch, process_arch)
        found = self.image.locate(seen)
        if found.problem:
            return BinaryRef(configured, seen, None, None, problem=found.problem)
        if found.host_path is None:
            return BinaryRef(configured, seen, None, None, inferred=infer_from_location(seen, os_arch))
        if found.host_path.is_dir():
            return BinaryRef(configured, seen, self.image.display(found.host_path), None, problem="is a folder, not a file")
        got = self.read(found.host_path)
        shown = self.image.display(found.host_path)
        if isinstance(got, str):
            return BinaryRef(configured, seen, shown, None, problem=f"cannot read: {got}")
        chain: tuple[str, ...] = ()
        if self.follow_dependencies and got.is_pe and process_arch in got.loadable_by:
            chain = self.dependency_chain(found.host_path, os_arch, process_arch)
        return BinaryRef(configured, seen, shown, got, chain=chain)

    def dependency_chain(self, host: Path, os_arch: Arch, process_arch: Arch) -> tuple[str, ...]:
        """The chain to the first dependency of ``host`` that a ``process_arch`` process cannot load.

        Searches the binary's own folder, then the process's view of System32 (SysWOW64 for a
        32-bit process), as the loader does (facts D1; "Dynamic-Link Library Search Order").
        P/Invoke targets are not followed here: they load only when called (native-library-arch).
        """
        key = (host, process_arch)
        if key not in self._chains:
            dirs = [host.parent]
            sys_view = self.image.locate(redirect("C:\\Windows\\System32", os_arch, process_arch)).host_path
            if sys_view is not None:
                dirs.append(sys_view)
            try:
                result = find_mismatch(host, process_arch, dirs)
            except ImageReadError:
                result = None
            chain: tuple[str, ...] = ()
            if result is not None and result.mismatch is not None and len(result.mismatch.links) > 1:
                links = result.mismatch.links
                if not any(link.via == "pinvoke" for link in links):
                    last = links[-1].image
                    why = format_arches(last.loadable_by) if last.is_pe else "not a valid PE"
                    chain = tuple(link.path.name for link in links[:-1]) + (f"{links[-1].path.name} ({why})",)
            self._chains[key] = chain
        return self._chains[key]

    def bin_files(self, folder: Path) -> tuple[list[Path], str | None]:
        """The ``*.dll`` files of a bin folder (sorted, capped at MAX_BIN_FILES) and a note if cut."""
        if folder not in self._dirs:
            files: list[Path] = []
            note: str | None = None
            try:
                with os.scandir(folder) as it:
                    for d in it:
                        if d.name.lower().endswith(".dll") and d.is_file(follow_symlinks=False):
                            files.append(Path(d.path))
                            if len(files) >= MAX_BIN_FILES:
                                note = f"more than {MAX_BIN_FILES} DLLs: only the first {MAX_BIN_FILES} were read"
                                break
            except OSError as e:
                note = f"cannot list: {e.strerror or e}"
            self._dirs[folder] = (sorted(files, key=lambda p: p.name.lower()), note)
        return self._dirs[folder]


Collector = Callable[[PlanContext, Server, Process, tuple[Application, ...]], Iterator[Load]]
"""A source of loads for one worker process: ``(ctx, server, process, applications) -> loads``."""


def build(server: Server, ctx: PlanContext, collectors: tuple[Collector, ...] | None = None) -> LoadPlan:
    """Build the load plan of ``server``.

    Args:
        server: the merged configuration model.
        ctx: the image and caches (reuse one context to re-plan cheaply).
        collectors: the collectors to run; default :data:`iisbitness.collector_set.COLLECTORS`.

    Returns:
        A :class:`LoadPlan`. Never raises for bad binaries: they become loads whose
        ``binary.problem`` or ``binary.image.reason`` says what is wrong.
    """
    from iisbitness.collector_set import COLLECTORS  # NOTE: collectors import this module
    from iisbitness.collectors import collect_iis_manager

    ctx.skipped.clear()
    ctx.problems.clear()
    loads: list[Load] = []
    idle: list[str] = []
    per_pool: dict[str, list[Load]] = {}
    for pool in server.pools:
        apps = server.applications_in(pool)
        if not apps:
            idle.append(pool.name)
            continue
        process = Process("w3wp.exe", pool.worker_arch(server.os_arch), pool)
        mine = per_pool.setdefault(pool.name, [])
        for collect in collectors or COLLECTORS:
            mine.extend(collect(ctx, server, process, apps))
        loads.extend(mine)
    loads.extend(collect_iis_manager(ctx, server))
    present = [ld for ld in loads if ld.binary.resolved is not None]
    config_only = bool(loads) and not present
    skipped, problems = tuple(ctx.skipped), tuple(dict.fromkeys(ctx.problems))
    outlook = tuple(_outlook(ctx, server, pool, collectors or COLLECTORS, per_pool[pool.name])
                    for pool in server.pools if pool.name in per_pool)
    return LoadPlan(server, tuple(loads), skipped, tuple(idle), config_only, problems, outlook)


def _outlook(ctx: PlanContext, server: Server, pool: AppPool, collectors: tuple[Collector, ...],
             current_loads: list[Load]) -> PoolOutlook:
    """What fails at each candidate architecture; the current one reuses ``current_loads``."""
    apps = server.applications_in(pool)
    current = pool.worker_arch(server.os_arch)
    per_arch: list[tuple[Arch, tuple[tuple[str, str], ...]]] = []
    for arch in worker_candidates(server.os_arch):
        process = Process("w3wp.exe", arch, pool)
        candidates = current_loads if arch is current else [
            ld for collect in collectors for ld in collect(ctx, server, process, apps)]
        fails: list[tuple[str, str]] = []
        for ld in candidates:
            if ld.kind in APP_LEVEL_KINDS and ld.fits is False:
                fails.append((f"{ld.site}{ld.application}", ld.binary.configured))
        per_arch.append((arch, tuple(dict.fromkeys(fails))))
    ctx.skipped.clear()
    return PoolOutlook(pool.name, pool.worker_arch(server.os_arch), tuple(per_arch))

