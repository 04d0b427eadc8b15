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
