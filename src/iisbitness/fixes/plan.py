"""Turn a verified fix's model edits (:mod:`iisbitness.model.edits`) into byte-level changes of the
configuration files: applicationHost.config and web.config (IIS 7+), MetaBase.xml (IIS 6).

Each edit becomes the smallest text change that makes it (:mod:`iisbitness.fixes.text`): an
attribute set on the element the model read it from (file and line), or a new element inserted
after its sibling. Every target is located in the files as read before any is changed, so one
edit's inserted line cannot move another's. Nothing is written here (:mod:`iisbitness.fixes.write`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from lxml import etree

from iisbitness.arch import Arch
from iisbitness.config.xml import attr, local_name
from iisbitness.errors import FixError
from iisbitness.findings import LineReplacement
from iisbitness.fixes.text import (
    Document,
    Edits,
    Rewrite,
    Text,
    line_replacements,
    set_attributes,
    xml_attr_value,
)
from iisbitness.model.edits import (
    FRAMEWORK_FOLDER,
    Edit,
    MoveToNewPool,
    RegisterAspNet,
    RemoveCompressionScheme,
    SetFilterPrecondition,
    SetGlobalModulePrecondition,
    SetIsolation5,
    SetPoolArch,
    SetWow64,
)
from iisbitness.model.iis6 import Iis6Server
from iisbitness.model.iis7 import Application, AppPool, Server
from iisbitness.model.source import ConfigSource

Read = Callable[[str], bytes]
"""Read a configuration file by the name the model gives it (``ConfigSource.file``)."""


class FileChange:
    """The new content of one configuration file.

    Attributes:
        shown: the file as the model names it. before: its bytes as read. after: its bytes with the edits made
        (given, or made at first use from ``edits``: planned for text edits alone, :class:`Documents`
        ``text_edits``, checked to parse either way). changes: one line per change, for the plan
        (``line 27: pool 'X': ...``). edits: the pending edits that make it, when planned here
        (:class:`iisbitness.fixes.text.Edits`).

    Raises:
        ValueError: (constructor) neither ``after`` nor ``edits`` given.
    """

    __slots__ = ("_after", "_replacements", "before", "changes", "edits", "shown")

    def __init__(self, shown: str, before: bytes, after: bytes | None, changes: tuple[str, ...],
                 edits: Edits | None = None) -> None:
        if after is None and edits is None:
            raise ValueError("FileChange: give its bytes after or the edits that make them")
        self.shown, self.before, self._after, self.changes, self.edits = shown, before, after, changes, edits
        self._replacements: tuple[LineReplacement, ...] | None = None

    @property
    def after(self) -> bytes:
        """The file's bytes with the edits made."""
        if self._after is None:
            assert self.edits is not None
            self._after = self.edits.doc.text.encode(self.edits.text_after())
        return self._after

    @property
    def replacements(self) -> tuple[LineReplacement, ...]:
        """The change as whole-line replacements of ``before``'s lines: read from the edits' own offsets when planned
        here (:meth:`iisbitness.fixes.text.Edits.line_replacements`: the changed lines' cost, not the file's), else
        from the two texts compared (:func:`iisbitness.fixes.text.line_replacements`).

        Raises:
            FixError: ``before`` or ``after`` cannot be decoded as the file's text.
        """
        if self._replacements is None:
            self._replacements = (self.edits.line_replacements() if self.edits is not None else
                                  line_replacements(*(Text.decode(b, self.shown).text for b in (self.before, self.after))))
        return self._replacements

    def __eq__(self, other: object) -> bool:
        """Equal when the same file gets the same bytes, by the same changes (however they were planned)."""
        if not isinstance(other, FileChange):
            return NotImplemented
        return (self.shown, self.before, self.changes, self.after) == (other.shown, other.before, other.changes, other.after)

    def __hash__(self) -> int:
        """Of the file and its change lines (equal changes have equal ones), as a frozen dataclass's was hashable."""
        return hash((self.shown, self.changes))

    def __repr__(self) -> str:
        return f"FileChange(shown={self.shown!r}, changes={self.changes!r})"


class Documents:
    """Each configuration file read and parsed for editing once (:meth:`Document.read`), however many fixes' changes
    are planned on it: pass it to :func:`plan_changes` as its ``read`` (it is a :data:`Read` too). A file that cannot
    be parsed raises its same :class:`FixError` each time it is asked for. Sound because neither :class:`Document` nor
    :class:`Edits` changes the parsed tree: the edits are kept beside it, as offsets into the original text.

    With ``text_edits`` (the changes wanted as text edits alone, :attr:`FileChange.replacements`, as SARIF's
    ``artifactChanges``), each result is checked on its changed pieces (:meth:`Edits.check`) and its bytes
    (:attr:`FileChange.after`) made only when asked for: a fix costs what it changes, not a pass over the file. Without
    it, each result is made and parsed whole (:meth:`Edits.result`), as ``fix`` writes it.
    """

    def __init__(self, read: Read, *, text_edits: bool = False) -> None:
        self._read = read
        self._docs: dict[str, Document | FixError] = {}
        self.text_edits = text_edits
        self._apps: dict[int, tuple[Server, dict[tuple[str, str], list[tuple[int, Application]]]]] = {}

    def __call__(self, shown: str) -> bytes:
        """The file's bytes (:data:`Read`)."""
        return self._read(shown)

    def applications(self, server: Server) -> dict[tuple[str, str], list[tuple[int, Application]]]:
        """``server``'s applications by lower-case ``(site, path)``, each with its place in configuration order, built
        once per server (a split's plan looked its applications up in a walk of every application: issue 25)."""
        found = self._apps.get(id(server))
        if found is None or found[0] is not server:
            index: dict[tuple[str, str], list[tuple[int, Application]]] = {}
            for i, a in enumerate(a for site in server.sites for a in site.applications):
                index.setdefault((a.site.lower(), a.path.lower()), []).append((i, a))
            found = self._apps[id(server)] = (server, index)
        return found[1]

    def document(self, shown: str) -> Document:
        """The file parsed for editing.

        Raises:
            FixError: it cannot be read, decoded or parsed (the message names the file).
        """
        if shown not in self._docs:
            try:
                self._docs[shown] = Document.read(self._read(shown), shown)
            except FixError as e:
                self._docs[shown] = e
        found = self._docs[shown]
        if isinstance(found, FixError):
            raise FixError(str(found)) from found  # NOTE: a new one each time (a raised exception keeps a traceback)
        return found


class _Files:
    def __init__(self, read: Read) -> None:
        # NOTE: one way to parse a file: a plain Read gets a Documents of its own (the cache of this plan alone)
        self.docs = read if isinstance(read, Documents) else Documents(read)
        self.edits: dict[str, Edits] = {}
        self.notes: dict[str, list[tuple[int, str]]] = {}

    def get(self, shown: str) -> Edits:
        if shown not in self.edits:
            self.edits[shown] = Edits.of(self.docs.document(shown))
            self.notes[shown] = []
        return self.edits[shown]

    def set(self, shown: str, el: etree._Element, values: Mapping[str, str | Rewrite], what: str) -> None:
        e = self.get(shown)
        for k, v in values.items():
            e.set(el, k, v)
        shown_values = ", ".join(f'{k}="{v}"' if isinstance(v, str) else k for k, v in values.items())
        line = e.doc.line_of(el)
        self.notes[shown].append((line, f"line {line}: {what}: {shown_values}"))

    def result(self) -> list[FileChange]:
        out = []
        for shown, e in self.edits.items():
            notes = tuple(n for _, n in sorted(self.notes[shown]))
            if self.docs.text_edits:  # NOTE: checked on the changed pieces; bytes made only if asked for
                e.check()
                change = FileChange(shown, e.doc.original, None, notes, e)
                if change.replacements:
                    out.append(change)
                continue
            after = e.result()
            if after != e.doc.original:
                out.append(FileChange(shown, e.doc.original, after, notes))  # NOTE: not the parsed tree kept with it
        return out


def _element(doc: Document, src: ConfigSource, tag: str, key: str, value: str) -> etree._Element:
    """The element ``<tag key=value>`` the model read at ``src`` (case-insensitive value)."""
    low = value.lower()
    found = [el for el in doc.at_line.get((tag, src.line), ()) if attr(el, key).strip().lower() == low]
    if len(found) != 1:
        raise FixError(f"{src}: no single <{tag} {key}=\"{value}\"> there any more; not changed")
    return found[0]


def _all(doc: Document, parent: str, tag: str, name: str | None = None) -> list[etree._Element]:
    """Every ``<tag>`` child of a ``<parent>`` in ``doc``, in document order; with ``name``, those of that ``name``
    attribute (case-insensitive)."""
    low = None if name is None else name.lower()
    return [el for el in doc.in_parent.get((parent, tag), ()) if low is None or attr(el, "name").strip().lower() == low]


def _e32(arch: Arch) -> str:
    return "true" if arch is Arch.X86 else "false"


def _pool_values(server: Server, arch: Arch) -> dict[str, str]:
    values = {"enable32BitAppOnWin64": _e32(arch)}
    if server.os_arch is Arch.ARM64:
        values["enableEmulationOnWinArm64"] = "false" if arch is Arch.ARM64 else "true"
    return values


def _new_pool(files: _Files, server: Server, name: str, values: dict[str, str]) -> None:
    """Add pool ``name`` with ``values`` after the last pool of applicationHost.config (:func:`_new_pools_section`
    when it declares none)."""
    e = files.get(server.config_file)
    pools = _all(e.doc, "applicationPools", "add")
    text = f'<add name="{xml_attr_value(name)}"' + "".join(f' {k}="{xml_attr_value(v)}"' for k, v in values.items())
    if not pools:
        _new_pools_section(files, server, name, text + " />")
        return
    e.insert_after(pools[-1], text + " />")
    line = e.doc.line_of(pools[-1], end=True)
    files.notes[server.config_file].append((line, f"after line {line}: new pool: {text} />"))


def _new_pools_section(files: _Files, server: Server, name: str, add: str) -> None:
    """Add pool ``add`` (its ``<add .../>`` text) to an applicationHost.config that declares no pool: after its
    ``<applicationPoolDefaults>``, or in a new ``<applicationPools>`` after the last element of
    ``<system.applicationHost>`` (a configuration written by hand for a container holds only ``<sites>``). Order is
    free: IIS_schema.xml declares the section's ``add`` collection and ``applicationPoolDefaults`` element, and the
    sections of ``system.applicationHost``, with no order among them.

    Raises:
        FixError: the file has neither (no ``<system.applicationHost>`` element with a child to add beside), or an
            empty ``<applicationPools>`` (beside which a second one would be a duplicate section).
    """
    e = files.get(server.config_file)
    doc = e.doc
    defaults = _all(doc, "applicationPools", "applicationPoolDefaults")
    if defaults:
        e.insert_after(defaults[-1], add)
        line = doc.line_of(defaults[-1], end=True)
        files.notes[server.config_file].append((line, f"after line {line}: new pool: {add}"))
        return
    hosts = [el for el in doc.root if isinstance(el.tag, str) and local_name(el) == "system.applicationHost"]
    last = [c for c in hosts[-1] if isinstance(c.tag, str)] if hosts else []
    if any(local_name(c) == "applicationPools" for c in last):  # NOTE: an empty one: a second would be a duplicate
        raise FixError(f"{server.config_file}: no <applicationPools><add> to add pool {name!r} beside; not changed")
    if not last:
        raise FixError(f"{server.config_file}: no <system.applicationHost> section to add pool {name!r} to; not changed")
    indent = doc.spans[last[-1]].indent
    inner = [c for c in last[-1] if isinstance(c.tag, str)]
    step = doc.spans[inner[0]].indent[len(indent):] if inner and doc.spans[inner[0]].indent.startswith(indent) else ""
    nl = doc.newline()
    e.insert_after(last[-1], f"<applicationPools>{nl}{indent}{step or '    '}{add}{nl}{indent}</applicationPools>")
    line = doc.line_of(last[-1], end=True)
    files.notes[server.config_file].append((line, f"after line {line}: new <applicationPools> with the pool: {add}"))


def _set_pool_arch(files: _Files, server: Server, edit: SetPoolArch) -> None:
    pool = server.pool(edit.pool)
    if pool is None:
        raise FixError(f"{server.config_file}: no pool {edit.pool!r}; not changed")
    if not pool.declared:  # named by an application only: declare it, at the new architecture
        _new_pool(files, server, pool.name, _pool_values(server, edit.arch))
        return
    el = _element(files.get(server.config_file).doc, pool.source, "add", "name", pool.name)
    files.set(server.config_file, el, _pool_values(server, edit.arch), f"pool '{pool.name}'")


def _global_module(files: _Files, server: Server, edit: SetGlobalModulePrecondition) -> None:
    apphost = server.config_file
    # NOTE: <globalModules configSource="..."> keeps the entries in a file of their own: edit them where read
    module = server.global_module(edit.name)
    where = module.source.file if module else apphost
    targets = [(where, el) for el in _all(files.get(where).doc, "globalModules", "add", edit.name)]
    if not targets:
        raise FixError(f"{apphost}: no global module {edit.name!r}; not changed")
    for file, el in targets:
        files.set(file, el, {"preCondition": edit.precondition}, f"globalModules entry '{edit.name}'")
    # NOTE: the <modules> entries the edit names, each the <add> the model read (fixes/commands.modules_listing: the
    # ones the appcmd lines set, at the path that declares each), with its own value: no other element of that name
    for t in edit.modules:
        el = _element(files.get(t.source.file).doc, t.source, "add", "name", edit.name)
        at = f" at <location path=\"{t.location}\">" if t.location else ""
        files.set(t.source.file, el, {"preCondition": t.precondition}, f"modules entry '{edit.name}'{at}")


def _filter(files: _Files, server: Server, edit: SetFilterPrecondition) -> None:
    # NOTE: every element the model read this filter from, in applicationHost.config or a site's web.config
    sources = dict.fromkeys(
        f.source for s in server.sites if edit.site is None or s.name.lower() == edit.site.lower()
        for a in s.applications for eff in a.effects for f in eff.filters if f.name.lower() == edit.name.lower())
    if not sources:
        raise FixError(f"no ISAPI filter {edit.name!r} in the configuration; not changed")
    for src in sources:
        el = _element(files.get(src.file).doc, src, "filter", "name", edit.name)
        files.set(src.file, el, {"preCondition": edit.precondition}, f"ISAPI filter '{edit.name}'")


def _remove_scheme(files: _Files, server: Server, edit: RemoveCompressionScheme) -> None:
    """Take out the ``<scheme>`` element the model read scheme ``edit.name`` from (``httpCompression`` is AppHostOnly:
    applicationHost.config, or the file its ``configSource`` names), its whole line with it."""
    scheme = next((c for c in server.compression_schemes if c.name.lower() == edit.name.lower()), None)
    if scheme is None:
        raise FixError(f"{server.config_file}: no compression scheme {edit.name!r}; not changed")
    e = files.get(scheme.source.file)
    el = _element(e.doc, scheme.source, "scheme", "name", edit.name)
    e.remove(el)
    line = e.doc.line_of(el)
    files.notes[scheme.source.file].append((line, f"line {line}: compression scheme '{edit.name}': removed"))


def _copy_pool(files: _Files, server: Server, like: AppPool, name: str, values: dict[str, str]) -> None:
    """Insert after ``like``'s ``<add>`` a copy of its text, every attribute and child element as stored (an encrypted
    password too: the same server's keys decrypt it), its name and bitness attributes set to ``name`` and ``values``."""
    e = files.get(server.config_file)
    el = _element(e.doc, like.source, "add", "name", like.name)
    span = e.doc.spans[el]
    text = e.doc.text.text
    # NOTE: bitness attributes are set, never copied; the start tag keeps its other attributes in place
    start = set_attributes(text[span.start:span.tag_end], {"name": name, **values})
    e.insert_after(el, start + text[span.tag_end:span.end])
    line = e.doc.line_of(el, end=True)
    children = sum(1 for c in el if isinstance(c.tag, str))
    files.notes[server.config_file].append(
        (line, f"after line {line}: new pool, a copy of pool '{like.name}': {start}"
               + (f" with its {children} child element{'s' * (children > 1)}" if children else "")))


def _move(files: _Files, server: Server, edit: MoveToNewPool) -> None:
    like = server.pool(edit.like_pool)
    if like is None:
        raise FixError(f"{server.config_file}: no pool {edit.like_pool!r}; not changed")
    if like.declared:
        _copy_pool(files, server, like, edit.new_pool, _pool_values(server, edit.arch))
    else:  # NOTE: a pool only an application names stores nothing to copy: what the appcmd fix gives it
        values = {"managedRuntimeVersion": like.managed_runtime_version,
                  "managedPipelineMode": like.pipeline_mode.value} | _pool_values(server, edit.arch)
        _new_pool(files, server, edit.new_pool, values)
    index = files.docs.applications(server)
    wanted = {(s.lower(), p.lower()) for s, p in edit.apps}
    for _, app in sorted((found for key in wanted for found in index.get(key, ())), key=lambda found: found[0]):
        el = _application(files.get(app.source.file).doc, app.source, app.path)
        files.set(app.source.file, el, {"applicationPool": edit.new_pool}, f"application '{app.label}'")


def _application(doc: Document, src: ConfigSource, path: str) -> etree._Element:
    """The ``<application>`` the model read at ``src`` for URL ``path``."""
    found = [el for el in doc.at_line.get(("application", src.line), ())
             if ("/" + attr(el, "path", "/").strip().replace("\\", "/").strip("/")).lower() == path.lower()]
    if len(found) != 1:
        raise FixError(f"{src}: no single <application path=\"{path}\"> there any more; not changed")
    return found[0]


def _iis7(files: _Files, server: Server, edit: Edit) -> None:
    if isinstance(edit, SetPoolArch):
        _set_pool_arch(files, server, edit)
    elif isinstance(edit, SetGlobalModulePrecondition):
        _global_module(files, server, edit)
    elif isinstance(edit, SetFilterPrecondition):
        _filter(files, server, edit)
    elif isinstance(edit, MoveToNewPool):
        _move(files, server, edit)
    elif isinstance(edit, RemoveCompressionScheme):
        _remove_scheme(files, server, edit)


_ASPNET_PATH = re.compile(r"(\\Microsoft\.NET\\)(Framework(?:64)?)(\\v[\d.]+\\aspnet_(?:isapi|filter)\.dll)", re.IGNORECASE)
_ASPNET_PROPS = ("ScriptMaps", "FilterPath", "WebSvcExtRestrictionList")


def _iis6(files: _Files, server: Iis6Server, edit: Edit) -> None:
    mb = server.config_file
    doc = files.get(mb).doc
    keys = {attr(el, "Location").strip().lower(): el for el in doc.root.iter()
            if isinstance(el.tag, str) and el.get("Location") is not None}
    if isinstance(edit, SetWow64 | SetIsolation5):
        prop, location = (("Enable32bitAppOnWin64", "/lm/w3svc/apppools") if isinstance(edit, SetWow64)
                          else ("IIs5IsolationModeEnabled", "/lm/w3svc"))
        el = keys.get(location)
        if el is None:
            raise FixError(f"{mb}: no metabase key {location!r} to set {prop} on; not changed")
        value = "TRUE" if edit.enabled else "FALSE"
        files.set(mb, el, {_written_name(el, prop): value}, f"key {attr(el, 'Location')}")
        # NOTE: /LM/W3SVC/AppPools inherits from /LM/W3SVC: a value there is changed too.
        w3svc = keys.get("/lm/w3svc")
        if isinstance(edit, SetWow64) and w3svc is not None and w3svc.get(_written_name(w3svc, prop)) is not None:
            files.set(mb, w3svc, {_written_name(w3svc, prop): value}, f"key {attr(w3svc, 'Location')}")
    elif isinstance(edit, RegisterAspNet):
        folder = FRAMEWORK_FOLDER[edit.arch]

        def to_folder(raw: str) -> str:
            # NOTE: on the file's text, so the line breaks inside multi-string values stay as they are
            return _ASPNET_PATH.sub(lambda m: m.group(1) + folder + m.group(3), raw)

        for el in keys.values():
            values: dict[str, str | Rewrite] = {}
            for prop in _ASPNET_PROPS:
                name = _written_name(el, prop)
                old = el.get(name)
                if old is not None and to_folder(old) != old:
                    values[name] = _allow_once(to_folder) if prop == "WebSvcExtRestrictionList" else to_folder
            if values:
                files.set(mb, el, values, f"key {attr(el, 'Location')}: ASP.NET from {folder}")


def _written_name(el: etree._Element, prop: str) -> str:
    """``prop`` as the key writes it (metabase property names are case-insensitive)."""
    return next((str(k) for k in el.attrib if str(k).lower() == prop.lower()), prop)


def _allow_once(to_folder: Rewrite) -> Rewrite:
    """A WebSvcExtRestrictionList rewrite: the ASP.NET entry of the new folder is allowed (``1,``); an entry of the
    other folder is left as it is where the new folder has an entry of its own, else moved there and allowed; each
    path listed once. KB 894435's switch keeps both entries ("ASP.NET v2.0.50727 (32-bit)" and "ASP.NET v2.0.50727")
    and allows the one of the new bitness; what ``aspnet_regiis -i -enable`` itself writes to the list is UNCONFIRMED
    (facts G6), so the edit is the least that allows it, each other entry's bytes kept (a Framework64 path was written
    under the 32-bit entry's "(32-bit)" description, and the 64-bit entry deleted)."""

    def rewrite(raw: str) -> str:
        entries = [(entry, *entry.lstrip().partition(",")) for entry in raw.split("\n")]
        present = {rest.split(",", 1)[0].lower() for _, _, sep, rest in entries if sep}
        out: list[str] = []
        seen: set[str] = set()
        for entry, flag, sep, rest in entries:
            moved = to_folder(rest)
            path = moved.split(",", 1)[0].lower()
            if not sep or not _ASPNET_PATH.search(path) or (moved != rest and path in present):
                out.append(entry)
            elif path not in seen:
                seen.add(path)
                body = entry.lstrip()
                out.append(entry[: len(entry) - len(body)] + "1," + moved)
        return "\n".join(out)

    return rewrite


def plan_changes(server: Server | Iis6Server, edits: tuple[Edit, ...], read: Read) -> list[FileChange]:
    """The file changes that make ``edits`` on ``server``'s configuration.

    Args:
        server: the model the edits were verified on (its sources say where each element is).
        edits: the combined, verified edits, in order.
        read: reads a configuration file by its model name.

    Raises:
        FixError: an element is no longer where the model read it, a file cannot be decoded or the
            result would not parse (the message names the file).
    """
    files = _Files(read)
    for edit in edits:
        if isinstance(server, Server):
            _iis7(files, server, edit)
        else:
            _iis6(files, server, edit)
    return files.result()
