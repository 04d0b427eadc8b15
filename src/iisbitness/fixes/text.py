"""Minimal text edits of XML configuration files: every byte outside the changed attributes and
inserted elements is kept (comments, order, indentation, line endings, encoding, BOM).

lxml finds the element to change (by name, attribute and line, as the model recorded them); the
edit itself is made in the file's own text. lxml re-serialisation would not keep the bytes, so the
start tags of the text are matched one to one, in document order, with lxml's elements
(:func:`element_spans`), and only the matched start tag is rewritten.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from iisbitness.config.xml import line_of, local_name, parse_bytes, text_encoding
from iisbitness.errors import ConfigError, FixError

_TOKEN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^>]*>"
    r"|</(?P<close>[^\s>]+)\s*>"
    r"|<(?P<open>[^\s/>!?]+)(?P<attrs>(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(?P<empty>/?)>",
    re.DOTALL)
_ATTR = re.compile(r"(\s+)([^\s=/>]+)(\s*=\s*)(?:\"([^\"]*)\"|'([^']*)')")


@dataclass(frozen=True, slots=True)
class Text:
    """A configuration file as text, with what it takes to give back the same bytes.

    Attributes:
        text: the decoded content (line endings as in the file).
        encoding: the codec (``utf-8``, ``utf-16-le``, ``utf-16-be``). bom: the byte-order mark, or b"".
    """

    text: str
    encoding: str
    bom: bytes

    @classmethod
    def decode(cls, data: bytes, shown: str) -> Text:
        """Decode ``data`` as the scan's parser did (:func:`iisbitness.config.xml.text_encoding`: by its BOM; UTF-16
        without one when its first bytes say so; else UTF-8, as IIS reads configuration).

        Raises:
            FixError: not decodable, or decoding and encoding again would not give the same bytes.
        """
        bom, enc = text_encoding(data)
        try:
            text = data[len(bom):].decode(enc)
        except UnicodeDecodeError as e:
            raise FixError(f"{shown}: not {enc} text ({e.reason} at byte {e.start}); not changed") from e
        out = cls(text, enc, bom)
        if out.encode(text) != data:
            raise FixError(f"{shown}: its bytes do not survive decoding as {enc}; not changed")
        return out

    def encode(self, text: str) -> bytes:
        """``text`` in this file's encoding, BOM first."""
        return self.bom + text.encode(self.encoding)


@dataclass(frozen=True, slots=True)
class Span:
    """An element's place in the text: ``start``..``tag_end`` is its start tag, ``end`` is past its
    end tag (equal to ``tag_end`` for ``<x/>``). ``indent`` is the white space that opens its line."""

    name: str
    start: int
    tag_end: int
    end: int
    indent: str


def element_spans(text: str, root: etree._Element, shown: str) -> dict[etree._Element, Span]:
    """Map each element of ``root`` (parsed from ``text``) to its span in ``text``.

    Raises:
        FixError: the start tags of the text and lxml's elements do not match one to one.
    """
    spans: list[Span] = []
    stack: list[tuple[str, int, int, int]] = []  # name, start, tag_end, index in spans
    for m in _TOKEN.finditer(text):
        if m.group("open"):
            line_start = text.rfind("\n", 0, m.start()) + 1
            lead = text[line_start:m.start()]
            indent = lead if not lead.strip() else ""
            spans.append(Span(m.group("open"), m.start(), m.end(), m.end(), indent))
            if not m.group("empty"):
                stack.append((m.group("open"), m.start(), m.end(), len(spans) - 1))
        elif m.group("close"):
            if not stack or stack[-1][0] != m.group("close"):
                raise FixError(f"{shown}: unexpected </{m.group('close')}> at offset {m.start()}; not changed")
            _, start, tag_end, i = stack.pop()
            s = spans[i]
            spans[i] = Span(s.name, start, tag_end, m.end(), s.indent)
    elements = [el for el in root.iter() if isinstance(el.tag, str)]
    if len(elements) != len(spans) or any(local_name(el) != s.name.rsplit(":", 1)[-1]
                                          for el, s in zip(elements, spans, strict=True)):
        raise FixError(f"{shown}: cannot match the file's start tags to its elements; not changed")
    return dict(zip(elements, spans, strict=True))


def xml_attr_value(value: str) -> str:
    """``value`` escaped for a double-quoted XML attribute."""
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#9;"))


Rewrite = Callable[[str], str]
"""Changes an attribute's value as the file writes it (escapes and line breaks kept)."""


def set_attributes(tag: str, values: dict[str, str | Rewrite]) -> str:
    """The start tag ``tag`` with each attribute of ``values`` set: a present one keeps its place,
    spacing and quote character; a missing one is added after the last attribute. A
    :data:`Rewrite` changes a present attribute's text in place and ignores a missing one."""
    out = tag
    for name, value in values.items():
        found = next((m for m in _ATTR.finditer(out) if m.group(2) == name), None)
        if callable(value):
            if found is not None:
                raw = found.group(4) if found.group(4) is not None else found.group(5)
                out = out[:found.end(3) + 1] + value(raw) + out[found.end() - 1:]
            continue
        if found is not None:
            quote = out[found.end() - 1]
            new = value.replace("&", "&amp;").replace("<", "&lt;")
            new = new.replace(quote, "&quot;" if quote == '"' else "&apos;")
            out = out[:found.end(3)] + quote + new + quote + out[found.end():]
            continue
        last = list(_ATTR.finditer(out))
        name_end = re.match(r"<[^\s/>]+", out)
        at = last[-1].end() if last else (name_end.end() if name_end else len(out) - 1)
        out = out[:at] + f' {name}="{xml_attr_value(value)}"' + out[at:]
    return out


@dataclass(frozen=True, slots=True)
class Document:
    """One file being edited: its text, lxml tree and spans, read once and never changed (:class:`Edits` keeps the
    edits, as offsets into the original text, so that locating every target before changing anything keeps lines
    valid; one document may serve any number of :class:`Edits`).

    Attributes:
        at_line: the elements by local name and the line lxml gives their start tag (``config.xml.line_of``), in
            document order. in_parent: the elements by their parent's local name and their own, in document order.
        newlines: the offsets of the text's ``\\n``, ascending (:meth:`line_of`).
    """

    shown: str
    original: bytes
    text: Text
    root: etree._Element
    spans: dict[etree._Element, Span]
    at_line: dict[tuple[str, int | None], list[etree._Element]]
    in_parent: dict[tuple[str, str], list[etree._Element]]
    newlines: list[int]

    @classmethod
    def read(cls, data: bytes, shown: str) -> Document:
        """Parse ``data`` for editing.

        Raises:
            FixError: not decodable, not well-formed, or its tags cannot be matched.
        """
        text = Text.decode(data, shown)
        try:
            root = parse_bytes(data, shown)
        except ConfigError as e:
            raise FixError(f"{e}; not changed") from e
        spans = element_spans(text.text, root, shown)
        at_line: dict[tuple[str, int | None], list[etree._Element]] = {}
        in_parent: dict[tuple[str, str], list[etree._Element]] = {}
        for el in spans:  # NOTE: every element, in document order (element_spans)
            name = local_name(el)
            at_line.setdefault((name, line_of(el)), []).append(el)
            parent = el.getparent()
            if parent is not None:
                in_parent.setdefault((local_name(parent), name), []).append(el)
        newlines = [m.start() for m in re.finditer("\n", text.text)]
        return cls(shown, data, text, root, spans, at_line, in_parent, newlines)

    def line_of(self, el: etree._Element, *, end: bool = False) -> int:
        """1-based line of ``el``'s start tag in the text; with ``end``, of its end tag (its start tag when it has
        none): the line an element inserted after ``el`` follows."""
        span = self.spans[el]
        return bisect.bisect_left(self.newlines, span.end if end else span.start) + 1

    def newline(self) -> str:
        """The file's line ending (``\\r\\n`` when it has any, else ``\\n``)."""
        return "\r\n" if "\r\n" in self.text.text else "\n"


@dataclass
class Edits:
    """Pending edits of one :class:`Document`: attribute values per start tag, and insertions."""

    doc: Document
    attrs: dict[etree._Element, dict[str, str | Rewrite]]
    inserts: list[tuple[int, str]]
    removed: list[etree._Element] = field(default_factory=list)

    @classmethod
    def of(cls, doc: Document) -> Edits:
        """No edits yet."""
        return cls(doc, {}, [])

    def remove(self, el: etree._Element) -> None:
        """Take ``el`` out, its end tag and content with it; alone on its line(s), the whole line(s) with it (its
        indentation and line break), else only its text. Raises FixError when ``el`` was edited or has content
        inserted after it (one change per element)."""
        if el in self.attrs or any(at == self.doc.spans[el].end for at, _ in self.inserts):
            raise FixError(f"{self.doc.shown}: <{local_name(el)}> is both edited and removed; not changed")
        if el not in self.removed:
            self.removed.append(el)

    def _removal(self, el: etree._Element) -> tuple[int, int]:
        """The text range :meth:`remove` takes out for ``el``."""
        text = self.doc.text.text
        span = self.doc.spans[el]
        line_start = text.rfind("\n", 0, span.start) + 1
        eol = text.find("\n", span.end)
        eol = len(text) if eol < 0 else eol
        if text[line_start:span.start].strip() or text[span.end:eol].strip():
            return span.start, span.end
        return line_start, min(eol + 1, len(text))

    def set(self, el: etree._Element, name: str, value: str | Rewrite) -> None:
        """Set attribute ``name`` of ``el`` to ``value``, or rewrite its text (a later call for the
        same one wins)."""
        self.attrs.setdefault(el, {})[name] = value

    def insert_after(self, el: etree._Element, element_text: str) -> None:
        """Insert ``element_text`` on a new line after ``el``, at ``el``'s indentation."""
        span = self.doc.spans[el]
        self.inserts.append((span.end, self.doc.newline() + span.indent + element_text))

    def result(self) -> bytes:
        """The file's bytes with every edit made; untouched bytes are the original's.

        Raises:
            FixError: the result is not well-formed XML (nothing is written then).
        """
        text = self.doc.text.text
        ops: list[tuple[int, int, int, str]] = [(s, s, i, t) for i, (s, t) in enumerate(self.inserts)]
        for el, values in self.attrs.items():
            span = self.doc.spans[el]
            ops.append((span.start, span.tag_end, 0, set_attributes(text[span.start:span.tag_end], values)))
        ops += [(*self._removal(el), 0, "") for el in self.removed]
        # NOTE: from the end backwards, so earlier offsets stay valid; insertions at one place keep their order
        for start, end, _, new in sorted(ops, reverse=True):
            text = text[:start] + new + text[end:]
        data = self.doc.text.encode(text)
        try:
            parse_bytes(data, self.doc.shown, start_lines=False)  # NOTE: only whether it parses
        except ConfigError as e:
            raise FixError(f"{self.doc.shown}: the edited file would not parse ({e}); not changed") from e
        return data
