"""Read once per scan, and ``scan --cache``: a rescan reads only what changed, a cache is never trusted."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.api import ScanOptions, scan
from iisbitness.cli import main
from iisbitness.formats import scan_json
from iisbitness.pe.facts import BinaryFacts, FileIdentity
from iisbitness.pe.store import APPLICATION_ID, SCHEMA_VERSION, SqliteFactStore
from tests.conftest import REPO, apphost, fixture, make_image, site

TWO_POOLS = apphost('<add name="P64" managedRuntimeVersion="v4.0" />'
                    '<add name="P32" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />',
                    site("A", 1, "P64", r"C:\a") + site("B", 2, "P32", r"C:\b"))
BIN = {"a/bin/App.dll": "ManagedApp.dll", "a/bin/managed_x86.dll": "managed_x86.dll",
       "a/bin/managed_anycpu.dll": "managed_anycpu.dll", "b/bin/managed_x64.dll": "managed_x64.dll",
       "b/bin/nativelib.dll": "nativelib_x86.dll"}


def _image(tmp_path: Path) -> Path:
    return make_image(tmp_path / "img", TWO_POOLS, BIN)


def _reads(image: Path, cache: Path | None = None) -> tuple[list[Path], str]:
    read: list[Path] = []
    report = scan(image, ScanOptions(cache=cache, on_read=read.append))
    from iisbitness.formats import scan_json

    return read, scan_json.render(report)


def test_each_binary_is_read_once_per_scan(tmp_path: Path) -> None:
    """Two pools, three candidate worker architectures, IIS Manager and fix verification ask about the
    same files many times; each is read from disk once per kind of fact."""
    image = _image(tmp_path)
    read, _ = _reads(image)
    assert {p.name for p in read} >= {"App.dll", "managed_x86.dll", "managed_x64.dll", "nativelib.dll"}
    # at most one read per kind of fact: headers, then .NET metadata or native imports
    assert max(Counter(read).values()) <= 2, Counter(read).most_common(3)


def test_rescan_with_cache_reads_nothing_and_gives_the_same_report(tmp_path: Path) -> None:
    image, cache = _image(tmp_path), tmp_path / "scan.sqlite"
    first_reads, first = _reads(image, cache)
    second_reads, second = _reads(image, cache)
    assert first_reads and second_reads == []
    assert first == second
    _, uncached = _reads(image)
    assert uncached == first


def test_a_changed_file_is_never_served_stale(tmp_path: Path) -> None:
    """Same name, same size, same mtime, other content: the identity (ctime, inode) still changes."""
    image, cache = _image(tmp_path), tmp_path / "scan.sqlite"
    _, before = _reads(image, cache)
    target = image / "a" / "bin" / "managed_x86.dll"
    st = target.stat()
    replacement = fixture("managed_anycpu.dll").read_bytes()
    tmp = target.with_name("new.tmp")
    tmp.write_bytes(replacement)
    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(tmp, target)
    read, after = _reads(image, cache)
    assert target in read
    assert _x86_findings(before) and not _x86_findings(after)


def _x86_findings(report: str) -> list[str]:
    return [f["rule"] for f in json.loads(report)["findings"]
            if f["rule"] == "managed-assembly-arch" and (f["binary"] or "").endswith("managed_x86.dll")]


def test_a_damaged_cache_of_ours_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    """The header still says the file is ours (application_id), the pages behind it are garbage."""
    image, cache = _image(tmp_path), tmp_path / "scan.sqlite"
    _reads(image, cache)
    data = bytearray(cache.read_bytes())
    data[100:] = b"\xa5" * (len(data) - 100)
    cache.write_bytes(bytes(data))
    read, report = _reads(image, cache)
    assert read
    assert (tmp_path / "scan.sqlite.corrupt").read_bytes() == bytes(data)
    problems = json.loads(report)["problems"]
    assert any("cache was not a usable cache" in p["message"] for p in problems)
    again, _ = _reads(image, cache)
    assert again == []


def test_a_tampered_row_is_a_miss_not_a_wrong_answer(tmp_path: Path) -> None:
    image, cache = _image(tmp_path), tmp_path / "scan.sqlite"
    _, before = _reads(image, cache)
    with sqlite3.connect(cache) as db:
        db.execute("UPDATE facts SET payload = '{\"kind\": 42}' WHERE kind = 'image'")
        db.execute("UPDATE facts SET payload = 'not json' WHERE kind = 'references'")
        db.execute("DELETE FROM reports")  # NOTE: else the unchanged server's whole report is served (below)
    read, after = _reads(image, cache)
    assert read, "tampered rows must be read again"
    assert after == before


def test_cache_of_another_schema_version_is_emptied(tmp_path: Path) -> None:
    image, cache = _image(tmp_path), tmp_path / "scan.sqlite"
    _reads(image, cache)
    with sqlite3.connect(cache) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.execute("CREATE TABLE added_by_a_later_version (x)")
    read, report = _reads(image, cache)
    assert read
    assert any(f"schema {SCHEMA_VERSION + 1}" in p["message"] for p in json.loads(report)["problems"])
    with sqlite3.connect(cache) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert "added_by_a_later_version" not in {r[0] for r in db.execute("SELECT name FROM sqlite_master")}


def test_two_scans_at_once_share_a_cache(tmp_path: Path) -> None:
    """Two processes scanning with one cache file both finish with the same report, and the cache is sound."""
    image, cache = _image(tmp_path), tmp_path / "scan.sqlite"
    cmd = [sys.executable, "-c", "import sys; from iisbitness.cli import main; sys.argv[0] = 'iisbitness'; main()",
           "scan", str(image), "--cache", str(cache), "--format", "json", "--fail-on", "never", "--quiet"]
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    assert outs[0][0] == outs[1][0]
    with sqlite3.connect(cache) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    read, _ = _reads(image, cache)
    assert read == []


def test_cache_in_an_unwritable_place_exits_2_naming_it(tmp_path: Path) -> None:
    image = _image(tmp_path)
    res = CliRunner().invoke(main, ["scan", str(image), "--cache", str(tmp_path / "no" / "such" / "dir" / "c.db")])
    assert res.exit_code == 2 and "c.db" in res.output


def test_store_round_trips_every_fixture(tmp_path: Path) -> None:
    """Every fact of every real fixture comes back from the store equal to what was read."""
    src = fixture("ManagedApp.dll").parent
    files = sorted(p for p in src.iterdir() if p.is_file())
    fresh = BinaryFacts()
    with SqliteFactStore(tmp_path / "c.db") as store:
        facts = BinaryFacts(store)
        for f in files:
            for kind in ("image", "imports", "assembly", "references"):
                _same(getattr(facts, kind), getattr(fresh, kind), f)
    with SqliteFactStore(tmp_path / "c.db") as store:
        facts = BinaryFacts(store)
        for f in files:
            for kind in ("image", "imports", "assembly", "references"):
                _same(getattr(facts, kind), getattr(fresh, kind), f)
        assert facts.reads == 0 and facts.stored > 0


def _same(a: object, b: object, path: Path) -> None:
    from iisbitness.errors import ImageReadError

    results = []
    for get in (a, b):
        try:
            results.append(get(path))  # type: ignore[operator]
        except ImageReadError as e:
            results.append(str(e))
    assert results[0] == results[1], path


def test_identity_changes_when_content_changes(tmp_path: Path) -> None:
    f = tmp_path / "x.dll"
    shutil.copy(fixture("managed_x86.dll"), f)
    before = FileIdentity.of(f)
    st = f.stat()
    f.write_bytes(f.read_bytes())
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert FileIdentity.of(f) != before
    assert FileIdentity.of(tmp_path / "absent.dll") is None


def _served_whole(monkeypatch: pytest.MonkeyPatch, image: Path, cache: Path) -> tuple[bool, str]:
    """Scan with ``cache``; True when the stored whole report was served (nothing planned)."""
    from iisbitness.scan import pipeline

    planned: list[bool] = []
    real = pipeline.scan_image

    def spy(*args: object, **kwargs: object) -> object:
        planned.append(True)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "scan_image", spy)
    _, report = _reads(image, cache)
    monkeypatch.undo()
    return not planned, report


def test_an_unchanged_server_gets_its_stored_report_without_planning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image, cache = _image(tmp_path), tmp_path / "scan.sqlite"
    served, first = _served_whole(monkeypatch, image, cache)
    assert not served
    served, second = _served_whole(monkeypatch, image, cache)
    assert served and second == first
    _, uncached = _reads(image)
    assert uncached == first


def test_the_stored_report_is_stale_once_any_input_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A binary replaced, a DLL added to a bin folder, a web.config written, the configuration edited:
    each makes the next scan plan again, and its report is the one a scan without cache gives."""
    image, cache = _image(tmp_path), tmp_path / "scan.sqlite"
    _served_whole(monkeypatch, image, cache)
    changes = [
        lambda: shutil.copy(fixture("managed_x64.dll"), image / "a" / "bin" / "managed_x86.dll"),
        lambda: shutil.copy(fixture("managed_x86.dll"), image / "b" / "bin" / "added_x86.dll"),
        lambda: (image / "a" / "web.config").write_text("<configuration><system.webServer><globalModules>"
                                                        "</globalModules></system.webServer></configuration>"),
        lambda: (image / "Windows/System32/inetsrv/config/applicationHost.config").write_text(
            TWO_POOLS.replace('enable32BitAppOnWin64="true"', 'enable32BitAppOnWin64="false"')),
    ]
    for change in changes:
        change()
        served, report = _served_whole(monkeypatch, image, cache)
        assert not served
        _, uncached = _reads(image)
        assert report == uncached
        served, again = _served_whole(monkeypatch, image, cache)
        assert served and again == uncached


def test_other_options_are_another_stored_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from iisbitness.arch import Arch

    image, cache = _image(tmp_path), tmp_path / "scan.sqlite"
    _served_whole(monkeypatch, image, cache)
    x86 = scan(image, ScanOptions(cache=cache, os_arch=Arch.X86))
    assert x86 == scan(image, ScanOptions(os_arch=Arch.X86))


def test_a_tampered_stored_report_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image, cache = _image(tmp_path), tmp_path / "scan.sqlite"
    _, first = _served_whole(monkeypatch, image, cache)
    for report, inputs in (('{"@": "Report", "server": 1}', None), ("[", None), (None, "{}"), (None, '[["x", 1]]')):
        with sqlite3.connect(cache) as db:
            if report is not None:
                db.execute("UPDATE reports SET report = ?", (report,))
            if inputs is not None:
                db.execute("UPDATE reports SET inputs = ?", (inputs,))
        served, again = _served_whole(monkeypatch, image, cache)
        assert not served and again == first


def test_the_report_codec_round_trips_every_kind_of_report_field(tmp_path: Path) -> None:
    """Fixes with edits (a union of edit types), file edits, a load map, problems: rebuilt equal."""
    from iisbitness.scan import report_cache

    image = _image(tmp_path)
    report = scan(image, ScanOptions(load_map=True, text_fixes=True))
    assert report.loads and any(f.fixes and f.fixes[0].edits for f in report.findings)
    assert report_cache.decode(report_cache.encode(report)) == report


def test_a_config_given_outside_the_image_is_an_input_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image, cache = _image(tmp_path), tmp_path / "scan.sqlite"
    outside = tmp_path / "applicationHost.config"
    outside.write_text(TWO_POOLS)

    def run() -> tuple[bool, str]:
        from iisbitness.scan import pipeline

        planned: list[bool] = []
        real = pipeline.scan_image
        monkeypatch.setattr(pipeline, "scan_image", lambda *a, **k: planned.append(True) or real(*a, **k))
        report = scan_json.render(scan(image, ScanOptions(cache=cache, config=outside)))
        monkeypatch.undo()
        return not planned, report

    run()
    assert run()[0]
    outside.write_text(TWO_POOLS.replace('enable32BitAppOnWin64="true"', 'enable32BitAppOnWin64="false"'))
    served, after = run()
    assert not served
    assert after == scan_json.render(scan(image, ScanOptions(config=outside)))
