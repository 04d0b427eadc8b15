"""``fixes.plan.Documents``: a report's fixes plan their file changes on one parse of each configuration file, and
get the same changes as a fresh parse per fix (issue 25: SARIF on 300 pools parsed the file once per fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisbitness.api import ScanOptions
from iisbitness.arch import Arch
from iisbitness.errors import FixError
from iisbitness.fixes.plan import Documents, plan_changes
from iisbitness.image.server_image import ServerImage
from iisbitness.model.edits import SetGlobalModulePrecondition, SetPoolArch
from iisbitness.model.iis7 import Server
from iisbitness.scan.backend import Iis7Backend
from iisbitness.scan.pipeline import open_image, read_backend
from tests.conftest import apphost, make_image, site

APPHOST = "Windows/System32/inetsrv/config/applicationHost.config"
MODULES = '<globalModules><add name="M32" image="C:\\M\\m.dll" /></globalModules>'


def _server(root: Path) -> tuple[ServerImage, Server]:
    pools = "\n".join(f'<add name="P{i}" managedRuntimeVersion="v4.0" />' for i in range(3))
    sites = "\n".join(site(f"S{i}", i + 1, f"P{i}", rf"C:\s{i}") for i in range(3))
    img = make_image(root, apphost(pools, sites, webserver=MODULES), {"M/m.dll": "module_x86.dll"})
    image = open_image(img, ScanOptions())
    backend = read_backend(image, Arch.X64, "test", ScanOptions())
    assert isinstance(backend, Iis7Backend)
    return image, backend.server


def test_one_parse_serves_every_fix_and_gives_what_a_fresh_parse_gives(tmp_path: Path) -> None:
    image, server = _server(tmp_path / "img")
    reads: list[str] = []

    def read(shown: str) -> bytes:
        reads.append(shown)
        return image.host_of(shown).read_bytes()

    documents = Documents(read)
    fixes = [(SetPoolArch(f"P{i}", Arch.X86),) for i in range(3)] + [(SetGlobalModulePrecondition("M32", "bitness32"),)]
    shared = [plan_changes(server, edits, documents) for edits in fixes]
    assert len(reads) == 1  # NOTE: without the cache, one read and parse per fix
    assert documents.document(server.config_file) is documents.document(server.config_file)
    fresh = [plan_changes(server, edits, read) for edits in fixes]
    assert shared == fresh
    # NOTE: each fix changes only its own line: no edit of one leaks into the next through the shared parse
    assert [c.changes for (c,) in shared] == [
        ('line 5: pool \'P0\': enable32BitAppOnWin64="true"',), ('line 6: pool \'P1\': enable32BitAppOnWin64="true"',),
        ('line 7: pool \'P2\': enable32BitAppOnWin64="true"',),
        ("line 31: globalModules entry 'M32': preCondition=\"bitness32\"",)]


def test_a_file_that_does_not_parse_fails_each_time(tmp_path: Path) -> None:
    bad = tmp_path / "web.config"
    bad.write_bytes(b"<configuration><a></configuration>")
    documents = Documents(lambda shown: bad.read_bytes())
    for _ in range(2):
        with pytest.raises(FixError, match="web.config"):
            documents.document("web.config")


def test_text_edits_alone_parse_and_compare_only_what_each_fix_changes(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """``Documents(text_edits=True)`` (``scan --format sarif``): each fix's result checked on its changed pieces and
    its replacements read from its offsets; the file is parsed once and no fix makes or compares its whole text."""
    from iisbitness.fixes import text

    pools = "\n".join(f'<add name="P{i}" managedRuntimeVersion="v4.0" />' for i in range(400))
    sites = "\n".join(site(f"S{i}", i + 1, f"P{i}", rf"C:\s{i}") for i in range(400))
    img = make_image(tmp_path / "img", apphost(pools, sites, webserver=MODULES), {"M/m.dll": "module_x86.dll"})
    image = open_image(img, ScanOptions())
    backend = read_backend(image, Arch.X64, "test", ScanOptions())
    assert isinstance(backend, Iis7Backend)
    server = backend.server
    size = len(image.host_of(server.config_file).read_bytes())
    parsed: list[int] = []
    real_parse = text.parse_bytes

    def counting_parse(data: bytes, shown: str, *, start_lines: bool = True) -> object:
        parsed.append(len(data))
        return real_parse(data, shown, start_lines=start_lines)

    monkeypatch.setattr(text, "parse_bytes", counting_parse)
    monkeypatch.setattr(text, "line_replacements", None)  # NOTE: the whole-text comparison is not called
    documents = Documents(lambda shown: image.host_of(shown).read_bytes(), text_edits=True)
    fixes = [(SetPoolArch(f"P{i}", Arch.X86),) for i in range(0, 400, 40)]
    fixes += [(SetGlobalModulePrecondition("M32", "bitness32"),)]
    changes = [plan_changes(server, edits, documents) for edits in fixes]
    reps = [c.replacements for (c,) in changes]
    assert parsed[0] == size and all(n < 1000 for n in parsed[1:]), parsed
    assert len(parsed) == 1 + len(fixes)
    assert reps[1] == (text.LineReplacement(
        45, 46, '<add name="P40" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />\n'),)
    monkeypatch.undo()
    fresh = [plan_changes(server, edits, lambda shown: image.host_of(shown).read_bytes()) for edits in fixes]
    assert changes == fresh
    # NOTE: what comparing the two whole texts gives (SARIF before this change)
    assert reps == [text.line_replacements(*(b.decode() for b in (c.before, c.after))) for (c,) in fresh]
