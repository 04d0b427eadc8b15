"""The IIS server model: what the configuration says, merged as IIS merges it.

Every configuration object carries a :class:`ConfigSource` (file and 1-based line) so that a
finding can point at the exact place to edit. Objects are frozen; a fix is checked by building
a changed copy with :func:`dataclasses.replace` (see :mod:`iisbitness.fixes.verify`).

Sources: IIS settings schema (lextm/iis_schema IIS_schema.xml), "Introduction to
ApplicationHost.config" and "Understanding Sites, Applications, and Virtual Directories"
(MicrosoftDocs/iis-docs).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from enum import Enum

from iisbitness.arch import Arch
from iisbitness.model.source import ConfigSource, Problem, ServerKind


class PipelineMode(str, Enum):
    """``managedPipelineMode`` of an application pool."""

    INTEGRATED = "Integrated"
    CLASSIC = "Classic"


@dataclass(frozen=True, slots=True)
class AppPool:
    """An application pool (``system.applicationHost/applicationPools/add``).

    Attributes:
        name: pool name (case-insensitive in IIS).
        enable_32bit_app_on_win64: the effective value after inheritance (facts A1/A2).
        enable_32bit_from: where that value came from: ``"pool"``, ``"applicationPoolDefaults"``
            or ``"schema default"``.
        enable_emulation_on_arm64: effective ``enableEmulationOnWinArm64`` (missing = True, A6).
        managed_runtime_version: ``"v2.0"``, ``"v4.0"``, ``"v1.1"`` or ``""`` (No Managed Code).
        pipeline_mode: Integrated or Classic.
        source: the pool's ``<add>`` element (or applicationPoolDefaults for a pool only named
            by an application).
        declared: False for a pool an application names but applicationPools does not define.
    """

    name: str
    enable_32bit_app_on_win64: bool
    enable_32bit_from: str
    enable_emulation_on_arm64: bool
    managed_runtime_version: str
    pipeline_mode: PipelineMode
    source: ConfigSource
    declared: bool = True

    def worker_arch(self, os_arch: Arch) -> Arch:
        """Architecture of this pool's w3wp.exe on an OS of ``os_arch`` (facts A4-A7).

        32-bit OS: always x86. 64-bit x64 OS: x86 when enable32BitAppOnWin64, else x64.
        ARM64 OS: x86 when enable32BitAppOnWin64; else x64 (emulated) unless
        enableEmulationOnWinArm64 is false, then native arm64.
        """
        if os_arch is Arch.X86 or self.enable_32bit_app_on_win64:
            return Arch.X86
        if os_arch is Arch.ARM64 and not self.enable_emulation_on_arm64:
            return Arch.ARM64
        return Arch.X64


@dataclass(frozen=True, slots=True)
class GlobalModule:
    """A native module in ``system.webServer/globalModules`` (loaded by every worker at start)."""

    name: str
    image: str
    precondition: str
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class IsapiFilter:
    """An ISAPI filter (``system.webServer/isapiFilters/filter``), server-level or site-level."""

    name: str
    path: str
    precondition: str
    source: ConfigSource
    site: str | None = None
    """The site it is declared for (a ``<location path="Site">`` or the site's web.config), None at server level."""


@dataclass(frozen=True, slots=True)
class Handler:
    """A handler mapping (``system.webServer/handlers/add``).

    ``modules`` names the module that serves it: ``IsapiModule`` (an ISAPI extension in
    ``script_processor``), ``FastCgiModule``, ``CgiModule``, a managed ``type``, etc.
    """

    name: str
    path: str
    verb: str
    modules: str
    script_processor: str
    type: str
    precondition: str
    source: ConfigSource

    @property
    def module_names(self) -> tuple[str, ...]:
        """The ``modules`` attribute split on commas, lowercased."""
        return tuple(m.strip().lower() for m in self.modules.split(",") if m.strip())

    @property
    def is_isapi_extension(self) -> bool:
        """True when IsapiModule loads ``script_processor`` into the worker (facts D4)."""
        return "isapimodule" in self.module_names and bool(self.script_processor.strip())

    @property
    def runs_out_of_process(self) -> bool:
        """True for FastCGI and CGI: the program runs in its own process (facts D7)."""
        return any(m in ("fastcgimodule", "cgimodule") for m in self.module_names)


@dataclass(frozen=True, slots=True)
class AspNetCore:
    """The ``system.webServer/aspNetCore`` element of an application (ASP.NET Core Module)."""

    process_path: str
    hosting_model: str
    arguments: str
    source: ConfigSource
    inherited: bool = False
    """Declared above the application (a parent application's web.config, a ``<location>`` for its path):
    ANCM then serves this application only if the ASP.NET Core handler is still mapped in it; Microsoft's
    "sub-applications" guidance removes it (``<remove name="aspNetCore" />``) for a non-Core child."""

    @property
    def in_process(self) -> bool:
        """True for ``hostingModel="inprocess"`` (case-insensitive); V2 default is out-of-process."""
        return self.hosting_model.strip().lower() == "inprocess"


@dataclass(frozen=True, slots=True)
class VirtualDirectory:
    """A virtual directory: URL ``path`` (relative to its application) to ``physical_path``.

    ``allow_sub_dir_config`` is ``allowSubDirConfig`` (from the element, else ``virtualDirectoryDefaults``
    of the site, then of ``sites``; default true): when false, IIS reads no web.config below the
    virtual directory's own folder ("Virtual Directory Defaults", iis-docs configuration reference).
    """

    path: str
    physical_path: str
    source: ConfigSource
    allow_sub_dir_config: bool = True


@dataclass(frozen=True, slots=True)
class WebConfigEffect:
    """What the merged configuration gives one application (or a URL below it).

    Attributes:
        config_path: the IIS config path, e.g. ``MACHINE/WEBROOT/APPHOST/Site/app``.
        handlers: effective handler mappings, in match order.
        filters: effective ISAPI filters for the site.
        aspnetcore: the effective aspNetCore element, if any.
        web_configs: the web.config files that took part, as ConfigSource files.
    """

    config_path: str
    handlers: tuple[Handler, ...]
    filters: tuple[IsapiFilter, ...]
    aspnetcore: AspNetCore | None
    web_configs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Application:
    """An application of a site.

    Attributes:
        site: the site's name.
        path: the application's URL path (``/`` for the root application).
        pool: the application pool name it runs in.
        vdirs: its virtual directories; the one with path ``/`` is the root.
        effects: merged configuration at the application root first, then at URLs below it
            that carry their own configuration.
    """

    site: str
    path: str
    pool: str
    vdirs: tuple[VirtualDirectory, ...]
    source: ConfigSource
    effects: tuple[WebConfigEffect, ...] = ()

    @property
    def root_vdir(self) -> VirtualDirectory | None:
        """The virtual directory whose path is ``/``, or None."""
        return next((v for v in self.vdirs if v.path == "/"), None)

    @property
    def label(self) -> str:
        """``Site/app`` as appcmd names an application (``Site/`` for the root)."""
        return f"{self.site}{self.path}"


@dataclass(frozen=True, slots=True)
class Site:
    """A site: name, id, and its applications."""

    name: str
    id: str
    applications: tuple[Application, ...]
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class RestrictionEntry:
    """One ``system.webServer/security/isapiCgiRestriction/add``: an ISAPI DLL or CGI program allowed or not."""

    path: str
    allowed: bool
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class IsapiCgiRestriction:
    """The ISAPI and CGI Restrictions list (``system.webServer/security/isapiCgiRestriction``).

    IIS refuses a request mapped to an ISAPI extension the list does not allow with HTTP 404.2
    ("ISAPI or CGI restriction", KB 943891); the DLL is never loaded. Paths are compared after
    environment expansion, case-insensitively.

    Attributes:
        entries: the list, in order. not_listed_isapis_allowed: ``notListedIsapisAllowed`` (default false).
        source: the section element.
    """

    entries: tuple[RestrictionEntry, ...]
    not_listed_isapis_allowed: bool
    source: ConfigSource

    def verdict(self, expanded_path: str, expand: Callable[[str], str]) -> tuple[bool, RestrictionEntry | None]:
        """``(allowed, the entry that decided or None when not listed)`` for an expanded, normalised path."""
        low = expanded_path.lower()
        for e in self.entries:
            if expand(e.path).lower() == low:
                return e.allowed, e
        return self.not_listed_isapis_allowed, None


@dataclass(frozen=True, slots=True)
class Server:
    """An IIS 7+ server as its configuration describes it.

    Attributes:
        os_arch: the OS architecture (x64 unless stated or seen otherwise).
        os_arch_from: how os_arch was decided (option, image folders, assumed).
        config_file: the applicationHost.config read, as a ConfigSource file.
        pools: application pools, declared ones first.
        sites: sites with their applications and merged configuration.
        global_modules: effective globalModules list.
        problems: what could not be read, with file and line.
        isapi_cgi_restriction: the ISAPI and CGI Restrictions list, or None when not configured (all allowed).
    """

    os_arch: Arch
    os_arch_from: str
    config_file: str
    pools: tuple[AppPool, ...]
    sites: tuple[Site, ...]
    global_modules: tuple[GlobalModule, ...]
    problems: tuple[Problem, ...] = field(default=())
    kind: ServerKind = ServerKind.IIS7
    isapi_cgi_restriction: IsapiCgiRestriction | None = None
    _apps_by_pool: dict[str, tuple[Application, ...]] | None = field(default=None, init=False, repr=False,
                                                                       compare=False)
    _pool_at: dict[str, list[int]] | None = field(default=None, init=False, repr=False, compare=False)

    def _apps_index(self) -> dict[str, tuple[Application, ...]]:
        # NOTE: planning asks for every pool's applications, and fix verification re-plans once per fix:
        # an index built once per server copy, when first asked, not a walk of every site per pool (issue 11);
        # a copy that keeps the sites keeps the index (with_pool: one copy per verified pool fix, issue 25)
        index = self._apps_by_pool
        if index is None:
            lists: dict[str, list[Application]] = {}
            for s in self.sites:
                for a in s.applications:
                    lists.setdefault(a.pool.lower(), []).append(a)
            index = {k: tuple(v) for k, v in lists.items()}
            object.__setattr__(self, "_apps_by_pool", index)
        return index

    def _pool_positions(self) -> dict[str, list[int]]:
        at = self._pool_at
        if at is None:
            at = {}
            for i, p in enumerate(self.pools):
                at.setdefault(p.name.lower(), []).append(i)
            object.__setattr__(self, "_pool_at", at)
        return at

    def pool(self, name: str) -> AppPool | None:
        """The pool called ``name`` (case-insensitive; the first of that name), or None."""
        at = self._pool_positions().get(name.lower())
        return self.pools[at[0]] if at else None

    def pools_named(self, names: Collection[str]) -> tuple[AppPool, ...]:
        """The pools whose lower-case names are in ``names``, in configuration order (a lookup per name)."""
        at = self._pool_positions()
        return tuple(self.pools[i] for i in sorted(i for n in names for i in at.get(n, ())))

    def applications_in(self, pool: AppPool) -> tuple[Application, ...]:
        """Every application whose pool is ``pool``."""
        return self._apps_index().get(pool.name.lower(), ())

    def with_pool(self, pool: AppPool) -> Server:
        """A copy with the pool of the same name replaced (in its place; several of that name: all removed and it
        added last) or added last - for fix verification."""
        from dataclasses import replace

        at = self._pool_positions().get(pool.name.lower(), [])
        if len(at) == 1:  # NOTE: in its place, so the copy shares the name index (issue 25)
            copy = replace(self, pools=self.pools[:at[0]] + (pool,) + self.pools[at[0] + 1:])
            object.__setattr__(copy, "_pool_at", self._pool_at)
        else:
            pools = self.pools
            for i in reversed(at):
                pools = pools[:i] + pools[i + 1:]
            copy = replace(self, pools=pools + (pool,))
        object.__setattr__(copy, "_apps_by_pool", self._apps_by_pool)
        return copy
