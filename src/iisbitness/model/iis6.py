"""The IIS 6 server model: what MetaBase.xml says, with properties inherited down the key path.

IIS 6 differs from IIS 7+ in the two ways that matter for bitness (facts G4, G5):

- ``Enable32BitAppOnWin64`` is **server-wide** (``/LM/W3SVC/AppPools``, or ``/LM/W3SVC``): every
  w3wp.exe is 32-bit or every one is 64-bit; the two never run side by side.
- In IIS 5 isolation mode (``IIs5IsolationModeEnabled``) there is no w3wp.exe: filters and
  in-process ISAPI applications load into inetinfo.exe, which is always native (64-bit on x64).

Objects are frozen; a fix is checked on a changed copy (:mod:`iisbitness.model.edits`).
Sources: facts G1-G7 (IIS 6 metabase reference, KB 895976, "Running 32-bit Applications on 64-bit Windows").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from iisbitness.arch import Arch
from iisbitness.model.source import ConfigSource, Problem


@dataclass(frozen=True, slots=True)
class MetabaseKey:
    """One metabase key (an element of ``MBProperty``).

    Attributes:
        location: the key path as written, e.g. ``/LM/W3SVC/1/ROOT``.
        key_type: the element name (``IIsWebVirtualDir``, ``IIsFilter``, ...).
        props: properties as ``(name, value)`` pairs; names are case-sensitive.
        source: the element's file and line.
    """

    location: str
    key_type: str
    props: tuple[tuple[str, str], ...]
    source: ConfigSource

    def get(self, name: str) -> str | None:
        """The property ``name`` (exact, case-sensitive) set on this key, or None."""
        return next((v for k, v in self.props if k == name), None)


@dataclass(frozen=True, slots=True)
class ScriptMap:
    """One ``ScriptMaps`` entry: ``Extension,ScriptProcessor,Flags,IncludedVerbs`` (facts G2).

    Attributes:
        source: the key that sets the ``ScriptMaps`` the entry was inherited from.
        defined_at: that key's location.
    """

    extension: str
    processor: str
    flags: int
    verbs: str
    source: ConfigSource
    defined_at: str

    @property
    def is_isapi(self) -> bool:
        """True when the processor is a DLL (an ISAPI extension loaded in-process); else CGI."""
        return self.processor.strip().strip('"').lower().endswith(".dll")


@dataclass(frozen=True, slots=True)
class WebSvcExt:
    """One ``WebSvcExtRestrictionList`` entry (facts G3): ``allowed`` for AllowDenyFlag 1."""

    allowed: bool
    path: str
    group: str
    description: str


@dataclass(frozen=True, slots=True)
class Iis6Filter:
    """An ISAPI filter key (``IIsFilter``) named by a ``FilterLoadOrder``.

    Attributes:
        name: the filter key's name.
        path: ``FilterPath``.
        site_id: None for a global filter (``/LM/W3SVC/Filters``), else the site id.
        order: position in ``FilterLoadOrder``.
        source: the ``IIsFilter`` key (or the ``FilterLoadOrder`` key when the filter key is missing).
        location: the filter key's location.
    """

    name: str
    path: str
    site_id: str | None
    order: int
    source: ConfigSource
    location: str


@dataclass(frozen=True, slots=True)
class Iis6App:
    """A unit of URL space with its effective properties: an application (``AppRoot``) or a
    directory that sets its own ``ScriptMaps``.

    Attributes:
        site_id, site_name: the site (``ServerComment`` is the name).
        path: URL path below the site, ``/`` for ROOT.
        location: the key path.
        pool: effective ``AppPoolId``.
        isolated: effective ``AppIsolated`` (0 in-process, 1 isolated, 2 pooled) - IIS 5 mode only.
        physical_path: the effective physical folder (``Path``), or ``""``.
        script_maps: effective ``ScriptMaps``.
        is_application: True for keys that carry ``AppRoot``.
    """

    site_id: str
    site_name: str
    path: str
    location: str
    pool: str
    isolated: int
    physical_path: str
    script_maps: tuple[ScriptMap, ...]
    source: ConfigSource
    is_application: bool = True

    @property
    def label(self) -> str:
        """``Site/path``."""
        return f"{self.site_name}{self.path}"


@dataclass(frozen=True, slots=True)
class Iis6Pool:
    """An ``IIsApplicationPool`` key, or a pool only named by an ``AppPoolId``."""

    name: str
    source: ConfigSource
    declared: bool = True


@dataclass(frozen=True, slots=True)
class Iis6Site:
    """An ``IIsWebServer`` key: id, ``ServerComment``, and its filter keys."""

    id: str
    name: str
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class Iis6Server:
    """An IIS 6 server as its metabase describes it.

    Attributes:
        os_arch, os_arch_from: the OS architecture and how it was decided.
        config_file: the MetaBase.xml read, as the user names it.
        enable_32bit_app_on_win64: effective ``Enable32BitAppOnWin64`` (server-wide).
        enable_32bit_from: the key location it came from, or ``"schema default"``.
        enable_32bit_source: that key's element (None for the default).
        iis5_isolation_mode_enabled: ``IIs5IsolationModeEnabled``: True/False, or None when not set (unknown).
        iis5_isolation_mode_source: the ``/LM/W3SVC`` key (where it is, or would be, set).
        pools, sites, apps: what the metabase defines.
        global_filters, site_filters: filters in ``FilterLoadOrder`` order.
        restrictions: ``WebSvcExtRestrictionList`` entries; empty when the list is not set.
        problems: what could not be read, with file and line.
    """

    os_arch: Arch
    os_arch_from: str
    config_file: str
    enable_32bit_app_on_win64: bool
    enable_32bit_from: str
    enable_32bit_source: ConfigSource | None
    iis5_isolation_mode_enabled: bool | None
    iis5_isolation_mode_source: ConfigSource
    pools: tuple[Iis6Pool, ...]
    sites: tuple[Iis6Site, ...]
    apps: tuple[Iis6App, ...]
    global_filters: tuple[Iis6Filter, ...]
    site_filters: tuple[Iis6Filter, ...]
    restrictions: tuple[WebSvcExt, ...] = ()
    problems: tuple[Problem, ...] = field(default=())

    @property
    def os_arch_assumed(self) -> bool:
        """True when :attr:`os_arch` is the default assumption (as :attr:`Server.os_arch_assumed
        <iisbitness.model.iis7.Server.os_arch_assumed>`), not a fact of the server."""
        return self.os_arch_from.startswith("assumed")

    @property
    def worker_arch(self) -> Arch:
        """Architecture of every w3wp.exe (facts G4; a 32-bit OS has only 32-bit workers, A5)."""
        if self.os_arch is Arch.X86 or self.enable_32bit_app_on_win64:
            return Arch.X86
        return self.os_arch

    @property
    def iis5_mode(self) -> bool:
        """True only when IIS 5 isolation mode is known to be on (missing = unknown = assumed off)."""
        return self.iis5_isolation_mode_enabled is True

    def site_name(self, site_id: str) -> str:
        """The site's ``ServerComment`` (or ``W3SVC/<id>``)."""
        return next((s.name for s in self.sites if s.id == site_id), f"W3SVC/{site_id}")

    def apps_in(self, pool: str) -> tuple[Iis6App, ...]:
        """Applications whose effective ``AppPoolId`` is ``pool`` (case-insensitive)."""
        low = pool.lower()
        return tuple(a for a in self.apps if a.pool.lower() == low)

    def filters_for(self, site_id: str) -> tuple[Iis6Filter, ...]:
        """Global filters, then the site's own, in load order."""
        return self.global_filters + tuple(f for f in self.site_filters if f.site_id == site_id)

    def restriction_for(self, path: str) -> bool | None:
        """Whether ``WebSvcExtRestrictionList`` allows the ISAPI/CGI ``path``: its own entry, else
        the ``*.dll``/``*.exe`` entry; None when the list is not set (facts G3)."""
        if not self.restrictions:
            return None
        low = path.strip().strip('"').lower()
        for r in self.restrictions:
            if r.path.strip().lower() == low:
                return r.allowed
        wildcard = "*.dll" if low.endswith(".dll") else "*.exe"
        return next((r.allowed for r in self.restrictions if r.path.strip().lower() == wildcard), None)

    def with_changes(self, **changes: object) -> Iis6Server:
        """A changed copy (fix verification)."""
        return replace(self, **changes)  # type: ignore[arg-type]
