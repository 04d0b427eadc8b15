"""Safe XML loading for IIS configuration files.

Every configuration file is untrusted. The parser resolves no entities, loads no DTD, reaches
no network and refuses huge trees (lxml ``resolve_entities=False``, ``no_network=True``,
``load_dtd=False``, ``huge_tree=False``). Encodings: UTF-8 with or without BOM and UTF-16 with
BOM (as Notepad writes it) are decoded by lxml from the BOM / XML declaration, and UTF-16 without a BOM from its
first bytes (:func:`text_encoding`).
"""

from __future__ import annotations

import codecs
import re
import stat
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from iisbitness.errors import ConfigError

MAX_CONFIG_BYTES = 64 * 1024 * 1024
"""Largest configuration file read (bytes). A real applicationHost.config is well under 1 MB."""

MAX_DEPTH = 64
"""Deepest element nesting accepted. IIS configuration is about ten levels deep; libxml2 stops at
256 on its own, so this limit is what a user meets, with a message naming the line."""


NOT_WELL_FORMED = "not well-formed XML"
"""How a :class:`ConfigError` of :func:`parse_bytes` begins when the text is not well-formed XML (what IIS refuses
too: :func:`not_well_formed`)."""


def not_well_formed(e: ConfigError) -> bool:
    """True when ``e`` says the file is not well-formed XML, which IIS refuses as well (HTTP 500.19, 0x8007000D:
    "the ApplicationHost.config or Web.config file contains a malformed or unidentified XML element", KB 942055);
    False when the scan alone could not read it (too large for the scan, unreadable, a DTD, too deep)."""
    return e.message.startswith(NOT_WELL_FORMED)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=False,
    )


def read_capped(f: BinaryIO, size: int, limit: int) -> bytes:
    """The bytes of an open file, at most ``limit + 1`` of them (one more shows it is over the limit).

    ``size`` is the file's size from ``stat`` (bytes): the first read asks for that much plus one, not for
    ``limit + 1``, because ``read(n)`` allocates ``n`` bytes before it reads (64 MiB a configuration file
    otherwise, once per web.config); only a file that grew since ``stat`` is read on, up to the limit.

    Raises:
        OSError: from the reads.
    """
    data = f.read(min(size, limit) + 1)
    if len(data) > size:  # NOTE: it grew since stat: read on, up to the limit
        data += f.read(limit + 1 - len(data))
    return data


def parse_file(path: Path, shown_as: str, limit: int = MAX_CONFIG_BYTES) -> etree._Element:
    """Parse an XML configuration file and return its root element.

    Args:
        path: the real file to read.
        shown_as: the file as the user names it, for messages.
        limit: the largest file read, in bytes (:data:`MAX_CONFIG_BYTES` unless the caller's kind of file is
            smaller, e.g. a project file).

    Raises:
        ConfigError: the file is unreadable, not a regular file (a FIFO would block the read, a device never
            end it), too large, not well-formed XML, carries a DTD (entity declarations are refused
            outright: billion laughs, XXE), or nests too deep. The message names ``shown_as`` and, where
            known, the line.
    """
    return parse_bytes(read_bounded(path, shown_as, limit), shown_as)


def read_bounded(path: Path, shown: str, limit: int, what: str = "") -> bytes:
    """The bytes of the configuration file ``path`` (XML, JSON), at most ``limit`` of them; ``shown``: the file as
    the user names it, ``what``: what it is ("baseline"), each message's start when given.

    Raises:
        ConfigError: the file is unreadable, not a regular file (a FIFO would block the read, a device never end
            it) or over ``limit`` bytes (also when it grew past it since ``stat``).
    """
    lead = f"{what}: " if what else ""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(shown, f"{lead}not a regular file (a folder, a FIFO or a device); not read")
        if st.st_size > limit:
            raise ConfigError(shown, f"{lead}file is {st.st_size:,} bytes, over the {limit:,}-byte limit; not read")
        with path.open("rb") as f:
            data = read_capped(f, st.st_size, limit)
    except OSError as e:
        raise ConfigError(shown, f"cannot read{' ' + what if what else ''}: {e.strerror or e}") from e
    if len(data) > limit:  # NOTE: it grew since stat
        raise ConfigError(shown, f"{lead}file is over the {limit:,}-byte limit; not read")
    return data


def parse_bytes(data: bytes, shown_as: str, *, start_lines: bool = True) -> etree._Element:
    """Parse configuration XML held in memory (entities, DTDs and network off): the root element; each element's
    ``sourceline`` the line its start tag opens on (without ``start_lines``, libxml2's: where it ends; for a caller
    that only checks the text parses, such as a planned fix's result).

    Raises:
        ConfigError: empty, not well-formed (with its line), with a DOCTYPE/DTD, or nesting deeper than
            :data:`MAX_DEPTH`; named ``shown_as`` (see :func:`parse_file`).
    """
    if not data.strip():
        raise ConfigError(shown_as, "file is empty")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as e:
        line = e.lineno if e.lineno and e.lineno > 0 else None
        msg = e.msg or str(e)
        if _UTF16_DECLARED.match(data) and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            # NOTE: not "not well-formed" (what IIS refuses too): whether IIS's own reader, which takes a file without
            # a byte order mark as UTF-8, refuses it as well is not known; the scan reports it unread, not refused
            raise ConfigError(shown_as, f"cannot be read as XML: {_UTF16_WITHOUT_BOM} ({msg})", line) from e
        raise ConfigError(shown_as, f"{NOT_WELL_FORMED}: {msg}", line) from e
    except (ValueError, etree.LxmlError) as e:
        raise ConfigError(shown_as, f"cannot parse as XML: {e}") from e
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise ConfigError(shown_as, "has a DOCTYPE/DTD; IIS configuration never does, so it is refused "
                          "(entity expansion and external entities are not followed)", 1)
    _check_depth(root, shown_as)
    if start_lines:
        _start_lines(data, root)
    return root


_UTF16_DECLARED = re.compile(rb"""\s*<\?xml[^>]{0,200}?\bencoding\s*=\s*["'](?:utf-16|unicode)["']""", re.IGNORECASE)
"""An XML declaration naming UTF-16, read as single bytes: the file is not UTF-16 (it would have NUL bytes here)."""
_UTF16_WITHOUT_BOM = ('its XML declaration says encoding="utf-16", but the file is not UTF-16 (no UTF-16 byte order '
                      'mark; single-byte text, as when an XML string from .NET or PowerShell is written out as UTF-8): '
                      'XML parsers refuse it (.NET\'s: "There is no Unicode byte order mark. Cannot switch to '
                      'Unicode"); save it with encoding="utf-8"')
"""Why such a file does not parse, in place of libxml2's "Blank needed here". .NET's wording: XmlDocument.Load of a
UTF-8 text declared as UTF-16 ("Creating a RESTful Web Service Using ASP.Net MVC Part 16 - XML Encoding",
shouldersofgiants.co.uk, 2009)."""

def text_encoding(data: bytes) -> tuple[bytes, str]:
    """``(bom, codec)`` of configuration bytes, decided as the XML parser decides them (XML 1.0, Appendix F
    "Autodetection of Character Encodings", which libxml2 follows): a byte order mark (UTF-8, UTF-16 little- or
    big-endian); without one, UTF-16 when the text opens with ``<?`` in 16-bit units (``3C 00 3F 00`` little-endian,
    ``00 3C 00 3F`` big-endian: UTF-16 written without its mark, as .NET's ``UnicodeEncoding(false, false)`` does),
    ``bom`` then b""; else UTF-8 (as IIS reads configuration). ``codec`` is ``utf-8``, ``utf-16-le`` or
    ``utf-16-be``. Raises nothing."""
    found = next(((b, e) for b, e in _BOMS if data.startswith(b)), None)
    if found is not None:
        return found
    if data.startswith(b"<\0?\0"):
        return b"", "utf-16-le"
    if data.startswith(b"\0<\0?"):
        return b"", "utf-16-be"
    return b"", "utf-8"


_MARKUP = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^>]*>|<(?P<open>[^\s/>!?]+)", re.DOTALL)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _start_lines(data: bytes, root: etree._Element) -> None:
    """Set each element's ``sourceline`` to the line its start tag opens on.

    libxml2 records the line where a start tag *ends*, so a handler written over several lines
    (``<add name="X"`` on line 41, ``resourceType="File" />`` on line 46) would be reported at its last
    line. The start tags of the text are matched to the elements in document order; when they do not
    match one to one, or a line is past libxml2's 65535 limit, lxml's value is kept.
    """
    bom, enc = text_encoding(data)
    try:
        text = data[len(bom):].decode(enc)
    except UnicodeDecodeError:
        return
    tags = [(m.start(), m.group("open").rsplit(":", 1)[-1]) for m in _MARKUP.finditer(text) if m.group("open")]
    elements = [el for el in root.iter() if isinstance(el.tag, str)]
    if len(tags) != len(elements) or any(local_name(el) != name for el, (_, name) in zip(elements, tags, strict=True)):
        return
    line, pos = 1, 0
    for el, (start, _) in zip(elements, tags, strict=True):
        line += text.count("\n", pos, start)
        pos = start
        if line <= 65535:
            el.sourceline = line  # type: ignore[assignment]  # NOTE: lxml-stubs type the setter wrongly


def _check_depth(root: etree._Element, shown_as: str) -> None:
    depth = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > MAX_DEPTH:
            raise ConfigError(shown_as, f"elements nest deeper than {MAX_DEPTH} levels; refused", el.sourceline)


def line_of(el: etree._Element) -> int | None:
    """The 1-based line ``el`` starts on, or None when lxml does not know it."""
    line = el.sourceline
    return line if isinstance(line, int) else None


def local_name(el: etree._Element) -> str:
    """Element name without namespace ('' for comments and processing instructions)."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def children(el: etree._Element, name: str | None = None) -> list[etree._Element]:
    """Element children of ``el`` (namespace ignored), optionally only those called ``name``."""
    return [c for c in el if isinstance(c.tag, str) and (name is None or local_name(c) == name)]


def child(el: etree._Element, *path: str) -> etree._Element | None:
    """The first descendant following ``path`` element names, or None."""
    node: etree._Element | None = el
    for name in path:
        if node is None:
            return None
        node = next(iter(children(node, name)), None)
    return node


def attr(el: etree._Element, name: str, default: str = "") -> str:
    """Attribute value (exact name), else ``default``."""
    value = el.get(name)
    return default if value is None else str(value)


def parse_bool(value: str | None) -> bool | None:
    """An IIS boolean attribute: ``true``/``1`` -> True, ``false``/``0`` -> False (any case);
    None when absent or not a boolean."""
    if value is None:
        return None
    v = value.strip().lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    return None
