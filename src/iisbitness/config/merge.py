"""IIS 7+ configuration merging: which section elements apply at a config path, and how
collections combine.

Model (facts B3-B7; "Deep Dive into IIS Configuration with IIS 7 and IIS 8", iis-docs):
- applicationHost.config holds top-level sections (config path ``MACHINE/WEBROOT/APPHOST``) and
  ``<location path="Site[/app[/dir]]">`` sections; ``path=""`` or ``"."`` is the file's own level.
- a web.config applies at the URL of its folder; its own ``<location path="sub">`` applies below, child
  applications included (config paths follow URLs), unless the location says
  ``inheritInChildApplications="false"`` (:attr:`Contribution.inherit`).
- at one config path, applicationHost.config's location is applied before the web.config.
- a section element with ``configSource="file"`` is kept in that file (relative to the configuration file's
  folder; its root element is the section): it contributes from there, at the same path and order. This is
  .NET configuration's rule (SectionInformation.ConfigSource); that IIS applies it to its own sections is
  UNSOURCED, and in applicationHost.config doubtful (see ``config.apphost._Reader.section_file``).
- collections: ``<clear/>`` drops everything inherited, ``<remove key>`` one entry, ``<add>``
  appends, except ``handlers`` whose lower-level entries go first (``mergeAppend="false"``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from lxml import etree

from iisbitness.config.xml import attr, children, line_of, local_name, parse_bool
from iisbitness.model.source import ConfigSource


@dataclass(frozen=True, slots=True)
class Contribution:
    """One section element that applies at config path ``segments``.

    Attributes:
        segments: lower-cased config path below APPHOST, e.g. ``("default web site", "app")``.
        file_depth: 0 for applicationHost.config, else the number of URL segments of the
            web.config's folder plus one (so a web.config applies after applicationHost's
            location at the same path).
        order: document order within the file, for stable merging.
        element: the ``<system.webServer>`` (or ``<system.applicationHost>``) element.
        file: the file as the user names it.
        inherit: False under ``<location inheritInChildApplications="false">``: the settings stop at
            the application that owns ``segments`` and do not reach its child applications.
    """

    segments: tuple[str, ...]
    file_depth: int
    order: int
    element: etree._Element
    file: str
    inherit: bool = True


def split_location_path(path: str) -> tuple[str, ...]:
    """``"Default Web Site/app/"`` -> ``("default web site", "app")``; ``""``/``"."`` -> ``()``."""
    p = path.strip().replace("\\", "/").strip("/")
    if p in ("", "."):
        return ()
    return tuple(s.lower() for s in p.split("/") if s and s != ".")


SectionFile = Callable[[etree._Element], "tuple[etree._Element, str] | None"]
"""Reads the file a section element's ``configSource`` names: its root element (the section) and the file as the
user names it, or None when it cannot be read (the reader records why)."""


def contributions(root: etree._Element, file: str, base: tuple[str, ...], file_depth: int,
                  group: str, start_order: int = 0, section_file: SectionFile | None = None) -> list[Contribution]:
    """Every ``<group>`` section group of a config file, with the config path it applies at.

    Args:
        root: the ``<configuration>`` element.
        file: the file as the user names it.
        base: the config path of the file's own level (``()`` for applicationHost.config).
        file_depth: see :class:`Contribution`.
        group: section group name, e.g. ``"system.webServer"``.
        section_file: reads a section kept in another file (``configSource``); each one read is one more
            contribution right after its group's, a ``<group>`` of its own holding the file's root, named by that
            file (so entries name their own file and line). None: such sections stay empty.
    """
    out: list[Contribution] = []
    order = start_order

    def add(segments: tuple[str, ...], g: etree._Element, inherit: bool) -> None:
        out.append(Contribution(segments, file_depth, order, g, file, inherit))
        if section_file is None:
            return
        # NOTE: the group's sections and system.webServer/security's (isapiCgiRestriction), what the readers use;
        # not a module's own sub-elements (<rewrite><rules configSource=...>: URL Rewrite's rules load nothing)
        sections = [*children(g), *(s for sub in children(g, "security") for s in children(sub))]
        for el in sections:
            if el.get("configSource") is None:
                continue
            read = section_file(el)
            if read is None:
                continue
            section, shown = read
            holder = etree.Element(g.tag)
            parent = holder
            for anc in reversed(list(el.iterancestors())[:-len(list(g.iterancestors())) - 1]):
                parent = etree.SubElement(parent, anc.tag)
            parent.append(section)
            out.append(Contribution(segments, file_depth, order, holder, shown, inherit))

    for el in children(root):
        name = local_name(el)
        if name == group:
            add(base, el, True)
        elif name == "location":
            sub = split_location_path(attr(el, "path"))
            inherit = parse_bool(el.get("inheritInChildApplications")) is not False
            for g in children(el, group):
                add(base + sub, g, inherit)
        order += 1
    return out


def applicable(contribs: Iterable[Contribution], target: tuple[str, ...]) -> list[Contribution]:
    """The contributions whose path is ``target`` or an ancestor of it, in merge order."""
    hits = [c for c in contribs if c.segments == target[: len(c.segments)]]
    return sorted(hits, key=lambda c: (len(c.segments), c.file_depth, c.order))


@dataclass(frozen=True, slots=True)
class Entry:
    """One collection entry after merging: the element and where it was declared."""

    element: etree._Element
    source: ConfigSource

    def get(self, name: str, default: str = "") -> str:
        """Attribute value, else ``default``."""
        return attr(self.element, name, default)


def merge_collection(sections: Sequence[tuple[etree._Element, str]], add_tag: str, key: Sequence[str],
                     prepend: bool = False) -> list[Entry]:
    """Merge one collection over the section elements that hold it, outermost first.

    Args:
        sections: ``(collection element, file)`` pairs, e.g. every ``<handlers>`` in order.
        add_tag: the add element's name (``add``; ``filter`` for isapiFilters).
        key: attribute names forming the key (``name``; ``fullPath``+``arguments`` for fastCgi).
        prepend: True for ``handlers`` (mergeAppend="false"): each level's entries go first.

    Returns:
        The effective entries in order. A later duplicate of a key replaces the earlier one.
    """
    # NOTE: each entry's key is computed once and kept beside it: comparing it again for every later <add> made
    # a merge quadratic in attribute reads (a default applicationHost.config has 80 handlers), per application
    current: list[tuple[tuple[str, ...], Entry]] = []

    def keyof(el: etree._Element) -> tuple[str, ...]:
        return tuple(attr(el, k).strip().lower() for k in key)

    for section, file in sections:
        local: list[tuple[tuple[str, ...], Entry]] = []
        for el in children(section):
            name = local_name(el)
            if name == "clear":
                current, local = [], []
            elif name == "remove":
                k = keyof(el)
                current = [e for e in current if e[0] != k]
                local = [e for e in local if e[0] != k]
            elif name == add_tag:
                k = keyof(el)
                current = [e for e in current if e[0] != k]
                local = [e for e in local if e[0] != k]
                local.append((k, Entry(el, ConfigSource(file, line_of(el)))))
        current = local + current if prepend else current + local
    return [e for _, e in current]


def sections_named(contribs: Iterable[Contribution], *path: str) -> list[tuple[etree._Element, str]]:
    """For each contribution, its descendant at ``path`` (e.g. ``"handlers"``), if present."""
    out: list[tuple[etree._Element, str]] = []
    for c in contribs:
        node: etree._Element | None = c.element
        for name in path:
            node = next(iter(children(node, name)), None) if node is not None else None
        if node is not None:
            out.append((node, c.file))
    return out
