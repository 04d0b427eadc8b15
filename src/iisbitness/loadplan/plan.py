"""The load plan: which process loads which binary, at which architecture, and why.

A :class:`Load` joins a process (w3wp.exe of a pool at its architecture, or inetmgr.exe), a
configuration entry (with file and line), and the binary resolved as that process sees it
(environment variables of that process, WOW64 file-system redirection). Rules are pure
functions of a :class:`LoadPlan`.

Who loads what (facts D1-D7, F2):
- every worker loads every global module whose preCondition holds, at start;
- a worker whose static or dynamic compression module loads loads each ``httpCompression`` scheme DLL;
- a worker loads the ISAPI filters of the sites it serves, at start;
- a worker loads an ISAPI extension (IsapiModule + scriptProcessor) on the first request;
- the CLR in a worker loads the assemblies in an application's ``bin``;
- the CLR loads the strong-named assemblies of managed modules, handlers and compilation assemblies from
  the Global Assembly Cache of its own architecture (or the neutral one), when bin does not hold them first;
- IIS Manager (inetmgr.exe, 64-bit on 64-bit Windows) loads every ``bin`` assembly when its
  Add Managed Handler/Module dialog lists types (KB 3194551).
FastCGI and CGI programs run in their own processes and are not loads of the worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from itertools import chain, groupby
from operator import attrgetter
from typing import TypeVar, cast

from iisbitness.arch import Arch
from iisbitness.config.precondition import Evaluation
from iisbitness.image.paths import Inference
from iisbitness.image.stock import is_windows_own
from iisbitness.model.iis6 import Iis6Filter, Iis6Server, ScriptMap
from iisbitness.model.iis7 import (
    AppPool,
    AspNetCore,
    AssemblyName,
    CompressionScheme,
    GlobalModule,
    Handler,
    IsapiFilter,
    ManagedType,
    Server,
)
from iisbitness.model.iisexpress import IisExpressWorkspace
from iisbitness.model.source import ConfigSource, Problem
from iisbitness.pe.classify import ARM64_HYBRIDS
from iisbitness.pe.deps import Unresolved
from iisbitness.pe.types import ImageKind, PeImage
from iisbitness.slots import direct_init

T = TypeVar("T")

_NOT_PE = ImageKind.NOT_PE
"""NOTE: a module constant: an Enum member read through its class costs about four times as much in Python 3.11."""

_KIND_OF = attrgetter("kind")
"""A load's kind (:func:`_load_runs`)."""


class LoadKind(str, Enum):
    """Why a process loads a binary."""

    GLOBAL_MODULE = "global-module"
    ISAPI_FILTER = "isapi-filter"
    ISAPI_EXTENSION = "isapi-extension"
    BIN_ASSEMBLY = "bin-assembly"
    BIN_NATIVE = "bin-native"
    ASPNETCORE = "aspnetcore"
    COM_INPROC = "com-inproc"
    GAC_ASSEMBLY = "gac-assembly"
    COMPRESSION_SCHEME = "compression-scheme"


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
        arch_assumption: when ``arch`` is a default assumption rather than a setting that was read
            (IIS Express: Visual Studio's option, not on disk), why; findings about this process are
            then INFERRED, not READ (iis-express-facts.md F2.1).
        site: IIS Express only: the site the process serves. Visual Studio starts one ``iisexpress.exe
            /site:NAME`` per project ("Running IIS Express from the Command Line", iis-docs
            running-iis-express-from-the-command-line.md: ``/site:`` "The name of the site to launch"), so
            two projects whose sites name one pool are two processes, each at its project's bitness
            (iis-express-facts.md F2.1-F2.3). None for IIS, where WAS starts one worker per pool.
    """

    name: str
    arch: Arch
    pool: AppPool | None = None
    arch_assumption: str | None = None
    site: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """The process's identity: ``(executable name, pool name, site)``, the names in lower case (IIS pool and
        site names are case-insensitive) and "" where there is none. One ``w3wp.exe`` per pool; one
        ``iisexpress.exe`` per project's site (:attr:`site`); ``inetmgr.exe``, ``inetinfo.exe`` one each."""
        return (self.name, self.pool.name.lower() if self.pool is not None else "",
                self.site.lower() if self.site is not None else "")

    def describe(self) -> str:
        """E.g. ``"w3wp.exe of pool 'X' (x86, 32-bit under WOW64)"``; IIS Express:
        ``"iisexpress.exe of site 'S' in pool 'X' (x64, 64-bit)"``."""
        bits = "32-bit" if self.arch is Arch.X86 else "64-bit"
        return f"{self.label} ({self.arch.value}, {bits})"

    @property
    def label(self) -> str:
        """The process without its architecture: ``w3wp.exe of pool 'X'``, ``iisexpress.exe of site 'S' in pool
        'X'``, ``inetmgr.exe``."""
        site = f" of site '{self.site}' in" if self.site is not None else " of"
        return f"{self.name}{site} pool '{self.pool.name}'" if self.pool else self.name


@dataclass(frozen=True, slots=True)
class Absence:
    """Why an absent binary is taken as missing on the server, not just missing from the image.

    The image holds the folder the file should be in, with other binaries in it: it is a copy of
    that folder, so the file is not there on the server either and the loader fails with
    ERROR_MOD_NOT_FOUND (126, 0x8007007E). Or (:attr:`other_build_only`) the image does not hold the
    folder but holds the other architecture's build of the file: not checked, and not inferred either.
    Folder inference (:class:`Inference`) is kept for configuration-only images, whose folders are
    absent or hold no binary, except (:attr:`redirected`) for a file reached through System32 -> SysWOW64 redirection.
    Whether the scan could check the file at all is :attr:`not_checked`, decided here once.

    Attributes:
        folder: the folder as the user names it (``Windows/SysWOW64/inetsrv``).
        binaries: how many other ``.dll``/``.exe`` files it holds.
        other_view: where the image holds a file of the same name for the other WOW64 view or the
            other ``Program Files`` / ``Framework`` folder (the copy that was installed), or None.
        why: set when no server has the file where this process looks, whatever the image holds
            (``%windir%\\Sysnative`` in a 64-bit process); ``folder`` is then that Windows folder.
        partial_copy: the file is one of Windows' own IIS binaries in ``inetsrv``, or IIS Express's own in its install
            folder (:func:`iisbitness.image.stock.is_windows_iis_binary`): the copy of that folder is more likely
            partial than the server broken.
        on_server: the image is the server itself (``ServerImage.live``, or a zip collected on the server,
            ``ServerImage.collected == "server"``): every drive and folder of the server is there, so the file is
            missing on the server whatever its folder holds (never :attr:`partial_copy`: a stock module absent from a
            live ``inetsrv`` is a role service removed with its configuration entry left).
        gone: with :attr:`on_server`, why the folder itself is not on the server, where that is known beyond its
            parent's listing (``"drive E: is not a drive of this server"``: :attr:`iisbitness.image.server_image.
            Resolved.gone`); None otherwise.
        redirected: the image does not hold the folder, and the process reached it through System32 -> SysWOW64
            redirection (a 32-bit process on 64-bit Windows) for a file that is not one of Windows' own IIS modules
            (:func:`iisbitness.image.stock.is_windows_iis_binary`): SysWOW64 does not decide that it is there, as an
            installer decides which builds it puts in each view (WSUS's ``suscomp.dll`` is x64 only, KB 4468361), so
            the file is not checked, and not inferred either (:func:`iisbitness.image.paths.infer_from_location`
            is not asked). Decided once, in :meth:`iisbitness.loadplan.context.PlanContext.absence`'s caller.
    """

    folder: str
    binaries: int
    other_view: str | None = None
    why: str | None = None
    partial_copy: bool = False
    on_server: bool = False
    gone: str | None = None
    redirected: bool = False

    @property
    def other_build_only(self) -> bool:
        """True when the folder is not in the image (no binaries counted) but the other architecture's build of the
        file is (:attr:`other_view`): the file may or may not be on the server."""
        return not self.binaries and self.other_view is not None and self.why is None and not self.on_server

    @property
    def not_checked(self) -> bool:
        """True when the scan could not check the file: the image may lack it while the server has it (the other
        build only, :attr:`other_build_only`; a copy of ``inetsrv`` that may be partial, :attr:`partial_copy`; a
        vendor file reached through System32 -> SysWOW64 redirection into a folder the image lacks,
        :attr:`redirected`). The complement of :attr:`missing_on_server`."""
        return self.other_build_only or self.partial_copy or self.redirected

    @property
    def missing_on_server(self) -> bool:
        """True when the file is known to be missing on the server, so the loader fails with ERROR_MOD_NOT_FOUND
        (126): no server has it where the process looks (:attr:`why`), the image is the server (:attr:`on_server`), or
        the image holds its folder with other binaries and it is not one of Windows' own modules (a copy that may be
        partial, :attr:`partial_copy`). False when it is only perhaps missing (:attr:`not_checked`): nothing may then
        be said of it as a fact (a stopped pool, a module that never ran). The one decision every rule and fix reads."""
        return not self.not_checked


@direct_init  # NOTE: one per binary and worker architecture (issue 25)
@dataclass(frozen=True, slots=True)
class BinaryRef:
    """A configured binary resolved as one process sees it.

    Attributes:
        configured: the path exactly as configured.
        windows_path: after environment expansion and WOW64 redirection (None if unresolvable).
        resolved: the file in the image as the user names it, or None when absent.
        image: its headers, when the file was read.
        inferred: an architecture inferred from a well-known folder, when the file is absent from a
            folder the image does not hold (a configuration-only image).
        absent: when the file is absent from a folder the image holds: why it is missing on the server.
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
    absent: Absence | None = None

    @property
    def unreadable(self) -> bool:
        """True when the scan could not read the file at all (:attr:`problem` said, no :attr:`image`): a path on a
        drive not mapped, a share not given, outside the image, an unknown variable, a file that cannot be read. The
        one test of it: a finding about such a load (:attr:`iisbitness.findings.Finding.binary_not_checked`) and the
        coverage of the applications whose worker loads it (``loadplan.coverage``)."""
        return self.problem is not None and self.image is None

    @property
    def arches(self) -> frozenset[Arch] | None:
        """Architectures that can load it, from its headers or inferred; None when unknown."""
        # NOTE: the image's kind compared here, not through PeImage.is_pe: asked a few times per load (issue 25)
        image = self.image
        if image is not None:
            return image.loadable_by if image.kind is not _NOT_PE else None
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

    @property
    def missing_on_server(self) -> bool:
        """True when the file is known to be missing on the server (:attr:`Absence.missing_on_server`)."""
        return self.absent is not None and self.absent.missing_on_server

    @property
    def not_checked(self) -> bool:
        """True when the file is not in the image and the scan could not check it: its :attr:`absent` says so
        (:attr:`Absence.not_checked`: the other build only, a copy that may be partial, a file reached through
        System32 -> SysWOW64 redirection), or nothing was decided of it (no :attr:`absent`, no :attr:`inferred`: a
        folder the image lacks that does not decide its architecture). The one notion of "a binary the worker loads
        that nobody checked" (of the kinds a process looks for by path: :attr:`Load.not_checked`) for binary-missing's
        warnings (:attr:`iisbitness.findings.Finding.binary_not_checked`), the coverage of the applications of its
        worker (partly checked) and verification (a fix whose worker still loads such a file is not verified). Not
        :attr:`unreadable` (a file that could not be read at all)."""
        if self.resolved is not None or self.problem is not None:
            return False
        absent = self.absent
        return absent.not_checked if absent is not None else self.inferred is None


@dataclass(frozen=True, slots=True)
class NativeCopy:
    """A per-architecture copy of a native DLL that a NuGet package lays out below ``bin``.

    Attributes:
        layout: the folder below ``bin``: ``x64``, ``runtimes\\win-x64\\native``, ...
        binary: the copy as the worker resolves it.
    """

    layout: str
    binary: BinaryRef


@dataclass(frozen=True, slots=True)
class BinFile:
    """A DLL in an application's ``bin`` folder: no configuration entry names it, the CLR probes ``bin`` (facts D5).

    Attributes:
        folder: the ``bin`` folder as the user names it.
        copies: for a native DLL, the copies of the same name in the package layouts below ``bin``
            (``x86\\``, ``x64\\``, ``runtimes\\win-<arch>\\native\\``) that its managed wrapper may pick instead.
        callers: for a native DLL, the ``bin`` assemblies whose ``[DllImport]`` names it (ModuleRef/ImplMap,
            ECMA-335 II.22.31, II.22.22; the name with or without ``.dll``, case-insensitive) and the ``bin``
            native DLLs that import it: platform invoke loads it on the first call, and a DLL nothing names
            loads only if code loads it by name.
            None when not known (an assembly's metadata could not be read, or not looked for).
        reference: an assembly that carries ``ReferenceAssemblyAttribute`` (metadata only: a compiler's ``obj\\ref``
            output, a NuGet ``ref\\`` folder's): the CLR refuses to load it for execution in any process, whatever its
            header's architecture (COR_E_LOADING_REFERENCE_ASSEMBLY 0x80131058, a BadImageFormatException; facts I9,
            "BadImageFormatException Class"). Looked for in the workers' ``bin`` only (not IIS Manager's).
    """

    folder: str
    copies: tuple[NativeCopy, ...] = ()
    callers: tuple[str, ...] | None = None
    reference: bool = False

    def fitting_copy(self, arch: Arch) -> NativeCopy | None:
        """The first of :attr:`copies` that a process of ``arch`` can load (dependencies included), or None: the
        copy the package's managed wrapper picks instead of the DLL in ``bin`` itself."""
        return next((c for c in self.copies if (a := c.binary.arches) is not None and arch in a
                     and not c.binary.chain), None)


class DeploymentMode(str, Enum):
    """How an in-process ASP.NET Core app brings its runtime: a self-contained deployment or a
    framework-dependent one (".NET application publishing overview"; facts D6)."""

    SELF_CONTAINED = "self-contained"
    FRAMEWORK_DEPENDENT = "framework-dependent"


@dataclass(frozen=True, slots=True)
class RuntimeCheck:
    """Whether the ``dotnet`` install a framework-dependent app needs is there for the worker.

    Attributes:
        dotnet_root: the worker's ``%ProgramFiles%\\dotnet`` (Windows path).
        status: ``ok``, ``no-dotnet`` (no install at all) or ``no-version`` (no satisfying version).
        installed: the versions found, e.g. ``Microsoft.AspNetCore.App 6.0.1, 8.0.0``.
        runtimeconfig: the ``<app>.runtimeconfig.json`` read, as the user names it ("" if none).
        requires: ``(framework, version)`` pairs it asks for.
        roll_forward: its ``rollForward`` policy.
        fits_at: worker architectures whose install satisfies the app.
        dotnet_anywhere: a ``dotnet`` install exists for at least one worker architecture.
        unread: why :attr:`dotnet_root` could not be looked at, where the image does not hold the drive it is on (an
            IIS Express scan without the developer machine's ``--drive C=``: ``drive C: is not mapped (use --drive
            C=/path/to/copy)``); "" when it was looked at (found, or absent from a drive the image holds). Then
            :attr:`status` ``no-dotnet`` says nothing of the machine: the runtime was not checked
            (:attr:`Unchecked.RUNTIME`), no finding asserts its absence.
    """

    dotnet_root: str
    status: str
    installed: str
    runtimeconfig: str
    requires: tuple[tuple[str, str], ...]
    roll_forward: str
    fits_at: frozenset[Arch]
    dotnet_anywhere: bool
    unread: str = ""


APP_ASSEMBLY = "app assembly"
"""The :attr:`AspNetCoreHost.role` of an in-process app's own ``<app>.dll``, which its runtime loads at start."""

APP_DEPENDENCY = "app dependency"
"""The :attr:`AspNetCoreHost.role` of a managed assembly that an in-process app's ``<app>.deps.json`` lists as a runtime
asset of a library (a package, a project or a referenced DLL): the runtime loads it into the worker on first use."""

APP_NATIVE = "app native library"
"""The :attr:`AspNetCoreHost.role` of a native DLL that an in-process app's ``<app>.deps.json`` lists as a ``native``
asset (a runtime-specific publish's, or the ``runtimeTargets`` one the host picks for the worker's runtime identifier):
the host puts its folder in NATIVE_DLL_SEARCH_DIRECTORIES and the worker loads it on the first P/Invoke into it."""


@dataclass(frozen=True, slots=True)
class AspNetCoreHost:
    """A binary that ANCM loads into the worker for an in-process app (facts D6).

    Attributes:
        config: the app's ``system.webServer/aspNetCore`` element.
        app_folder: the application's folder (Windows path).
        role: ``app host``, ``runtime``, ``in-process request handler``, ``hostfxr``, ``app assembly`` (the app's
            own ``<app>.dll``, which the runtime loads at start: 500.30 when it does not fit, not 500.32) or ``app
            dependency`` (:data:`APP_DEPENDENCY`: a runtime asset its ``<app>.deps.json`` lists, loaded on first use) or
            ``app native library`` (:data:`APP_NATIVE`: a native asset it lists, loaded on the first P/Invoke).
        deployment: self-contained or framework-dependent deployment; None for the request handler,
            which either deployment may carry.
        runtime: for a framework-dependent app, the ``dotnet`` install check.
        library: for an ``app dependency`` or ``app native library``, the deps.json library that brings it (``Contoso.Barcode/2.1.0``); else "".
        library_type: that library's ``type`` in the deps.json (``package``, ``project``, ``reference``); else "".
        rid: for an asset the host picked among the library's ``runtimeTargets``, the runtime identifier it matched
            (``win-x64``); else "".
        rid_set_in: where the configuration sets ``DOTNET_RUNTIME_ID`` when ``rid`` is its value (the host tries it
            first): "the aspNetCore element's environmentVariables (web.config:4)" or "application pool 'Core'
            environmentVariables"; else "".
    """

    config: AspNetCore
    app_folder: str
    role: str
    deployment: DeploymentMode | None = None
    runtime: RuntimeCheck | None = None
    library: str = ""
    library_type: str = ""
    rid: str = ""
    rid_set_in: str = ""


@dataclass(frozen=True, slots=True)
class ComServer:
    """An in-process COM server that a page creates (``CreateObject``), found in a registry view (facts D8, E3).

    Attributes:
        progid: the ProgID the page names. clsid: its class id.
        view: the registry view the worker reads (``64-bit`` / ``32-bit``).
        registry_key: where the ``InprocServer32`` was found.
        other_view: the view the class is registered in when it is absent from the worker's, else None.
    """

    progid: str
    clsid: str
    view: str
    registry_key: str
    other_view: str | None = None


@dataclass(frozen=True, slots=True)
class Iis6IsapiFilter:
    """An IIS 6 ISAPI filter with the level it is configured at (facts D3, G4).

    Attributes:
        filter: the metabase filter. level: ``global (/LM/W3SVC/Filters)`` or ``site NAME (/LM/W3SVC/1/Filters)``.
    """

    filter: Iis6Filter
    level: str


@dataclass(frozen=True, slots=True)
class ScriptMapGroup:
    """IIS 6 ``ScriptMaps`` entries of one process that map to the same ISAPI extension DLL (facts D4).

    Attributes:
        script_map: the first entry. extensions: every mapped extension (``.aspx``, ...).
        applications: the applications that map to it.
    """

    script_map: ScriptMap
    extensions: tuple[str, ...]
    applications: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GacAssembly:
    """A strong-named assembly the configuration names (a managed module or handler type, an httpModules /
    httpHandlers type, a compilation assembly), bound from the Global Assembly Cache; or a partial name the scan
    could not look up in ``bin`` (:attr:`bin_folder`).

    The CLR looks in the GAC first for a fully specified name, then probes the application's ``bin``
    ("How the Runtime Locates Assemblies"); in the GAC, only the folders of its own processor architecture and
    the neutral ones (:func:`iisbitness.loadplan.collectors.gac.gac_view`).

    Attributes:
        managed: the configuration entry. assembly: its assembly name.
        searched: the GAC folders the worker looks in, in order, as the user names them.
        found_in: the GAC folder that holds it (``GAC_64``, ``GAC_MSIL``, ...), or "" when none does.
        in_view: False when only another architecture's GAC folder holds it (``found_in``): the worker never
            looks there, and the application fails with FileNotFoundException "Could not load file or assembly".
        unchecked: why it was not looked up, when the image holds no GAC folder, or (a partial name, which the CLR
            looks for in ``bin`` only) no ``bin`` folder in the application's folder ("" otherwise): the image is
            incomplete, which the report's problems say once; no finding is made of it.
        bin_folder: a partial name not looked up: the Windows path of the ``bin`` folder the image lacks, which the
            coverage names as what to copy ("" otherwise).
    """

    managed: ManagedType
    assembly: AssemblyName
    searched: tuple[str, ...]
    found_in: str = ""
    in_view: bool = True
    unchecked: str = ""
    bin_folder: str = ""


Entry = (GlobalModule | IsapiFilter | Handler | BinFile | AspNetCoreHost | ComServer | Iis6IsapiFilter | ScriptMapGroup
         | GacAssembly | CompressionScheme)
"""The configuration entry (or, for bin files, the probing rule) behind a load."""


@direct_init  # NOTE: one per bin file and worker (issue 25)
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
        entry: the typed configuration entry behind the load.
    """

    process: Process
    kind: LoadKind
    name: str
    binary: BinaryRef
    source: ConfigSource
    entry: Entry
    site: str | None = None
    application: str | None = None
    precondition: Evaluation | None = None

    @property
    def fits(self) -> bool | None:
        """True/False when the binary's architecture is known (a dependency that does not fit makes
        it False); None when unknown. Always False for a COM server registered only in the other registry view
        (:attr:`ComServer.other_view`): the worker's view has no such class, whatever the DLL is (facts E3)."""
        entry = self.entry
        # NOTE: the entry's type, not self.kind is LoadKind.COM_INPROC: an enum member's look-up costs more in
        # Python 3.11, asked per load (issue 25)
        if type(entry) is ComServer and entry.other_view is not None:
            return False
        arches = self.binary.arches
        if arches is None:
            return None
        return self.process.arch in arches and not self.binary.chain

    @property
    def not_checked(self) -> bool:
        """True when the process looks for a native binary by its configured path (:data:`LOOKED_UP_KINDS`) that the
        scan could not check (:attr:`BinaryRef.not_checked`): binary-missing's could-not-check warnings, the partly
        checked coverage of the worker's applications and a fix left unverified all read this one test."""
        return self.kind in LOOKED_UP_KINDS and self.binary.not_checked


LOOKED_UP_KINDS = frozenset({LoadKind.GLOBAL_MODULE, LoadKind.ISAPI_FILTER, LoadKind.ISAPI_EXTENSION,
                             LoadKind.COM_INPROC, LoadKind.COMPRESSION_SCHEME})
"""Loads of a native binary the process looks for by the path configured or registered, which binary-missing judges
when the image lacks it (:attr:`Load.not_checked`). Not ``bin`` and GAC files (listed, never looked for by a path
that can be absent) nor ASP.NET Core's runtime (aspnetcore-runtime-missing's)."""


class Unchecked(str, Enum):
    """Why the scan could not check a binary a process loads (:meth:`LoadPlan.unchecked`)."""

    ABSENT = "absent"
    """Not in the image, and nothing says whether the server has it (:attr:`Load.not_checked`)."""
    UNREADABLE = "unreadable"
    """Not read at all (:attr:`BinaryRef.unreadable`: a drive not mapped, a share not given, outside the image, an
    unknown variable, a file that cannot be read)."""
    OS_UNDECIDED = "os-undecided"
    """An ARM64X or ARM64EC image, which loads only on Windows on Arm, on an OS architecture the scan assumed
    (:meth:`LoadPlan.os_undecided`)."""
    DEPENDENCY = "dependency"
    """Read and of the process's architecture, but a dependency its loader would load with it could not be checked
    (:meth:`LoadPlan.unchecked_dependency`: a search folder a collected zip's recorder never listed, a file it holds
    only the name of, a folder that could not be listed, a copy without the process's view of System32): its chain is
    not known to be clean."""
    INFERRED = "inferred"
    """A vendor's file not in the image, whose architecture was only inferred from its folder (:attr:`BinaryRef.
    inferred`, not read; not one of Windows' own files, :func:`iisbitness.image.stock.is_windows_own`, whose folder
    tells its build): which build a vendor's installer put in a folder is its own choice, so the architecture is a
    guess. Fix verification holds a fix back over it; coverage leaves it to the report's note on inferred files
    (:attr:`iisbitness.report.ServerSummary.inferred`)."""
    RUNTIME = "runtime"
    """The .NET install a framework-dependent in-process ASP.NET Core app needs (the worker's
    ``%ProgramFiles%\\dotnet``, whose ``hostfxr.dll`` the worker loads) was not looked at: the image does not hold the
    drive it is on (:attr:`RuntimeCheck.unread`; an IIS Express scan without the developer machine's ``--drive C=``).
    Coverage says the app partly checked; a fix that runs it at another architecture is not verified."""


class SkipReason(str, Enum):
    """Why a configured binary is never loaded by a process."""

    PRECONDITION = "precondition"
    """A preCondition token is false in this process (by design: bitness32/64 pairs, runtime versions)."""
    RESTRICTED = "restricted"
    """The ISAPI and CGI Restrictions list (IIS 7+) or WebSvcExtRestrictionList (IIS 6) does not allow
    it: requests get HTTP 404.2 (KB 943891)."""
    NO_MANAGED_CODE = "no-managed-code"
    """IIS 7+: the pool runs No Managed Code (``managedRuntimeVersion=""``): no CLR starts in its worker, so the
    application's ``bin`` is never loaded (facts A9, D5)."""
    NO_ASPNET_SCRIPT_MAP = "no-aspnet-script-map"
    """IIS 6: no script map of the application sends a request to an ``aspnet_isapi.dll`` the
    WebSvcExtRestrictionList allows (none names one, or the one named is prohibited: HTTP 404.2), so ASP.NET never
    starts for it and its ``bin`` is never loaded (facts G2, G3, D5). Not :attr:`NO_MANAGED_CODE`: IIS 6 pools have
    no ``managedRuntimeVersion``; the application's script maps decide."""
    MODULE_NOT_ENABLED = "module-not-enabled"
    """The handler mapping names a module (``IsapiModule``) that the application's ``<modules>`` list does not hold
    (a ``<clear/>`` or ``<remove>`` took it out): requests get HTTP 500.21 "Handler ... has a bad module ... in its
    module list" (IIS's error page; KB 943891: 500.21 "Module not recognized"), or 500.19 "Lock violation" for an entry applicationHost.config locks (``lockItem``), and
    the ISAPI extension is never loaded."""
    FITTING_COPY = "fitting-copy-loads"
    """An in-process ASP.NET Core app's native asset of another architecture than the worker, beside a copy of the same
    file name that fits it (a package's ``runtimes/win-x64/native`` copy and an x86 one in the app's folder): the
    runtime tries each native search folder until a load succeeds (dotnet/runtime ``NativeLibrary``
    ``LoadFromNativeDllSearchDirectories``), so the fitting copy is the load and this one, where tried, fails and is
    passed over."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A configured binary that a process never loads, and why (a preCondition is false, a restriction list
    prohibits it).

    Attributes:
        process: the process that would load it. name: the configuration entry's name.
        source: the configuration entry. reason: why it is not loaded, with the user's symptom if any.
        why: the kind of reason.
        kind: the kind of load it would have been.
        binary: the binary as the process would resolve it, where known (restricted ISAPI extensions).
        configured: the binary's path as configured, where known.
        site, application: the application it belongs to, for application-level entries (``bin``).
        undocumented_tokens: for a handler the restriction list refuses (``RESTRICTED``), the tokens of its
            preCondition whose meaning to IIS no documentation gives (:attr:`Evaluation.undocumented
            <iisbitness.config.precondition.Evaluation.undocumented>`): whether IIS maps requests to it at all, and
            so whether they get the restriction list's HTTP 404.2, is then not known. Empty otherwise.
    """

    process: Process
    name: str
    source: ConfigSource
    reason: str
    why: SkipReason = SkipReason.PRECONDITION
    kind: LoadKind | None = None
    binary: BinaryRef | None = None
    configured: str = ""
    site: str | None = None
    application: str | None = None
    undocumented_tokens: tuple[str, ...] = ()


class CoverageStatus(str, Enum):
    """How much of an application the scan read (its folders, ``bin``, web.config files)."""

    CHECKED = "checked"
    PARTLY = "partly-checked"
    NOT_CHECKED = "not-checked"


@dataclass(frozen=True, slots=True)
class Coverage:
    """What the scan could read of one application, and what to give it for the rest (issue 20).

    A finding rests on what was read; an application whose folder the image does not hold has no ``bin``,
    web.config, ASP pages or in-process ASP.NET Core files to judge, so "no finding" says nothing about it.

    Attributes:
        application: ``Site/path`` (IIS Express: the project's site application).
        pool: its application pool ("" when none).
        physical_path: the root virtual directory's ``physicalPath`` as configured.
        status: checked, partly checked or not checked.
        reasons: why not (all) of it was read, one sentence each (empty when checked).
        remedy: what to give a new scan so that it reads the rest (``--drive D=...``, the folder to copy),
            "" when checked or when nothing offline can help.
        site, path: the application's site and URL path. config: its ``<application>`` element.
        worker_binaries: the reasons (among :attr:`reasons`) that are binaries its worker loads, at the architecture
            it runs as now, that the scan could not read or check (:attr:`BinaryRef.unreadable`,
            :attr:`BinaryRef.not_checked`, an ARM64X/ARM64EC image on an assumed OS): a fix that runs the worker at
            another architecture is judged by what that worker loads then, not by these
            (:func:`iisbitness.fixes.verify.verify`).
        refused: where IIS refuses the application's configuration (``file:line`` of :attr:`Application.refused`:
            HTTP 500.19 for every request of it, so it is not checked), "" otherwise; a fix it holds back says so
            instead of what to give the scan.
    """

    application: str
    pool: str
    physical_path: str
    status: CoverageStatus
    reasons: tuple[str, ...] = ()
    remedy: str = ""
    site: str = ""
    path: str = ""
    config: ConfigSource | None = None
    worker_binaries: tuple[str, ...] = ()
    refused: str = ""


APP_LEVEL_KINDS = frozenset({LoadKind.ISAPI_EXTENSION, LoadKind.BIN_ASSEMBLY, LoadKind.ASPNETCORE, LoadKind.COM_INPROC,
                             LoadKind.GAC_ASSEMBLY})
"""Loads that break one application (not the whole pool) when they do not fit."""


@dataclass(frozen=True, slots=True)
class PoolOutlook:
    """What would fail in a pool at each architecture its worker could run as.

    Attributes:
        pool: the pool's name.
        current: the worker's architecture now.
        app_failures: per candidate architecture, the ``(application label, binary)`` pairs of
            application-level loads that would not fit.
        unread: per candidate architecture (only those with any), the ``(application label, why)`` pairs of
            applications whose ``bin`` folder the worker could not list whole (unreadable, or cut at its size
            limit): no failure there means nothing, so no fix that runs them at that architecture is verified.
    """

    pool: str
    current: Arch
    app_failures: tuple[tuple[Arch, tuple[tuple[str, str], ...]], ...]
    unread: tuple[tuple[Arch, tuple[tuple[str, str], ...]], ...] = ()

    def failures_at(self, arch: Arch) -> tuple[tuple[str, str], ...]:
        """The application-level failures at ``arch`` (empty when none or not a candidate)."""
        return next((f for a, f in self.app_failures if a is arch), ())

    def unread_at(self, arch: Arch) -> tuple[tuple[str, str], ...]:
        """``(application label, why)`` of the applications whose ``bin`` was not listed whole at ``arch``."""
        return next((u for a, u in self.unread if a is arch), ())

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
        loads: all loads, in a stable order (pool, kind, configuration order). The loads of one pool's process
            (:attr:`Process.key`: a pool's ``w3wp.exe``, a project's ``iisexpress.exe``) follow one another, as each
            builder collects them together; those of processes of no pool need not (IIS 6 in IIS 5 isolation mode:
            ``inetinfo.exe``'s filters, then ``dllhost.exe``'s extensions, then ``inetinfo.exe``'s again). Readers
            that look a process up once per run of its loads (the pipeline's per-pool index,
            :meth:`worker_of`'s index) rely on it for speed only: a process met again later is looked up again,
            not lost; the load map groups by first appearance.
        skipped: entries that a process never loads, with the reason (kept so reports can say why
            nothing was found).
        idle_pools: pools that host no application (their worker never starts).
        config_only: True when the image holds none of the configured binaries (a support
            engineer's copy of the configuration files only).
        problems: files and folders that could not be read while planning.
        outlook: per pool hosting applications, what would fail at each worker architecture.
        iis6: the IIS 6 model when the plan is of an IIS 6 server (``server`` is then its projection
            for the report); None for IIS 7+.
        iisexpress: the Visual Studio projects when the plan is of IIS Express on a developer machine
            (each project's ``iisexpress.exe`` is a process; ``server`` is its applicationhost.config).
        deps_unchecked: per binary (its host path, :attr:`PeImage.path <iisbitness.pe.types.PeImage.path>`) and
            process architecture whose dependency search found no mismatch, the first dependency it could not check
            (:attr:`PlanContext.deps_unchecked <iisbitness.loadplan.context.PlanContext.deps_unchecked>`, the planning
            context's own mapping, shared by the plans it builds); read through :meth:`unchecked_dependency`.
        on_server: the image is the server itself (:attr:`ServerImage.is_the_server
            <iisbitness.image.server_image.ServerImage.is_the_server>`: live, or a zip collected on it), so what a file
            of it holds is what the server's holds; False for a copy made by hand (or a zip made from one), where an
            empty or cut file may be the copy's fault (rules/binary_invalid.py).
    """

    server: Server
    loads: tuple[Load, ...]
    skipped: tuple[Skipped, ...] = ()
    idle_pools: tuple[str, ...] = ()
    config_only: bool = False
    problems: tuple[Problem, ...] = ()
    outlook: tuple[PoolOutlook, ...] = ()
    iis6: Iis6Server | None = None
    iisexpress: IisExpressWorkspace | None = None
    deps_unchecked: Mapping[tuple[str, Arch], Unresolved] = field(default_factory=dict, repr=False, compare=False)
    on_server: bool = False
    _derived: dict[str, object] | None = field(default=None, init=False, repr=False, compare=False)

    def os_undecided(self, binary: BinaryRef) -> bool:
        """True when whether any process of the server loads ``binary`` depends on an OS architecture the scan only
        assumed (:attr:`Server.os_arch_assumed <iisbitness.model.iis7.Server.os_arch_assumed>`): an ARM64X or
        ARM64EC image, whose code only Windows on Arm runs (:data:`iisbitness.pe.classify.ARM64_HYBRIDS`;
        learn.microsoft.com/windows/arm arm64x-pe, arm64ec). The one test binary-invalid (its could-not-check
        warning), coverage (partly checked) and the load map (unknown) read."""
        image = binary.image
        return image is not None and image.hybrid in ARM64_HYBRIDS and self.server.os_arch_assumed

    def unchecked_dependency(self, load: Load) -> Unresolved | None:
        """The first dependency of ``load``'s binary that its process's loader would load with it and the search could
        not check (:attr:`deps_unchecked`), when the search found no mismatch (:attr:`BinaryRef.chain` empty); None
        otherwise, and for a binary not read."""
        image = load.binary.image
        if not self.deps_unchecked or image is None or load.binary.chain:
            return None
        return self.deps_unchecked.get((image.path, load.process.arch))

    def derived(self, name: str, make: Callable[[LoadPlan], T]) -> T:
        """``make(self)``, computed at the first call for ``name`` and kept with the plan.

        For an index a rule asks of the whole plan once per finding (the pools a global module stops, say):
        built once per plan, a lookup per finding instead of a walk of every load (issue 25). ``name``
        must be the same only for the same ``make``.
        """
        memo = self._derived
        if memo is None:
            memo = {}
            object.__setattr__(self, "_derived", memo)
        if name not in memo:
            memo[name] = make(self)
        return cast(T, memo[name])

    def outlook_of(self, pool: str) -> PoolOutlook | None:
        """The :class:`PoolOutlook` of ``pool`` (its name in any case: IIS pool names are case-insensitive, "Application
        Pools" ``<add name>``, iis-docs configuration/system.applicationHost/applicationPools/add), or None when the
        plan has none (an idle or undefined pool, IIS 6, IIS Express). The first, where the plan lists two names
        that differ only in case (configuration IIS refuses). From an index built at the first call."""
        return self.derived("outlook-by-pool", _outlooks_by_pool).get(pool.lower())

    def inferred_paths(self) -> tuple[str, ...]:
        """The Windows paths of the binaries some process of the plan loads that the image does not hold and whose
        architecture was inferred from their folder (:attr:`BinaryRef.inferred` of a file not :attr:`BinaryRef.
        resolved`), not read: each once, in load order.
        Empty when every binary loaded was read or could not be decided (a could-not-check warning says those)."""
        seen: dict[str, str] = {}
        for load in self.loads:
            b = load.binary
            if b.image is None and b.inferred is not None and b.resolved is None:  # NOTE: a COM class in the other
                # registry view keeps its file (resolved) and an inference of the registration, not of a folder
                path = b.windows_path or b.configured
                seen.setdefault(path.lower(), path)
        return tuple(seen.values())

    def worker_of(self, pool: str, site: str | None = None) -> Process | None:
        """The process that runs ``pool``'s applications (its name in any case): the first the plan holds for it,
        from its loads, then its skipped loads, then its outlook (a worker whose every entry a preCondition keeps
        out, or that loads nothing of ours, still runs at :attr:`PoolOutlook.current`: ``w3wp.exe``). Under IIS
        Express, with ``site``, the ``iisexpress.exe`` of that site (:attr:`Process.site`: one per project, each at
        its own bitness), never another project's; without, the first of the pool's. None when the plan holds no process of the pool (an
        idle pool, one the plan left out). From an index built at the first call."""
        index = self.derived("worker-by-pool", _workers_by_pool)
        if site is not None and self.iisexpress is not None:  # NOTE: never another project's iisexpress.exe
            return index.get((pool.lower(), site.lower()))
        return index.get((pool.lower(), ""))

    def loads_of(self, *kinds: LoadKind) -> Iterator[Load]:
        """The loads of the given kinds, in plan order (one kind: from an index built at the first call).

        NOTE: built when asked, not with the plan: fix verification builds a whole plan per fix and reads
        only the loads of the pools the fix touches (issue 11).
        """
        if len(kinds) != 1:
            runs = self.derived("load-runs", _load_runs)
            loads = self.loads
            return chain.from_iterable(loads[start:stop] for start, stop in sorted(
                span for kind in set(kinds) for span in runs.get(kind, ())))
        return iter(self.derived("loads-by-kind", _loads_by_kind).get(kinds[0], ()))

    def troubled(self) -> tuple[Load, ...]:
        """The loads whose binary the scan could not check as it is, in plan order: a :attr:`BinaryRef.problem` said
        (not read, not resolved), an image that is no PE file, one :meth:`os_undecided` holds of, or a file not in the
        image that nobody checked (:attr:`Load.not_checked`). What
        binary-invalid and coverage look at (most plans have none or a few: no walk of every load for each); from
        an index built at the first call."""
        return self.derived("troubled", _troubled)

    def unchecked(self) -> tuple[tuple[Load, Unchecked], ...]:
        """Each load, in plan order, of a binary its process loads that the scan could not check, with why
        (:class:`Unchecked`, the first that holds, in its order): absent where nothing says whether the server has it
        (:attr:`Load.not_checked`), not read at all (:attr:`BinaryRef.unreadable`), an ARM64X/ARM64EC image on
        an OS architecture only assumed (:meth:`os_undecided`), read but with a dependency not checked
        (:meth:`unchecked_dependency`), a vendor's file absent from the image whose
        architecture was only inferred from its folder (:attr:`Unchecked.INFERRED`; the files of :meth:`inferred_paths`
        but Windows' own), or the .NET install of a framework-dependent in-process app on a drive the image does not
        hold (:attr:`Unchecked.RUNTIME`). Every process, a pool's worker or not (IIS Manager's
        ``inetmgr.exe``, IIS 6's ``inetinfo.exe``/``aspnet_wp.exe``). Not a strong-named assembly's GAC load (a GAC
        not read is :mod:`iisbitness.loadplan.coverage`'s own question). The one decision of "a loaded binary the
        scan did not check" that coverage (the applications it leaves partly checked) and fix verification (a fix
        whose worker then loads one is not verified) both read; from :meth:`troubled`, once per plan."""
        return self.derived("unchecked", _unchecked)


def _load_runs(plan: LoadPlan) -> dict[LoadKind, tuple[tuple[int, int], ...]]:
    """Per kind, the ``(start, stop)`` index ranges of :attr:`LoadPlan.loads` that hold its loads, in plan order (the
    loads of one kind come in runs: a ``bin`` folder's files one after another). NOTE: ``itertools.groupby`` finds
    the runs without a Python step per load (issue 25: 29,000 loads of a 10,000-assembly scan)."""
    index: dict[LoadKind, list[tuple[int, int]]] = {}
    start = 0
    for kind, run in groupby(plan.loads, _KIND_OF):
        stop = start + len(list(run))
        index.setdefault(kind, []).append((start, stop))
        start = stop
    return {k: tuple(v) for k, v in index.items()}


def _loads_by_kind(plan: LoadPlan) -> dict[LoadKind, tuple[Load, ...]]:
    """The plan's loads per kind, in plan order (the index :meth:`LoadPlan.loads_of` reads), from :func:`_load_runs`."""
    loads = plan.loads
    return {k: tuple(chain.from_iterable(loads[start:stop] for start, stop in runs))
            for k, runs in plan.derived("load-runs", _load_runs).items()}


def _troubled(plan: LoadPlan) -> tuple[Load, ...]:
    """:meth:`LoadPlan.troubled`."""
    out: list[Load] = []
    os_undecided = plan.os_undecided
    for ld in plan.loads:
        binary = ld.binary
        image = binary.image
        if binary.problem is not None or (image is not None and (
                image.kind is _NOT_PE or os_undecided(binary))) or ld.not_checked:
            out.append(ld)
    return tuple(out)


def _unchecked(plan: LoadPlan) -> tuple[tuple[Load, Unchecked], ...]:
    """:meth:`LoadPlan.unchecked`: the troubled loads and the loads of inferred vendor files, merged in plan order."""
    out: list[tuple[Load, Unchecked]] = []
    deps = plan.deps_unchecked
    troubled = {id(ld) for ld in plan.troubled()}
    vendor_of: dict[str, bool] = {}  # NOTE: a global module's file is loaded by every pool: decided once
    for ld in plan.loads:
        b = ld.binary
        if id(ld) not in troubled:
            if b.image is None and b.inferred is not None and b.resolved is None:  # NOTE: inferred_paths()'s files
                path = b.windows_path or b.configured
                vendor = vendor_of.get(path)
                if vendor is None:
                    vendor = vendor_of[path] = not is_windows_own(path, plan.server.os_arch)
                if vendor and not isinstance(ld.entry, GacAssembly):
                    out.append((ld, Unchecked.INFERRED))
            elif deps and not isinstance(ld.entry, GacAssembly) and plan.unchecked_dependency(ld) is not None:
                out.append((ld, Unchecked.DEPENDENCY))  # NOTE: read, its process's architecture: never troubled
            elif isinstance(ld.entry, AspNetCoreHost) and ld.entry.runtime is not None and ld.entry.runtime.unread:
                out.append((ld, Unchecked.RUNTIME))
            continue
        if isinstance(ld.entry, GacAssembly):
            continue
        if ld.not_checked:
            out.append((ld, Unchecked.ABSENT))
        elif b.unreadable:
            out.append((ld, Unchecked.UNREADABLE))
        elif plan.os_undecided(b):
            out.append((ld, Unchecked.OS_UNDECIDED))
        elif deps and plan.unchecked_dependency(ld) is not None:
            out.append((ld, Unchecked.DEPENDENCY))
    return tuple(out)


def _outlooks_by_pool(plan: LoadPlan) -> dict[str, PoolOutlook]:
    """The plan's outlooks by lower-case pool name, the first of each (the index :meth:`LoadPlan.outlook_of` reads)."""
    index: dict[str, PoolOutlook] = {}
    for o in plan.outlook:
        index.setdefault(o.pool.lower(), o)
    return index


def _workers_by_pool(plan: LoadPlan) -> dict[tuple[str, str], Process]:
    """The plan's processes by ``(pool, "")`` and, for those of a site (IIS Express), ``(pool, site)`` too, lower case,
    the first of each in plan order: loads, skipped loads, then outlooks (the index :meth:`LoadPlan.worker_of`
    reads). One look-up per run of a process's loads (:attr:`LoadPlan.loads`)."""
    index: dict[tuple[str, str], Process] = {}
    last: Process | None = None
    for process in chain((ld.process for ld in plan.loads), (sk.process for sk in plan.skipped)):
        if process is last or process.pool is None:
            continue
        last = process
        pool = process.pool.name.lower()
        index.setdefault((pool, ""), process)
        if process.site is not None:
            index.setdefault((pool, process.site.lower()), process)
    for o in plan.outlook:
        declared = plan.server.pool(o.pool)
        if declared is not None and (o.pool.lower(), "") not in index:
            index[o.pool.lower(), ""] = Process("w3wp.exe", o.current, declared)
    return index
