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
- collection keys: as IIS's schema declares each collection's (:mod:`iisbitness.config.schema_keys`, the one table).
  IIS_schema.xml marks ``name``, the key of ``globalModules``, ``handlers``, ``modules`` and ``isapiFilters``,
  ``caseSensitive="true"`` (``<attribute name="name" type="string" caseSensitive="true" required="true"
  isUniqueKey="true" .../>``; the schema's own legend: "caseSensitive ... Indicates if attribute value is
  case-sensitive"): ``<add name="Foo">`` beside an inherited ``foo`` is a second entry, not a duplicate, and ``<remove
  name="FOO">`` does not take out ``foo`` (INFERENCE that ``<remove>`` compares the key as ``<add>`` does: the schema
  declares one key, no Microsoft page tells the two apart); so is ``requestFiltering``'s ``verbs`` key ``verb``. Keys
  without ``caseSensitive`` compare without case; ``httpErrors``' combined key (:class:`CombinedKey`) compares as
  numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from lxml import etree

from iisbitness.config.xml import attr, children, line_of, local_name, parse_bool
from iisbitness.model.source import ConfigSource, DuplicateEntry


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
                     prepend: bool = False, case_sensitive: bool = False) -> list[Entry]:
    """Merge one collection over the section elements that hold it, outermost first.

    Args:
        sections: ``(collection element, file)`` pairs, e.g. every ``<handlers>`` in order.
        add_tag: the add element's name (``add``; ``filter`` for isapiFilters).
        key: attribute names forming the key (``name``; ``fullPath``+``arguments`` for fastCgi).
        prepend: True for ``handlers`` (mergeAppend="false"): each level's entries go first.
        case_sensitive: True where the schema marks the key ``caseSensitive`` (:mod:`~iisbitness.config.schema_keys`): keys
            differing in case are two entries; else they are one.

    Returns:
        The effective entries in order. A later duplicate of a key replaces the earlier one.
    """
    # NOTE: each entry's key is computed once and kept beside it: comparing it again for every later <add> made
    # a merge quadratic in attribute reads (a default applicationHost.config has 80 handlers), per application
    current: list[tuple[tuple[str, ...], Entry]] = []

    def keyof(el: etree._Element) -> tuple[str, ...]:
        if case_sensitive:
            return tuple(attr(el, k).strip() for k in key)
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


@dataclass(frozen=True, slots=True)
class Breach:
    """A directive of a collection IIS refuses where it stands (:func:`collection_breaches`).

    Attributes:
        section: the index, in the ``sections`` given, of the collection element holding it.
        element: the ``<add>``, ``<remove>`` or ``<clear/>`` IIS refuses.
        what: what is wrong, in words, naming the key and the earlier element it collides with (file:line).
        code: the HRESULT IIS shows with HTTP 500.19: ``0x800700B7`` for a duplicate entry, ``0x80070021`` for a lock.
        duplicate: for a duplicate entry, which (collection, add element, key and its value); None for a lock.
    """

    section: int
    element: etree._Element
    what: str
    code: str
    duplicate: DuplicateEntry | None = None


@dataclass(frozen=True, slots=True)
class CombinedKey:
    """A collection key of several attributes (IIS_schema.xml ``isCombinedKey="true"`` on each), for
    :func:`collection_breaches`.

    Attributes:
        names: the key's attributes in schema order, e.g. ``("statusCode", "subStatusCode")`` for ``httpErrors``.
        defaults: per attribute, the schema's ``defaultValue`` taken when the element leaves it out (``subStatusCode``:
            ``"-1"``), or None where the attribute is required (an element without it is another error, not judged).
        integer: True where the attributes are numbers (``type="uint"``/``"int"``): ``"404"`` and ``"0404"`` are one
            key; a value that is no integer is compared as written.
        cased: per attribute, whether it is ``caseSensitive="true"`` (``security/authorization``'s ``verbs``); empty:
            none is, every part compares without case (unless :func:`collection_breaches` is told ``case_sensitive``).
    """

    names: tuple[str, ...]
    defaults: tuple[str | None, ...]
    integer: bool = False
    cased: tuple[bool, ...] = ()

    def value(self, el: etree._Element) -> str | None:
        """The key of ``el`` as written, its parts joined by ``", "`` (``"404, -1"``); None when a required part is
        missing."""
        parts = self.parts(el)
        return None if parts is None else ", ".join(parts)

    def parts(self, el: etree._Element) -> tuple[str, ...] | None:
        """Each attribute of the key in ``el`` as written (stripped), its default where left out; None when a required
        part is missing."""
        parts: list[str] = []
        for name, default in zip(self.names, self.defaults, strict=True):
            value = el.get(name, default)
            if value is None:
                return None
            parts.append(value.strip())
        return tuple(parts)

    def fold(self, parts: tuple[str, ...], case_sensitive: bool = False) -> str:
        """The key of ``parts`` (:meth:`parts`) as IIS compares it: integer parts in plain form (:attr:`integer`:
        ``"0404"`` is ``"404"``), each part lower-cased unless its attribute (:attr:`cased`) or the whole key
        (``case_sensitive``) is case-sensitive; parts joined by a character no attribute holds."""
        cased = self.cased or (False,) * len(parts)
        out = []
        for part, part_cased in zip(parts, cased, strict=True):
            if self.integer and part.lstrip("+-").isdigit():
                part = str(int(part))
            out.append(part if case_sensitive or part_cased else part.lower())
        return "\0".join(out)


def collection_breaches(sections: Sequence[tuple[etree._Element, str, int]], add_tag: str,
                        key: str | CombinedKey = "name", collection: str = "",
                        case_sensitive: bool = False, remove_tag: str | None = "remove",
                        clear_tag: str | None = "clear") -> list[Breach]:
    """The directives IIS refuses in one collection merged over ``sections`` (``(collection element, file, level)``,
    outermost first, as :func:`merge_collection` takes them; ``level``: the file's depth in the hierarchy,
    :attr:`Contribution.file_depth`: a lock binds only deeper files), each once, in merge order:

    - an ``<add_tag>`` whose ``key`` the collection already holds there, inherited or earlier at the same level, with no
      ``<remove>`` or ``<clear/>`` between: HTTP 500.19, 0x800700B7 ("Cannot add duplicate collection entry of type
      'add' with unique key attribute 'name' set to ...": KB 942055, "a duplicate entry ... at a higher level in the
      configuration hierarchy (for example, ApplicationHost.config or Web.config file in a parent site or folder)"; a
      ``<remove>`` above the ``<add>`` makes it legal: Microsoft's blog "IIS7 Error: cannot add duplicate collection
      entry of type 'mimeMap'", blogs.msdn.microsoft.com/chaun, 2009). With ``case_sensitive`` (the key
      ``caseSensitive="true"`` in IIS_schema.xml: :mod:`~iisbitness.config.schema_keys`) keys are compared as written: an
      ``<add name="Foo">`` beside an inherited ``foo`` is a second entry, and ``<remove name="FOO">`` leaves ``foo``
      in (as :func:`merge_collection` reads them); without it, keys differing in case are the same entry;
    - in a deeper file, an attribute of the collection element a shallower one locks (``lockAttributes``, ``*`` for
      all, or not named by ``lockAllAttributesExcept``: "Simply specifying the attribute in the web.config file causes
      a configuration failure, even if ... the same value", Task 2), a ``<remove>`` of an entry added with
      ``lockItem="true"``, a ``<clear/>`` while such an entry is held, a directive the collection's ``lockElements`` names (``add``, ``remove``, ``clear``) or
      ``lockAllElementsExcept`` does not, or any directive in a collection element locked whole (``lockItem="true"``):
      HTTP 500.19, 0x80070021 (iis-docs "How to Use Locking in IIS 7.0 Configuration", Tasks 4 and 5: "Locking can occur
      at any level of the hierarchy ... Locking takes effect from that level downwards"; KB 942055).

    ``key`` is one attribute's name, or a :class:`CombinedKey` (``httpErrors``: ``statusCode`` with
    ``subStatusCode``, whose default ``-1`` counts where an ``<error>`` or ``<remove>`` leaves it out: IIS_schema.xml).
    ``remove_tag`` and ``clear_tag``: the collection's remove and clear directives as its schema names them
    (``removeSpn``, ``clearSpns``; :mod:`iisbitness.config.schema_keys`), None where it declares none (an element of
    that name is then no directive of the collection and is passed over).
    ``collection`` (``system.webServer/handlers``) is named after each element in :attr:`Breach.what`.
    """
    at = f" in {collection}" if collection else ""
    out: list[Breach] = []
    present: dict[str, tuple[etree._Element, str]] = {}
    """key as compared (``fold``) -> the element that added it, and its file."""
    locked_items: dict[str, tuple[etree._Element, str, int]] = {}
    """key as compared -> (the element, its file, its level) for each entry held with lockItem="true"."""

    other_case: dict[str, tuple[str, str, etree._Element, str]] = {}
    """lower-cased key -> the last ``<remove>`` (key as written, as attributes, element, file), for saying that one differing in case
    from a duplicate ``<add>`` took nothing out (``case_sensitive`` only)."""

    combined = key if isinstance(key, CombinedKey) else None
    key_name = ", ".join(combined.names) if combined is not None else str(key)
    remove_says = (f"a <{remove_tag} .../> (or <{clear_tag}/>)" if remove_tag and clear_tag else
                   f"a <{remove_tag} .../>" if remove_tag else f"a <{clear_tag}/>" if clear_tag else None)
    directive_locks: list[tuple[frozenset[str], bool, str, int]] = []
    """(directives named, whether they are the ones left open (lockAllElementsExcept), where, level)."""
    attribute_locks: list[tuple[frozenset[str], bool, str, int]] = []
    """As ``directive_locks``, for the collection element's own attributes (``lockAttributes``, ``*`` for all;
    ``lockAllAttributesExcept``)."""

    def where(el: etree._Element, file: str) -> str:
        line = line_of(el)
        return f"{file}:{line}" if line else file

    for index, (section, file, level) in enumerate(sections):
        # NOTE: the locks binding this level, once per section (most collections have none: nothing is done per entry)
        attrs = [(names, open_, w) for names, open_, w, lv in attribute_locks if lv < level]
        for attribute in section.attrib if attrs else ():
            name = str(attribute)
            if name in _LOCKING or name.startswith("{"):
                continue
            lock = next((w for names, open_, w in attrs if (name in names or "*" in names) != open_), None)
            if lock is not None:
                out.append(Breach(index, section, f"<{local_name(section)} {name}=\"{section.get(name)}\">{at} sets "
                                                  f"an attribute locked at {lock}", "0x80070021"))
        directives = [(names, open_, w) for names, open_, w, lv in directive_locks if lv < level]
        whole = next((w for names, _, w in directives if names is _WHOLE), None)
        for el in section:
            tag = el.tag
            # NOTE: the plain tag first (no namespace: every configuration file): a stock server's requestFiltering
            # lists dozens of entries, judged again for each application's web.config
            name = tag if tag == add_tag or tag == remove_tag or tag == clear_tag else local_name(el)
            if name != add_tag and name != remove_tag and name != clear_tag:
                continue
            if whole is not None:
                out.append(Breach(index, el, f"<{name}>{at}: the collection is locked whole at {whole} (lockItem=\"true\")",
                                  "0x80070021"))
                continue
            lock = next((w for names, open_, w in directives if (name in names) != open_), None) if directives else None
            if lock is not None:
                out.append(Breach(index, el, f"<{name}>{at}: the collection's <{name}> directive is locked at {lock}",
                                  "0x80070021"))
                continue
            if name == clear_tag:
                held = next(((e, f) for e, f, lv in locked_items.values() if lv < level), None)
                if held is not None:
                    out.append(Breach(index, el, f"<clear/>{at} removes an entry locked at {where(*held)} "
                                                 "(lockItem=\"true\")", "0x80070021"))
                    continue
                present.clear()
                locked_items.clear()  # NOTE: only this level's, which it may clear (a lock binds deeper files)
                continue
            if combined is not None:
                parts = combined.parts(el)
                if parts is None:
                    continue  # NOTE: a required key missing is another error, not said here
                value, folded = ", ".join(parts), combined.fold(parts, case_sensitive)
                written = " ".join(f'{n}="{v}"' for n, v in zip(combined.names, parts, strict=True))
            else:
                got = el.get(key_name)
                if got is None:
                    continue  # NOTE: a required key missing is another error, not said here
                value = got
                folded = value.strip() if case_sensitive else value.strip().lower()
                written = f'{key_name}="{value}"'
            if name == remove_tag:
                item = locked_items.get(folded)
                if item is not None and item[2] < level:
                    out.append(Breach(index, el, f"<{name} {written}>{at} removes an entry locked at "
                                                 f"{where(item[0], item[1])} (lockItem=\"true\")", "0x80070021"))
                    continue
                present.pop(folded, None)
                locked_items.pop(folded, None)
                other_case[folded.lower()] = (value, written, el, file)
                continue
            first = present.get(folded)
            if first is not None:
                removed = other_case.get(folded.lower()) if case_sensitive else None
                differs = (f" (the <{remove_tag} {removed[1]}> at {where(removed[2], removed[3])} differs in case: "
                           f"IIS_schema.xml declares '{key_name}' case-sensitive, so it took nothing out)"
                           if removed is not None and removed[0].strip() != folded else "")
                says = (f" with unique key attribute '{key_name}' set to '{value}'\"" if combined is None else
                        f"\" (its combined key attributes '{key_name}' set to '{value}')")
                legal = (f"; {remove_says.replace(' ...', f' {written}')} before it makes it legal" if remove_says else
                         "; the collection takes no <remove> or <clear/>: one of the two must go")
                out.append(Breach(index, el, f"<{add_tag} {written}>{at} adds an entry the collection already holds "
                                             f"there (added at {where(*first)}): IIS says \"Cannot add duplicate "
                                             f"collection entry of type '{add_tag}'{says}{differs}{legal}",
                                  "0x800700B7", DuplicateEntry(collection, add_tag, key_name, value)))
                continue
            present[folded] = (el, file)
            item_lock = el.get("lockItem")
            if item_lock is not None and parse_bool(item_lock):
                locked_items[folded] = (el, file, level)
        if section.get("lockItem") is not None and parse_bool(section.get("lockItem")):
            directive_locks.append((_WHOLE, False, where(section, file), level))
        for attribute, open_, locks in (("lockElements", False, directive_locks),
                                        ("lockAllElementsExcept", True, directive_locks),
                                        ("lockAttributes", False, attribute_locks),
                                        ("lockAllAttributesExcept", True, attribute_locks)):
            listed = section.get(attribute)
            if listed is not None:
                names = frozenset(n.strip() for n in listed.split(",") if n.strip())
                locks.append((names, open_, f"{where(section, file)} ({attribute}=\"{listed}\")", level))
    return out


_LOCKING = frozenset({"lockAttributes", "lockAllAttributesExcept", "lockElements", "lockAllElementsExcept", "lockItem",
                      "configSource"})
"""Attributes of a collection element that are no setting of it (the general attributes of "General Attributes
Inherited by IIS Configuration", learn.microsoft.com/previous-versions/iis/settings-schema/aa347540): not said as
setting a locked attribute."""


_WHOLE: frozenset[str] = frozenset({"\0whole"})
"""The marker of a collection element locked whole (``lockItem="true"`` on it) in :func:`collection_breaches`."""
