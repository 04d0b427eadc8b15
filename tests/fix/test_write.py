"""The writer: byte-exact edits of every real configuration in ../shared/corpus, and a process
killed after every write step leaves each file either as it was or complete with the new content."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iisbitness.config.xml import attr, local_name
from iisbitness.errors import FixError
from iisbitness.fixes.text import Document, Edits, Text, set_attributes
from iisbitness.fixes.write import EXIT_AFTER_STEP_CODE, STEP_HOOK_ENV
from tests.conftest import CORPUS, DEMO, REPO

CORPUS_FILES = sorted(p for kind in ("iis-config", "iis-config-2") if (CORPUS / kind).is_dir()
                      for p in (CORPUS / kind).iterdir() if p.is_file())


def _doc(path: Path) -> Document | None:
    try:
        return Document.read(path.read_bytes(), path.name)
    except FixError:
        return None  # not XML (a .xdt with a stray byte, a JavaScript file): not something fix edits


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name[:70])
def test_edits_of_real_configs_keep_every_other_byte(path: Path) -> None:
    doc = _doc(path)
    if doc is None:
        pytest.skip("not an XML configuration")
    named = [el for el in doc.root.iter() if isinstance(el.tag, str) and el.get("name") is not None
             and el is not doc.root][:6]
    if not named:
        pytest.skip("no named element")
    edits = Edits.of(doc)
    values = {}
    for i, el in enumerate(named):
        values[el] = {"preCondition": "bitness64"} if i % 2 else {"name": attr(el, "name") + " & <x> \"q\""}
        edits.set(el, *next(iter(values[el].items())))
    edits.insert_after(named[0], '<add name="inserted" />')
    after = edits.result()
    text = Text.decode(path.read_bytes(), path.name)
    assert after.startswith(text.bom) and Text.decode(after, path.name).encoding == text.encoding
    # Every byte outside the changed start tags and the inserted line is the original's.
    old = text.text
    first = doc.spans[named[0]]
    ops = [(first.end, first.end, doc.newline() + first.indent + '<add name="inserted" />')]
    ops += [(doc.spans[el].start, doc.spans[el].tag_end,
             set_attributes(old[doc.spans[el].start:doc.spans[el].tag_end], values[el])) for el in named]
    expected = old
    for start, end, new in sorted(ops, reverse=True):
        expected = expected[:start] + new + expected[end:]
    assert Text.decode(after, path.name).text == expected
    # ... and lxml reads the new values back.
    again = Document.read(after, path.name)
    by_order = [el for el in again.root.iter() if isinstance(el.tag, str)]
    old_order = [el for el in doc.root.iter() if isinstance(el.tag, str)]
    index = {el: i for i, el in enumerate(old_order)}
    for el in named:
        i = index[el]
        moved = by_order[i + 1] if doc.spans[named[0]].end <= doc.spans[el].start else by_order[i]
        for k, v in values[el].items():
            assert moved.get(k) == v


def test_edit_keeps_crlf_bom_and_utf16(tmp_path: Path) -> None:
    xml = '<?xml version="1.0" encoding="utf-16"?>\r\n<configuration>\r\n  <!-- é -->\r\n  <a name="x"/>\r\n</configuration>\r\n'
    data = b"\xff\xfe" + xml.encode("utf-16-le")
    doc = Document.read(data, "web.config")
    edits = Edits.of(doc)
    (a,) = [el for el in doc.root.iter() if local_name(el) == "a"]
    edits.set(a, "preCondition", "bitness32")
    edits.insert_after(a, '<b name="y" />')
    expected = xml.replace('<a name="x"/>', '<a name="x" preCondition="bitness32"/>\r\n  <b name="y" />')
    assert edits.result() == b"\xff\xfe" + expected.encode("utf-16-le")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_edit_keeps_utf16_without_a_bom(codec: str) -> None:
    """UTF-16 without a byte order mark (.NET's ``UnicodeEncoding(false, false)``): the scan's parser reads it (XML
    1.0 Appendix F: ``<?`` in 16-bit units), but the edit decoded it as UTF-8 (its NUL bytes are valid UTF-8) and
    refused the file ("cannot match the file's start tags"). Now it is decoded as the parser decoded it, edited, and
    written back in the same encoding, still without a mark."""
    xml = '<?xml version="1.0" encoding="utf-16"?>\r\n<configuration>\r\n  <!-- é -->\r\n  <a name="x"/>\r\n</configuration>\r\n'
    doc = Document.read(xml.encode(codec), "web.config")
    edits = Edits.of(doc)
    (a,) = [el for el in doc.root.iter() if local_name(el) == "a"]
    edits.set(a, "preCondition", "bitness32")
    assert edits.result() == xml.replace('<a name="x"/>', '<a name="x" preCondition="bitness32"/>').encode(codec)


_TWO_FILES = r"""
import sys
from pathlib import Path
from iisbitness.fixes.plan import FileChange
from iisbitness.fixes.write import Target, write_changes
a, b = Path(sys.argv[1]), Path(sys.argv[2])
targets = [Target(p, FileChange(p.name, p.read_bytes(), p.read_bytes().replace(b"<configuration>",
           b'<configuration xmlns:x="urn:x">', 1), ())) for p in (a, b)]
write_changes(targets, "20260101T000000Z")
"""


def _run_killed(args: list[str], step: int) -> int:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), **{STEP_HOOK_ENV: str(step)})
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, timeout=120, check=False).returncode


def test_killed_after_every_step_two_files(tmp_path: Path) -> None:
    src_a = DEMO / "contoso-iis10" / "Windows/System32/inetsrv/config/applicationHost.config"
    src_b = DEMO / "contoso-iis10" / "inetpub/storefront/web.config"  # UTF-8 with BOM, CRLF
    olds = [src_a.read_bytes(), src_b.read_bytes()]
    news = [o.replace(b"<configuration>", b'<configuration xmlns:x="urn:x">', 1) for o in olds]
    step = 0
    while True:
        step += 1
        work = tmp_path / f"run{step}"
        work.mkdir()
        a, b = work / "applicationHost.config", work / "web.config"
        shutil.copyfile(src_a, a)
        shutil.copyfile(src_b, b)
        rc = _run_killed(["-c", _TWO_FILES, str(a), str(b)], step)
        for path, old, new in zip((a, b), olds, news, strict=True):
            assert path.read_bytes() in (old, new), f"step {step}: {path.name} is neither old nor new"
        if rc == 0:
            assert [a.read_bytes(), b.read_bytes()] == news
            break
        assert rc == EXIT_AFTER_STEP_CODE, f"step {step}: exit {rc}"
        assert step < 40
    assert step > 10  # checked, re-parsed, backed up, written, replaced and synced, for each file


def test_fix_apply_killed_after_every_step(tmp_path: Path) -> None:
    cli = "import sys; from iisbitness.cli import main; sys.argv[0] = 'iisbitness'; main()"
    rel = "Windows/System32/inetsrv/config/applicationHost.config"
    old = (DEMO / "contoso-iis10" / rel).read_bytes()
    new: bytes | None = None
    step = 0
    while True:
        step += 1
        img = tmp_path / f"img{step}"
        shutil.copytree(DEMO / "contoso-iis10", img)
        rc = _run_killed(["-c", cli, "fix", str(img), "--apply"], step)
        now = (img / rel).read_bytes()
        if rc == 0:
            new = now
            break
        assert rc == EXIT_AFTER_STEP_CODE, f"step {step}: exit {rc}"
        assert now == old or b"IntranetPool (x86)" in now, f"step {step}"
        assert step < 20
    assert new != old and step > 5
    # every killed run left the original or this complete new file
    for i in range(1, step):
        now = (tmp_path / f"img{i}" / rel).read_bytes()
        assert now in (old, new), f"step {i}"
