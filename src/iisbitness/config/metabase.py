"""Read an IIS 6 server from ``%windir%\\system32\\inetsrv\\MetaBase.xml``.

The file (facts G1) is ``<configuration xmlns="urn:microsoft-catalog:XML_Metabase_V64_0">``
holding ``<MBProperty>``, whose children are keys: one element per key, named by its KeyType,
with ``Location`` the key path and every other attribute a property (names case-sensitive;
``<Custom Name=... Value=...>`` children add properties without a schema name). Properties are
inherited down the key path (``/LM/W3SVC`` -> ``/LM/W3SVC/1`` -> ``/LM/W3SVC/1/ROOT`` -> ...);
key paths are case-insensitive.

MULTISZ values (``ScriptMaps``, ``WebSvcExtRestrictionList``) are stored one entry per line
inside the attribute. XML attribute-value normalisation would turn those line breaks into
spaces, so before parsing each line break inside an attribute value gets a ``&#10;`` in front
of it (the line count, and so every reported line number, is unchanged).

Parsing uses the project's safe loader (:func:`iisbitness.config.xml.parse_bytes`): a malformed
file raises :class:`iisbitness.errors.ConfigError` naming file and line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from iisbitness.arch import Arch
from iisbitness.config.xml import MAX_CONFIG_BYTES, children, line_of, local_name, parse_bytes
from iisbitness.config.xml import parse_bool as _bool
from iisbitness.errors import ConfigError
from iisbitness.image.server_image import ServerImage
from iisbitness.model.iis6 import (
    Iis6App,
    Iis6Filter,
    Iis6Pool,
    Iis6Server,
    Iis6Site,
    MetabaseKey,
    ScriptMap,
    WebSvcExt,
)
from iisbitness.model.source import ConfigSource, Problem

METABASE = "C:\\Windows\\System32\\inetsrv\\MetaBase.xml"
NAMESPACE = "urn:microsoft-catalog:XML_Metabase_V64_0"
_SNIFF = 64 * 1024

_SITE_ROOT = re.compile(r"^/LM/W3SVC/(\d+)/ROOT(/.*)?$", re.IGNORECASE)
_SITE = re.compile(r"^/LM/W3SVC/(\d+)$", re.IGNORECASE)
_SITE_FILTERS = re.compile(r"^/LM/W3SVC/(\d+)/Filters$", re.IGNORECASE)
_POOL = re.compile(r"^/LM/W3SVC/AppPools/([^/]+)$", re.IGNORECASE)
_SCRIPTMAP_START = re.compile(r"\s+(?=(?:\.[^,\s]+|\*),)")
_RESTRICTION_START = re.compile(r"\s+(?=[01],)")


def is_metabase(path: Path) -> bool:
    """True when ``path`` looks like an IIS 6 MetaBase.xml by content (its namespace or ``MBProperty``)."""
    try:
        if not path.is_file():  # NOTE: a FIFO would block the open, a device never end (issue 26)
            return False
        with path.open("rb") as fh:
            head = fh.read(_SNIFF)
    except OSError:
        return False
    for marker in ("XML_Metabase_V64_0", "<MBProperty"):
        for enc in ("utf-8", "utf-16-le", "utf-16-be"):
            if marker.encode(enc) in head:
                return True
    return False


def find_metabase(image: ServerImage) -> tuple[Path, str] | None:
    """``(file, shown_as)`` of the image's MetaBase.xml (case-insensitive), or None."""
    found = image.locate(METABASE)
    if found.host_path is None or not found.host_path.is_file():
        return None
    return found.host_path, image.display(found.host_path)


def _escape_attr_newlines(text: str) -> str:
    """Put ``&#10;`` before each line break inside an attribute value (see the module docstring)."""
    out: list[str] = []
    i, n = 0, len(text)
    in_tag = False
    quote = ""
    while i < n:
        c = text[i]
        if not in_tag:
            if text.startswith("<!--", i):
                end = text.find("-->", i + 4)
                end = n if end < 0 else end + 3
                out.append(text[i:end])
                i = end
                continue
            if text.startswith("<![CDATA[", i):
                end = text.find("]]>", i)
                end = n if end < 0 else end + 3
                out.append(text[i:end])
                i = end
                continue
            if c == "<":
                in_tag = True
        elif quote:
            if c == quote:
                quote = ""
            elif c == "\n":
                out.append("&#10;")
        elif c in "\"'":
            quote = c
        elif c == ">":
            in_tag = False
        out.append(c)
        i += 1
    return "".join(out)


def _prepare(data: bytes) -> bytes:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _escape_attr_newlines(data.decode("utf-16")).encode("utf-16")
        except UnicodeError:
            return data
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data  # NOTE: let the parser report it with a line number
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    return bom + _escape_attr_newlines(text).encode("utf-8")


def parse_keys(path: Path, shown_as: str) -> list[MetabaseKey]:
    """Every key of the metabase, in file order.

    Raises:
        ConfigError: unreadable, not well-formed, or not a metabase (names file and line).
    """
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(shown_as, f"file is {size:,} bytes, over the {MAX_CONFIG_BYTES:,}-byte limit; not read")
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(shown_as, f"cannot read: {e.strerror or e}") from e
    prepared = _prepare(data)
    root = parse_bytes(prepared, shown_as)
    return keys_of(root, shown_as, _start_lines(prepared))


_KEY_START = re.compile(r'<[A-Za-z_][\w.-]*\s+Location\s*=\s*"([^"]*)"')


def _start_lines(data: bytes) -> dict[str, int]:
    """Line of each key's start tag by location (lxml reports the line where a multi-line start tag ends)."""
    try:
        text = data.decode("utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return {}
    out: dict[str, int] = {}
    for m in _KEY_START.finditer(text):
        out.setdefault(m.group(1).strip().lower(), text.count("\n", 0, m.start()) + 1)
    return out


def keys_of(root: Any, shown_as: str, lines: dict[str, int] | None = None) -> list[MetabaseKey]:
    """The keys under ``root`` (a parsed metabase ``configuration`` element, as lxml returns it;
    typed ``Any`` so that this module needs no lxml stubs), in file order; ``lines``: filled with each key's
    ``Location`` -> line in ``shown_as``.

    Raises:
        ConfigError: ``root`` is not ``<configuration>`` holding ``<MBProperty>`` (not an IIS 6 metabase), or a
            key has no ``Location``; named ``shown_as`` and line.
    """
    mb = next(iter(children(root, "MBProperty")), None)
    if local_name(root) != "configuration" or mb is None:
        raise ConfigError(shown_as, "not an IIS 6 metabase: expected <configuration "
                          f'xmlns="{NAMESPACE}"> holding <MBProperty>', line_of(root))
    keys: list[MetabaseKey] = []
    for el in children(mb):
        location = el.get("Location")
        if location is None:
            raise ConfigError(shown_as, f"metabase key <{local_name(el)}> has no Location attribute", line_of(el))
        props = [(str(k), str(v)) for k, v in el.attrib.items() if k != "Location"]
        for custom in children(el, "Custom"):
            name, value = custom.get("Name"), custom.get("Value")
            if name is not None and value is not None:
                props.append((str(name), str(value)))
        line = (lines or {}).get(location.strip().lower(), line_of(el))
        keys.append(MetabaseKey(location.strip(), local_name(el), tuple(props), ConfigSource(shown_as, line)))
    return keys


def split_multisz(value: str, start: re.Pattern[str] | None = None) -> list[str]:
    """Entries of a MULTISZ value: one per line as stored; ``start`` splits entries run together on one line."""
    out: list[str] = []
    for line in value.replace("\r", "\n").split("\n"):
        parts = start.split(line.strip()) if start is not None else [line]
        out.extend(p.strip() for p in parts if p.strip())
    return out


def parse_script_maps(value: str, source: ConfigSource, defined_at: str) -> tuple[tuple[ScriptMap, ...], list[str]]:
    """``(entries, bad entries)`` of a ``ScriptMaps`` value (facts G2)."""
    maps: list[ScriptMap] = []
    bad: list[str] = []
    for entry in split_multisz(value, _SCRIPTMAP_START):
        parts = entry.split(",")
        if len(parts) < 2 or not parts[1].strip():
            bad.append(entry)
            continue
        try:
            flags = int(parts[2]) if len(parts) > 2 and parts[2].strip() else 0
        except ValueError:
            flags = 0
        maps.append(ScriptMap(parts[0].strip(), parts[1].strip(), flags, ",".join(parts[3:]).strip(), source, defined_at))
    return tuple(maps), bad


def parse_restrictions(value: str) -> tuple[WebSvcExt, ...]:
    """The entries of a ``WebSvcExtRestrictionList`` value (a multi-string of
    ``AllowDenyFlag,ExtensionPhysicalPath,UIDeletableFlag,GroupID,Description``), in order; an entry with fewer
    than two fields is skipped. Source: IIS 6 metabase reference "WebSvcExtRestrictionList" (technet cc779909;
    domain facts G3)."""
    out: list[WebSvcExt] = []
    for entry in split_multisz(value, _RESTRICTION_START):
        parts = entry.split(",")
        if len(parts) < 2:
            continue
        out.append(WebSvcExt(parts[0].strip() == "1", parts[1].strip(), parts[3].strip() if len(parts) > 3 else "",
                             ",".join(parts[4:]).strip()))
    return tuple(out)


def _parent(location: str) -> str | None:
    if location in ("", "/", "."):
        return None
    head = location.rsplit("/", 1)[0]
    return head if head else "/"


class _Tree:
    """Keys by lower-cased location, with inherited lookup."""

    def __init__(self, keys: list[MetabaseKey], shown_as: str, problems: list[Problem]) -> None:
        self.by_loc: dict[str, MetabaseKey] = {}
        for k in keys:
            low = k.location.rstrip("/").lower() or "/"
            if low in self.by_loc:
                old = self.by_loc[low]
                problems.append(Problem(shown_as, k.source.line, f"key {k.location} appears twice; properties merged "
                                        "(the later value wins)"))
                merged = dict(old.props)
                merged.update(dict(k.props))
                k = MetabaseKey(old.location, old.key_type, tuple(merged.items()), old.source)
            self.by_loc[low] = k

    def key(self, location: str) -> MetabaseKey | None:
        return self.by_loc.get(location.rstrip("/").lower() or "/")

    def inherited(self, location: str, name: str) -> tuple[str, MetabaseKey] | None:
        """The value of ``name`` at ``location`` or its nearest ancestor, with the key that sets it."""
        loc: str | None = location.rstrip("/")
        while loc:
            k = self.key(loc)
            if k is not None:
                v = k.get(name)
                if v is not None:
                    return v, k
            loc = _parent(loc)
        return None


def read_iis6(path: Path, shown_as: str, os_arch: Arch, os_arch_from: str) -> Iis6Server:
    """Read an IIS 6 server from the metabase at ``path``.

    Raises:
        ConfigError: the file is unreadable or not a well-formed metabase (names file and line), or the OS
            is ARM64, which IIS 6 never ran on.
    """
    problems: list[Problem] = []
    tree = _Tree(parse_keys(path, shown_as), shown_as, problems)
    if os_arch is Arch.ARM64:
        # NOTE: IIS 6 shipped with Windows Server 2003 (x86, x64, Itanium); an ARM64 analysis would invent
        # arm64 builds of ASP.NET and inetinfo.exe (facts G4)
        raise ConfigError(shown_as, f"an IIS 6 metabase, but the OS is taken as arm64 ({os_arch_from}): IIS 6 "
                          "(Windows Server 2003) never ran on ARM64; give --os-arch x64 or x86")
    w3svc = tree.key("/LM/W3SVC")
    w3svc_src = w3svc.source if w3svc is not None else ConfigSource(shown_as)

    # Enable32BitAppOnWin64: server-wide, read at W3SVC/AppPools (inherits from W3SVC) (facts G4).
    e32 = tree.inherited("/LM/W3SVC/AppPools", "Enable32BitAppOnWin64")
    enable_32bit_app_on_win64, e32_from, e32_src = False, "schema default", None
    if e32 is not None:
        b = _bool(e32[0])
        if b is None:
            problems.append(Problem(shown_as, e32[1].source.line,
                                    f"Enable32BitAppOnWin64={e32[0]!r} is not a boolean; taken as FALSE"))
        enable_32bit_app_on_win64, e32_from, e32_src = bool(b), e32[1].location, e32[1].source

    iso = w3svc.get("IIs5IsolationModeEnabled") if w3svc is not None else None
    iis5_isolation_mode_enabled = _bool(iso)
    if iso is None:
        problems.append(Problem(shown_as, w3svc_src.line,
                                "IIs5IsolationModeEnabled is not set on /LM/W3SVC: its schema default is TRUE but clean "
                                "installs run worker process isolation; assumed worker process isolation (unknown; check "
                                "with adsutil.vbs GET W3SVC/IIs5IsolationModeEnabled)"))
    elif iis5_isolation_mode_enabled is None:
        problems.append(Problem(shown_as, w3svc_src.line, f"IIs5IsolationModeEnabled={iso!r} is not a boolean; unknown"))

    pools: list[Iis6Pool] = []
    sites: list[Iis6Site] = []
    for k in tree.by_loc.values():
        m = _POOL.match(k.location)
        if m and k.key_type.lower() == "iisapplicationpool":
            pools.append(Iis6Pool(m.group(1), k.source))
            own = k.get("Enable32BitAppOnWin64")
            if own is not None and _bool(own) != enable_32bit_app_on_win64:
                problems.append(Problem(shown_as, k.source.line,
                                        f"pool {m.group(1)!r} sets Enable32BitAppOnWin64={own!r}; IIS 6 applies the "
                                        "W3SVC/AppPools value to every pool, so this one is ignored"))
        m = _SITE.match(k.location)
        if m:
            sites.append(Iis6Site(m.group(1), k.get("ServerComment") or f"W3SVC/{m.group(1)}", k.source))
    sites.sort(key=lambda s: int(s.id))

    apps = _apps(tree, sites, shown_as, problems)
    known = {p.name.lower() for p in pools}
    for a in apps:
        if a.pool.lower() not in known:
            known.add(a.pool.lower())
            pools.append(Iis6Pool(a.pool, a.source, declared=False))  # NOTE: reported by rule pool-undefined

    global_filters = _filters(tree, "/LM/W3SVC/Filters", None, shown_as, problems)
    site_filters: list[Iis6Filter] = []
    for k in list(tree.by_loc.values()):
        m = _SITE_FILTERS.match(k.location)
        if m:
            site_filters.extend(_filters(tree, k.location, m.group(1), shown_as, problems))

    rl = tree.inherited("/LM/W3SVC", "WebSvcExtRestrictionList")
    restrictions = parse_restrictions(rl[0]) if rl is not None else ()
    return Iis6Server(os_arch, os_arch_from, shown_as, enable_32bit_app_on_win64, e32_from, e32_src, iis5_isolation_mode_enabled, w3svc_src,
                      tuple(pools), tuple(sites), tuple(apps), tuple(global_filters), tuple(site_filters),
                      restrictions, tuple(problems))


def _filters(tree: _Tree, location: str, site_id: str | None, shown_as: str,
             problems: list[Problem]) -> list[Iis6Filter]:
    """Filters loaded from a ``Filters`` key: those named by ``FilterLoadOrder``, in that order.

    INFERENCE (facts G1): IIS loads the filters that ``FilterLoadOrder`` names; a filter key it
    does not name is not loaded. Without ``FilterLoadOrder`` every filter key is taken.
    """
    parent = tree.key(location)
    prefix = location.lower() + "/"
    subkeys = [k for low, k in tree.by_loc.items() if low.startswith(prefix) and "/" not in low[len(prefix):]]
    order = parent.get("FilterLoadOrder") if parent is not None else None
    names = [n.strip() for n in order.split(",") if n.strip()] if order is not None else [
        k.location.rsplit("/", 1)[-1] for k in subkeys]
    out: list[Iis6Filter] = []
    for i, name in enumerate(names):
        k = tree.key(f"{location}/{name}")
        if k is None:
            where = parent.source.line if parent is not None else None
            problems.append(Problem(shown_as, where, f"FilterLoadOrder of {location} names {name!r}, which has no key"))
            continue
        fpath = k.get("FilterPath")
        if fpath is None or not fpath.strip():
            problems.append(Problem(shown_as, k.source.line, f"filter {k.location} has no FilterPath"))
            continue
        out.append(Iis6Filter(name, fpath.strip(), site_id, i, k.source, k.location))
    return out


def _apps(tree: _Tree, sites: list[Iis6Site], shown_as: str, problems: list[Problem]) -> list[Iis6App]:
    names = {s.id: s.name for s in sites}
    out: list[Iis6App] = []
    keys = sorted((k for k in tree.by_loc.values() if _SITE_ROOT.match(k.location)),
                  key=lambda k: (int(_SITE_ROOT.match(k.location).group(1)),  # type: ignore[union-attr]
                                 k.location.lower()))
    bad_seen: set[str] = set()
    for k in keys:
        m = _SITE_ROOT.match(k.location)
        assert m is not None
        site_id, rest = m.group(1), m.group(2) or ""
        is_app = k.get("AppRoot") is not None or rest == ""
        if not is_app and k.get("ScriptMaps") is None and k.get("AppPoolId") is None:
            continue
        sm = tree.inherited(k.location, "ScriptMaps")
        maps: tuple[ScriptMap, ...] = ()
        if sm is not None:
            maps, bad = parse_script_maps(sm[0], sm[1].source, sm[1].location)
            if bad and sm[1].location.lower() not in bad_seen:
                bad_seen.add(sm[1].location.lower())
                problems.append(Problem(shown_as, sm[1].source.line,
                                        f"ScriptMaps of {sm[1].location}: entries not understood: {'; '.join(bad[:3])}"))
        pool = tree.inherited(k.location, "AppPoolId")
        iso = tree.inherited(k.location, "AppIsolated")
        try:
            isolated = int(iso[0]) if iso is not None else 2
        except ValueError:
            isolated = 2
        out.append(Iis6App(site_id, names.get(site_id, f"W3SVC/{site_id}"), rest or "/", k.location,
                           pool[0].strip() if pool is not None else "DefaultAppPool", isolated,
                           _physical_path(tree, k.location), maps, k.source, is_app))
    return out


def _physical_path(tree: _Tree, location: str) -> str:
    """``Path`` of the key, else the nearest ancestor's ``Path`` plus the remaining URL segments."""
    loc = location.rstrip("/")
    tail: list[str] = []
    while loc:
        k = tree.key(loc)
        if k is not None and k.get("Path") is not None:
            return "\\".join([str(k.get("Path")).rstrip("\\"), *reversed(tail)])
        tail.append(loc.rsplit("/", 1)[-1])
        loc = _parent(loc) or ""
        if loc.lower() in ("/lm/w3svc", "/lm", "/"):
            break
    return ""
