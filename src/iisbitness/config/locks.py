"""Section locking: which configuration sections a web.config may set at which path.

IIS decides per section and path (iis-docs "How to Use Locking in IIS Configuration",
"Configuration Sections <section>"; the legacy ``allowOverride`` attribute maps to Allow/Deny):

- a ``<location path="P" overrideMode="Allow|Deny">`` in applicationHost.config sets the lock state
  of the sections it contains for P and below; the most specific such location wins;
- otherwise the section's ``overrideModeDefault`` in ``<configSections>`` applies (Allow when unset).

A web.config that sets a locked section gets HTTP 500.19 ("This configuration section cannot be used
at this path. This happens when the section is locked at a parent level", 0x80070021).

Apart from locking, a section declared ``allowDefinition="AppHostOnly"`` "can be defined only in
ApplicationHost.config" (iis-docs "ConfigurationSection.GetAllowDefinition Method"): no ``overrideMode`` lets a
web.config set it, and IIS refuses the web.config that does (HTTP 500.19, KB 942055). :meth:`SectionLocks.apphost_only`
says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from iisbitness.config.merge import split_location_path
from iisbitness.config.xml import attr, children, line_of, local_name
from iisbitness.config.xml import parse_bool as _bool


@dataclass(frozen=True, slots=True)
class _LocationLock:
    segments: tuple[str, ...]
    deny: bool
    sections: frozenset[str]
    where: str
    inherit: bool = True
    """False for a ``<location inheritInChildApplications="false">``: :meth:`SectionLocks.locked` says that the lock
    is taken to bind the child applications below it, which no Microsoft page says."""


@dataclass(frozen=True, slots=True)
class SectionLocks:
    """The lock rules of one applicationHost.config.

    Attributes:
        defaults: section path (``system.webServer/handlers``) -> ``(deny, where)`` from configSections.
        locations: ``<location>`` elements that carry ``overrideMode`` / ``allowOverride``.
    """

    defaults: dict[str, tuple[bool, str]]
    locations: tuple[_LocationLock, ...]
    declared_apphost_only: dict[str, str] = field(default_factory=dict)
    """section path -> where configSections declares it ``allowDefinition="AppHostOnly"``."""
    groups: frozenset[str] = frozenset()
    """The section groups configSections declares, by path (``system.webServer/security/authentication``): an element
    of that path holds sections, not settings (:meth:`sections_below`)."""

    @classmethod
    def read(cls, root: etree._Element, file: str) -> SectionLocks:
        """Read ``<configSections>`` and the locking ``<location>`` elements of applicationHost.config."""
        defaults: dict[str, tuple[bool, str]] = {}
        apphost_only: dict[str, str] = {}
        groups: set[str] = set()

        def walk(group: etree._Element, prefix: str) -> None:
            for el in children(group):
                name = local_name(el)
                if name == "sectionGroup":
                    groups.add(f"{prefix}{attr(el, 'name')}")
                    walk(el, f"{prefix}{attr(el, 'name')}/")
                elif name == "section":
                    mode = attr(el, "overrideModeDefault").strip().lower()
                    defaults[f"{prefix}{attr(el, 'name')}"] = (
                        mode == "deny", f"overrideModeDefault=\"Deny\" at {file}:{line_of(el)}")
                    if attr(el, "allowDefinition").strip().lower() == "apphostonly":
                        apphost_only[f"{prefix}{attr(el, 'name')}"] = f"declared so at {file}:{line_of(el)}"

        for sections in children(root, "configSections"):
            walk(sections, "")
        locations: list[_LocationLock] = []
        for loc in children(root, "location"):
            mode = attr(loc, "overrideMode").strip().lower()
            legacy = _bool(loc.get("allowOverride"))
            if mode not in ("allow", "deny"):
                if legacy is None:
                    continue
                mode = "allow" if legacy else "deny"
            # NOTE: through the declared groups, so that <security><authentication><windowsAuthentication> unlocks
            # the section it is, not a "security/authentication" no lock names
            contained = frozenset(name for group in children(loc) for path, el in section_elements(group)
                                  for name, _ in _below(frozenset(groups), f"{local_name(group)}/{path}", el))
            where = f"<location path=\"{attr(loc, 'path')}\" overrideMode=\"{mode.title()}\"> at {file}:{line_of(loc)}"
            locations.append(_LocationLock(split_location_path(attr(loc, "path")), mode == "deny", contained, where,
                                           _bool(loc.get("inheritInChildApplications")) is not False))
        return cls(defaults, tuple(locations), apphost_only, frozenset(groups))

    def sections_below(self, name: str, el: etree._Element) -> list[tuple[str, etree._Element]]:
        """The sections the element ``el`` (at section path ``name``, ``system.webServer/security/authentication``)
        sets, each with its path, in document order: ``el`` itself, or, where configSections declares ``name`` a
        section group (:attr:`groups`), the sections of its children, at any depth
        (``system.webServer/security/authentication/windowsAuthentication``). Where locks apply
        (:meth:`locked`)."""
        return _below(self.groups, name, el)

    def locked(self, section: str, segments: tuple[str, ...]) -> str | None:
        """Why ``section`` is locked at config path ``segments`` (the rule that locks it), or None when a
        web.config may set it there. A ``<location inheritInChildApplications="false" overrideMode="Deny">`` is taken
        to lock its sections below its path in child applications too (no Microsoft page says whether it does):
        the reason then ends with :data:`INHERIT_ASSUMED`. A section this file's ``<configSections>`` does not declare (a configuration
        copied without its head, check-app's synthetic pool) is locked as in a stock IIS applicationHost.config
        (:data:`STOCK_DENY`: :data:`STOCK_DENY_WHERE` says so)."""
        best: _LocationLock | None = None
        for loc in self.locations:
            if section in loc.sections and loc.segments == segments[: len(loc.segments)] and (
                    best is None or len(loc.segments) >= len(best.segments)):
                best = loc
        if best is not None and best.deny and not best.inherit and len(segments) > len(best.segments):
            return best.where + INHERIT_ASSUMED
        if best is not None:
            return best.where if best.deny else None
        deny, where = self.defaults.get(section, (section in STOCK_DENY, STOCK_DENY_WHERE))
        return where if deny else None


    def apphost_only(self, section: str) -> str | None:
        """Where ``section`` (``system.webServer/globalModules``) is declared ``allowDefinition="AppHostOnly"``, so
        that IIS refuses a web.config setting it: this file's ``<configSections>``, else, for a file without them
        (a configuration copied without its head, check-app's synthetic pool), the declarations every IIS 7+
        applicationHost.config carries (:data:`APPHOST_ONLY`); None when a web.config may set it."""
        if section in self.declared_apphost_only:
            return self.declared_apphost_only[section]
        if section in APPHOST_ONLY or section.startswith("system.applicationHost/"):
            return "as in every IIS applicationHost.config"
        return None


APPHOST_ONLY = frozenset({"system.webServer/globalModules", "system.webServer/fastCgi",
                          "system.webServer/security/isapiCgiRestriction"})
"""The ``system.webServer`` sections the scan reads that IIS declares ``allowDefinition="AppHostOnly"`` (a real
IIS 8.5 applicationHost.config's ``<configSections>``, c1982/IIS-SharedGitConfig: facts B8, which also has every
``system.applicationHost`` section so)."""

INHERIT_ASSUMED = ('; that location says inheritInChildApplications="false": where the folder of this '
                   "web.config is in a child application below it, that the lock still binds it is ASSUMED (no Microsoft page says)")
"""What a lock of a ``<location inheritInChildApplications="false">`` says below its path (:meth:`SectionLocks.locked`):
the iis-docs locking walkthrough says a lock "takes effect from that level downwards", and the .NET ``<location>``
reference says such settings are not "inherited by applications that exist in subdirectories"; neither says which
wins."""

STOCK_DENY = frozenset({"system.webServer/isapiFilters"})
"""The ``system.webServer`` sections the scan reads that a stock IIS applicationHost.config locks
(``overrideModeDefault="Deny"``, facts B8; its ``<location path="" overrideMode="Allow">`` unlocks only ``handlers``
and ``modules``; 42 of the 43 real applicationHost.config files of the corpus declare ``isapiFilters`` so): a
web.config setting one gets HTTP 500.19 (0x80070021) where the server has not unlocked it."""
STOCK_DENY_WHERE = 'overrideModeDefault="Deny" as in a stock IIS applicationHost.config (this one does not declare it)'
"""Why :meth:`SectionLocks.locked` holds a section of :data:`STOCK_DENY` the file does not declare locked."""


def _below(groups: frozenset[str], name: str, el: etree._Element) -> list[tuple[str, etree._Element]]:
    """:meth:`SectionLocks.sections_below` for the declared section ``groups``."""
    if name not in groups:
        return [(name, el)]
    return [found for child in children(el) for found in _below(groups, f"{name}/{local_name(child)}", child)]


def section_elements(group: etree._Element) -> list[tuple[str, etree._Element]]:
    """The section elements below a section group element (``system.webServer``, ``system.applicationHost``), in
    document order, each with its path below the group: one level (``handlers``), two below ``security``
    (``security/isapiCgiRestriction``; an empty ``<security/>`` is ``security``). The one walk of a configuration
    file's sections: the sections an applicationHost.config ``<location>`` locks (:meth:`SectionLocks.read`) and those
    of a web.config IIS allows only in applicationHost.config (:mod:`iisbitness.config.apphost`)."""
    out: list[tuple[str, etree._Element]] = []
    for el in children(group):
        nested = children(el)
        if local_name(el) == "security" and nested:
            out.extend((f"security/{local_name(n)}", n) for n in nested)
        else:
            out.append((local_name(el), el))
    return out
