"""Minimal text edits of XML configuration files: every byte outside the changed attributes and
inserted elements is kept (comments, order, indentation, line endings, encoding, BOM).

lxml finds the element to change (by name, attribute and line, as the model recorded them); the
edit itself is made in the file's own text. lxml re-serialisation would not keep the bytes, so the
start tags of the text are matched one to one, in document order, with lxml's elements
(:func:`element_spans`), and only the matched start tag is rewritten.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate, pairwise
from typing import Literal, NamedTuple

from lxml import etree

from iisbitness.config.xml import line_of, local_name, parse_bytes, text_encoding
from iisbitness.errors import ConfigError, FixError
from iisbitness.findings import LineReplacement

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
        lines: the text's lines as ``str.splitlines(keepends=True)`` cuts them (the lines SARIF's replacements
            number, :meth:`Edits.line_replacements`). line_starts: the offset of each line's first character.
    """

    shown: str
    original: bytes
    text: Text
    root: etree._Element
    spans: dict[etree._Element, Span]
    at_line: dict[tuple[str, int | None], list[etree._Element]]
    in_parent: dict[tuple[str, str], list[etree._Element]]
    newlines: list[int]
    lines: list[str]
    line_starts: list[int]

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
        lines = text.text.splitlines(keepends=True)
        starts = list(accumulate((len(x) for x in lines[:-1]), initial=0)) if lines else []
        return cls(shown, data, text, root, spans, at_line, in_parent, newlines, lines, starts)

    def line_of(self, el: etree._Element, *, end: bool = False) -> int:
        """1-based line of ``el``'s start tag in the text; with ``end``, of its end tag (its start tag when it has
        none): the line an element inserted after ``el`` follows."""
        span = self.spans[el]
        return bisect.bisect_left(self.newlines, span.end if end else span.start) + 1

    def newline(self) -> str:
        """The file's line ending (``\\r\\n`` when it has any, else ``\\n``)."""
        return "\r\n" if "\r\n" in self.text.text else "\n"


class _Op(NamedTuple):
    """One text change of :class:`Edits`: ``text[start:end]`` becomes ``new``; ``el`` is the element changed
    (``tag``: its start tag rewritten; ``insert``: ``new`` goes after it; ``remove``: it is taken out), ``order`` keeps
    insertions at one offset in the order they were asked for."""

    start: int
    end: int
    order: int
    new: str
    el: etree._Element
    kind: Literal["tag", "insert", "remove"]


_LINE_ENDS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
"""The characters ``str.splitlines`` ends a line at (``\\r\\n`` is one line end)."""


@dataclass
class Edits:
    """Pending edits of one :class:`Document`: attribute values per start tag, insertions (offset, text and the
    element they follow) and removals."""

    doc: Document
    attrs: dict[etree._Element, dict[str, str | Rewrite]]
    inserts: list[tuple[int, str, etree._Element]]
    removed: list[etree._Element] = field(default_factory=list)

    @classmethod
    def of(cls, doc: Document) -> Edits:
        """No edits yet."""
        return cls(doc, {}, [])

    def remove(self, el: etree._Element) -> None:
        """Take ``el`` out, its end tag and content with it; alone on its line(s), the whole line(s) with it (its
        indentation and line break), else only its text. Raises FixError when ``el`` was edited or has content
        inserted after it (one change per element)."""
        if el in self.attrs or any(at == self.doc.spans[el].end for at, _, _ in self.inserts):
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
        self.inserts.append((span.end, self.doc.newline() + span.indent + element_text, el))

    def _ops(self) -> list[_Op]:
        """Every change as offsets into the original text, in text order (insertions at one offset in the order
        asked for).

        Raises:
            FixError: two changes overlap (an element edited inside one taken out).
        """
        text = self.doc.text.text
        ops = [_Op(at, at, i, new, el, "insert") for i, (at, new, el) in enumerate(self.inserts)]
        for el, values in self.attrs.items():
            span = self.doc.spans[el]
            ops.append(_Op(span.start, span.tag_end, 0, set_attributes(text[span.start:span.tag_end], values), el, "tag"))
        ops += [_Op(*self._removal(el), 0, "", el, "remove") for el in self.removed]
        ops.sort(key=lambda o: (o.start, o.end, o.order))
        for a, b in pairwise(ops):
            if b.start < a.end:
                raise FixError(f"{self.doc.shown}: two changes overlap at line {self._line(b.start)}; not changed")
        return ops

    def _line(self, offset: int) -> int:
        """The 1-based line (:attr:`Document.lines`) holding ``offset``."""
        return max(bisect.bisect_right(self.doc.line_starts, offset), 1)

    def text_after(self) -> str:
        """The file's text with every edit made (not checked: :meth:`check`, :meth:`result`).

        Raises:
            FixError: two changes overlap.
        """
        text = self.doc.text.text
        out: list[str] = []
        at = 0
        for op in self._ops():
            out += (text[at:op.start], op.new)
            at = op.end
        out.append(text[at:])
        return "".join(out)

    def result(self) -> bytes:
        """The file's bytes with every edit made; untouched bytes are the original's.

        Raises:
            FixError: the result is not well-formed XML (nothing is written then), or two changes overlap.
        """
        data = self.doc.text.encode(self.text_after())
        try:
            parse_bytes(data, self.doc.shown, start_lines=False)  # NOTE: only whether it parses
        except ConfigError as e:
            raise FixError(f"{self.doc.shown}: the edited file would not parse ({e}); not changed") from e
        return data

    def check(self) -> None:
        """Check that the edited file would parse, as :meth:`result` does, reading only what changed: each rewritten
        start tag (with the element's content and end tag as read) and each inserted text is parsed in its place's
        context, under as many elements as its parent has ancestors (the nesting limit counts them), the outermost
        declaring the namespaces in scope there. The original parsed, and every other byte stays (a removal takes out
        a whole element, with only white space beside it), so a result whose changed pieces all parse parses; a
        piece is held to more than the whole file would be only where an inserted text is not whole elements
        (``</a><a>``), which no fix inserts. A change of the root element or beside it has the whole result parsed.

        Raises:
            FixError: a piece would not parse (the message names the file and the line of the change), or two
                changes overlap.
        """
        ops = self._ops()
        if any(op.el.getparent() is None for op in ops):
            self.result()  # NOTE: the root element changed, or something beside it: the whole result parsed
            return
        for op in ops:
            parent = op.el.getparent()
            if op.kind == "remove" or parent is None:
                continue
            span = self.doc.spans[op.el]
            # NOTE: a start tag with its content as read (the namespaces it declares may be the content's)
            piece = op.new + self.doc.text.text[span.tag_end:span.end] if op.kind == "tag" else op.new
            depth = len(list(parent.iterancestors())) + 1
            decls = "".join(f' xmlns:{k}="{xml_attr_value(v)}"' if k else f' xmlns="{xml_attr_value(v)}"'
                            for k, v in parent.nsmap.items())
            fragment = f"<w{decls}>" + "<w>" * (depth - 1) + piece + "</w>" * depth
            try:
                parse_bytes(fragment.encode("utf-8"), self.doc.shown, start_lines=False)
            except (ConfigError, UnicodeEncodeError) as e:
                why = e.message if isinstance(e, ConfigError) else f"not encodable: {e.reason}"
                raise FixError(f"{self.doc.shown}: the edited file would not parse (line {self._line(op.start)}: "
                               f"{why}); not changed") from e

    def line_replacements(self) -> tuple[LineReplacement, ...]:
        """The whole-line replacements (:class:`~iisbitness.findings.LineReplacement`, lines of
        :attr:`Document.lines`) that make these edits, read from their own offsets, in line order: the lines each
        change touches (by bisection of the line starts), changes on the same or touching lines together, each group
        compared with its new text as :func:`line_replacements` compares the whole texts (the lines both share at
        its ends set aside, anchors, difflib). A line inserted or removed beside lines equal to it is moved where
        that comparison puts it (the first change down past them, the last one up), and changes a move brings
        together are one. Costs what the changed lines do, not the file. Gives :func:`line_replacements` of the
        texts before and after wherever that comparison is not ambiguous (the corpus test), and falls back to it
        where a change joins or splits a line beside its group (a ``\\r`` left before a ``\\n``).

        Raises:
            FixError: two changes overlap.
        """
        doc, ops = self.doc, self._ops()
        text, lines, starts = doc.text.text, doc.lines, doc.line_starts
        groups: list[tuple[int, int, list[_Op]]] = []
        for op in ops:
            a = self._line(op.start) - 1
            b = self._line(op.end - 1) if op.end > op.start else a + 1
            if groups and a <= groups[-1][1]:
                groups[-1] = (groups[-1][0], max(b, groups[-1][1]), [*groups[-1][2], op])
            else:
                groups.append((a, b, [op]))
        out: list[LineReplacement] = []
        for a, b, group in groups:
            parts: list[str] = []
            at = starts[a] if a < len(starts) else len(text)
            for op in group:
                parts += (text[at:op.start], op.new)
                at = op.end
            parts.append(text[at:starts[b] if b < len(starts) else len(text)])
            new = "".join(parts)
            before, after = (lines[a - 1][-1] if a > 0 else ""), (lines[b][0] if b < len(lines) else "")
            if (new and after and new[-1] not in _LINE_ENDS) or "\r\n" in (before + new[:1], (new or before)[-1:] + after):
                return line_replacements(text, self.text_after())  # NOTE: the group's text joins a line beside it
            local: list[LineReplacement] = []
            old_lines, new_lines = lines[a:b], new.splitlines(keepends=True)
            _replace(old_lines, 0, len(old_lines), new_lines, 0, len(new_lines), local)
            out += (LineReplacement(r.start + a, r.end + a, r.text) for r in local)
        # NOTE: a line inserted or removed beside lines equal to it goes where comparing the whole texts puts it: the
        # common start set aside first moves the first change down, the common end then moves the last one up
        last = len(out) - 1
        for i, r in enumerate(out):
            if 0 < i == last:
                out[i] = _slid(lines, r, out[i - 1].end - 1, down=False)
            else:
                out[i] = _slid(lines, r, out[i + 1].start - 1 if i < last else len(lines), down=True)
        joined: list[LineReplacement] = []
        for r in out:  # NOTE: changes brought together by a move are one, as that comparison gives them
            if joined and joined[-1].end == r.start:
                prev = joined.pop()
                r = LineReplacement(prev.start, r.end, prev.text + r.text)
            joined.append(r)
        return tuple(joined)


def _slid(lines: list[str], r: LineReplacement, bound: int, *, down: bool) -> LineReplacement:
    """``r``, when a pure insertion or removal, moved past the lines equal to the one it inserts or removes at its
    edge: ``down`` to line index ``bound`` (0-based, exclusive), else up to it; any other as is."""
    p, q = r.start - 1, r.end - 1
    ins = r.text.splitlines(keepends=True)
    if (p == q) == (not ins):
        return r  # NOTE: a replacement, or nothing at all
    if down:
        while q < bound and lines[q] == (ins[0] if ins else lines[p]):
            p, q, ins = p + 1, q + 1, [*ins[1:], *ins[:1]]
    else:
        while p > bound and lines[p - 1] == (ins[-1] if ins else lines[q - 1]):
            p, q, ins = p - 1, q - 1, [*ins[-1:], *ins[:-1]]
    return r if p == r.start - 1 else LineReplacement(p + 1, q + 1, "".join(ins))


def line_replacements(before: str, after: str) -> tuple[LineReplacement, ...]:
    """The whole-line replacements that turn ``before`` into ``after`` (1-based line ranges of ``before``, end
    exclusive, with their new text), in line order.

    The lines both share at the start and at the end are set aside, and what remains is cut at the lines that occur
    once in each text and keep their order in both (patience diff's anchors), each piece set aside in turn; difflib
    compares only what is left: a fix's few changed lines cost about one pass over the file, not difflib over the
    whole file (quadratic in its repeated lines, such as ``</application>``).
    """
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    out: list[LineReplacement] = []
    _replace(old, 0, len(old), new, 0, len(new), out)
    return tuple(out)


def _replace(old: list[str], o1: int, o2: int, new: list[str], n1: int, n2: int, out: list[LineReplacement]) -> None:
    """Append to ``out`` the replacements that turn ``old[o1:o2]`` into ``new[n1:n2]`` (:func:`line_replacements`)."""
    while o1 < o2 and n1 < n2 and old[o1] == new[n1]:
        o1, n1 = o1 + 1, n1 + 1
    while o1 < o2 and n1 < n2 and old[o2 - 1] == new[n2 - 1]:
        o2, n2 = o2 - 1, n2 - 1
    if o1 == o2 and n1 == n2:
        return
    anchors = _anchors(old, o1, o2, new, n1, n2) if o2 - o1 > 1 and n2 - n1 > 1 else []
    if not anchors:
        ops = difflib.SequenceMatcher(None, old[o1:o2], new[n1:n2], autojunk=False).get_opcodes()
        out.extend(LineReplacement(o1 + i1 + 1, o1 + i2 + 1, "".join(new[n1 + j1:n1 + j2]))
                   for tag, i1, i2, j1, j2 in ops if tag != "equal")
        return
    for i, j in anchors:
        _replace(old, o1, i, new, n1, j, out)
        o1, n1 = i + 1, j + 1
    _replace(old, o1, o2, new, n1, n2, out)


def _anchors(old: list[str], o1: int, o2: int, new: list[str], n1: int, n2: int) -> list[tuple[int, int]]:
    """The pairs ``(i, j)``, ``old[i] == new[j]``, of lines that occur once in ``old[o1:o2]`` and once in
    ``new[n1:n2]``, the longest run of them in the same order in both (patience sorting: n log n)."""
    in_old, in_new = Counter(old[o1:o2]), Counter(new[n1:n2])
    at_new = {line: j for j, line in enumerate(new[n1:n2], n1)}  # NOTE: a line once in new: its one index
    pairs = [(i, at_new[line]) for i, line in enumerate(old[o1:o2], o1) if in_old[line] == 1 and in_new[line] == 1]
    tops: list[int] = []  # NOTE: tops[k]: the smallest j ending a run of k + 1
    ends: list[int] = []  # index into pairs of that run's last pair
    back: list[int] = []
    for k, (_, j) in enumerate(pairs):
        at = bisect.bisect_left(tops, j)
        back.append(ends[at - 1] if at else -1)
        if at == len(tops):
            tops.append(j)
            ends.append(k)
        else:
            tops[at], ends[at] = j, k
    run: list[tuple[int, int]] = []
    k = ends[-1] if ends else -1
    while k >= 0:
        run.append(pairs[k])
        k = back[k]
    return run[::-1]


