"""``Edits.line_replacements`` and ``Edits.check``: a fix's text edits (SARIF ``artifactChanges``) read from the edits'
own offsets and its result checked on the changed pieces alone (issue 25: ``scan --format sarif`` compared and parsed
the whole file per fix), giving what comparing and parsing the whole texts gives (or, in rare pairings of twin lines,
replacements as right and no larger), on the real configurations committed with the tests and the shared corpus."""

from __future__ import annotations

import random

import pytest
from lxml import etree

from iisbitness.config.xml import MAX_DEPTH
from iisbitness.errors import FixError
from iisbitness.findings import LineReplacement
from iisbitness.fixes.text import Document, Edits, line_replacements, set_attributes
from tests.conftest import CORPUS, REPO

REAL = REPO / "tests" / "fixtures" / "config" / "real"
"""Real configurations committed with the tests (a checkout without ../shared still has them)."""


def _documents() -> list[Document]:
    """The real configurations committed with the tests, and the shared corpus's when it is beside the checkout."""
    out = []
    folders = [REAL] + ([CORPUS] if CORPUS.is_dir() else [])
    paths = {p.resolve() for d in folders for p in d.rglob("*") if p.suffix.lower() in (".config", ".xdt") and p.is_file()}
    for path in sorted(paths):
        try:
            out.append(Document.read(path.read_bytes(), path.name))
        except FixError:
            continue  # NOTE: not editable (not well-formed, tags not matched): plan_changes refuses it as well
    return out


def _apply(before: str, reps: tuple[LineReplacement, ...]) -> str:
    lines = before.splitlines(keepends=True)
    for r in sorted(reps, key=lambda r: r.start, reverse=True):
        lines[r.start - 1:r.end - 1] = [r.text]
    return "".join(lines)


def _random_edits(doc: Document, rng: random.Random) -> Edits:
    """One to three changes of the kinds plan_changes makes, on elements none of which holds another; a removal
    alone, as a fix makes it (a compression scheme taken out). Beside an insertion whose lines it shares, comparing
    whole texts may pair the two's common lines (8 of 36,400 random sets here), text edits as right but not the same."""
    elements = [el for el in doc.spans if el.getparent() is not None]
    chosen: list[etree._Element] = []
    for el in rng.sample(elements, min(len(elements), rng.randrange(1, 4))):
        if all(el not in set(c.iterancestors()) and c not in set(el.iterancestors()) for c in chosen):
            chosen.append(el)
    edits = Edits.of(doc)
    text = doc.text.text
    for el in chosen:
        span = doc.spans[el]
        kind = rng.randrange(5)
        if kind == 0 and el.attrib:
            edits.set(el, str(next(iter(el.attrib))), "changed")
        elif kind == 1:
            edits.set(el, "preCondition", "bitness32")
        elif kind == 2:  # NOTE: a renamed copy of the element, its children with it (a pool split's copy)
            tag = set_attributes(text[span.start:span.tag_end], {"name": f"copy{rng.randrange(3)}"})
            edits.insert_after(el, tag + text[span.tag_end:span.end])
        elif kind == 3:
            edits.insert_after(el, f'<{span.name} name="new{rng.randrange(3)}" />')
        elif len(chosen) == 1:
            edits.remove(el)
    return edits


def test_line_replacements_from_offsets_are_those_of_the_whole_texts_on_the_corpus() -> None:
    docs = _documents()
    assert len(docs) >= (40 if CORPUS.is_dir() else 10)
    rng = random.Random(25)
    compared = 0
    paired_otherwise: list[str] = []
    for doc in docs:
        for _ in range(30):
            edits = _random_edits(doc, rng)
            after = edits.text_after()
            got = edits.line_replacements()
            assert _apply(doc.text.text, got) == after, doc.shown
            whole = line_replacements(doc.text.text, after)
            if got != whole:
                # NOTE: a copy of an element inserted before a twin of it: comparing whole texts pairs the copy's lines
                # with the twin's (replace its start tag, insert its end tag and the twin's start tag), the offsets
                # insert the copy whole; both right, never more lines replaced or written than the whole texts' way
                assert sum(r.end - r.start for r in got) <= sum(r.end - r.start for r in whole), doc.shown
                assert sum(r.text.count("\n") for r in got) <= sum(r.text.count("\n") for r in whole), doc.shown
                paired_otherwise.append(doc.shown)
            compared += 1
    assert compared == 30 * len(docs)
    assert len(paired_otherwise) * 100 <= compared, paired_otherwise  # NOTE: 1 in 3,150 here (corpus and fixtures)


def test_a_change_that_makes_lines_join_falls_back_to_the_whole_texts() -> None:
    """A ``\\r`` line end left before a ``\\n`` (a removal between them): the lines join, as the whole texts say."""
    doc = Document.read(b"<r>\r<a/>\n\n<b/>\n</r>\n", "x.config")
    edits = Edits.of(doc)
    edits.remove(next(el for el in doc.spans if el.tag == "a"))
    assert edits.line_replacements() == line_replacements(doc.text.text, edits.text_after())
    assert _apply(doc.text.text, edits.line_replacements()) == edits.text_after()


XML = """<?xml version="1.0" encoding="utf-8"?>
<configuration xmlns:x="urn:x">
  <system.webServer>
    <globalModules>
      <add name="A" image="a.dll" />
      <add name="B" image="b.dll"></add>
      <x:add name="X" />
    </globalModules>
  </system.webServer>
</configuration>
"""


def _named(doc: Document, name: str) -> etree._Element:
    return next(el for el in doc.spans if el.get("name") == name)


BAD = {
    "an inserted element left open": lambda e, d: e.insert_after(_named(d, "A"), '<add name="C">'),
    "an undeclared prefix": lambda e, d: e.insert_after(_named(d, "A"), '<y:add name="C" />'),
    "a control character in a value": lambda e, d: e.set(_named(d, "B"), "image", "b\x01.dll"),
    "a rewrite that breaks the quotes": lambda e, d: e.set(_named(d, "A"), "image", lambda raw: raw + '"'),
    "a duplicate attribute": lambda e, d: e.set(_named(d, "B"), "image", lambda raw: raw + '" name="again'),
    "an undefined entity": lambda e, d: e.insert_after(_named(d, "B"), '<add name="&nbsp;" />'),
    "nesting past the limit": lambda e, d: e.insert_after(_named(d, "A"), "<a>" * (MAX_DEPTH - 2) + "</a>" * (MAX_DEPTH - 2)),
    "a namespace declaration emptied": lambda e, d: e.set(
        next(el for el in d.spans if el.tag == "globalModules"), "xmlns:x", ""),
}
GOOD = {
    "a declared prefix": lambda e, d: e.insert_after(_named(d, "A"), '<x:add name="C" />'),
    "an escaped value": lambda e, d: e.set(_named(d, "B"), "image", 'a<b>&"c'),
    "nesting up to the limit": lambda e, d: e.insert_after(_named(d, "A"), "<a>" * (MAX_DEPTH - 3) + "</a>" * (MAX_DEPTH - 3)),
    "an element with content": lambda e, d: e.insert_after(_named(d, "B"), '<add name="C"><x:y />text &amp;</add>'),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_change_that_would_not_parse_is_refused_by_its_pieces_as_by_the_whole_file(case: str) -> None:
    doc = Document.read(XML.encode(), "applicationHost.config")
    edits = Edits.of(doc)
    BAD[case](edits, doc)
    with pytest.raises(FixError, match="would not parse"):
        edits.result()
    with pytest.raises(FixError, match=r"would not parse \(line [456]: "):
        edits.check()


@pytest.mark.parametrize("case", sorted(GOOD))
def test_a_change_that_parses_passes_by_its_pieces_as_by_the_whole_file(case: str) -> None:
    doc = Document.read(XML.encode(), "applicationHost.config")
    edits = Edits.of(doc)
    GOOD[case](edits, doc)
    edits.result()
    edits.check()


def test_overlapping_changes_are_refused() -> None:
    doc = Document.read(XML.encode(), "applicationHost.config")
    edits = Edits.of(doc)
    modules = next(el for el in doc.spans if el.tag == "globalModules")
    edits.set(_named(doc, "A"), "image", "c.dll")
    edits.remove(modules)
    with pytest.raises(FixError, match="overlap at line 5"):
        edits.check()


def test_a_text_not_whole_elements_is_refused_by_its_pieces_though_the_whole_file_would_parse() -> None:
    """Stricter, never weaker: an end tag and a start tag inserted close and reopen the parent."""
    doc = Document.read(XML.encode(), "applicationHost.config")
    edits = Edits.of(doc)
    edits.insert_after(_named(doc, "B"), "</globalModules><globalModules>")
    edits.result()
    with pytest.raises(FixError, match="would not parse"):
        edits.check()


def test_a_change_of_the_root_element_has_the_whole_result_parsed() -> None:
    doc = Document.read(XML.encode(), "applicationHost.config")
    edits = Edits.of(doc)
    edits.insert_after(doc.root, "<second />")
    with pytest.raises(FixError, match="the edited file would not parse .*Extra content"):
        edits.check()
