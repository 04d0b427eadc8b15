"""A rescan (the bin files in the page cache) of :data:`prefetch.WARM_START_FILES` files or more, on two cores, starts
the helper only to parse (issue 25, twelfth round); on one core, or with fewer files given before the parser's first
read, or on a machine whose load average leaves no core free, no helper starts, as before. Real image, real assemblies, the report unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_metadata_dnfile import FIXTURES, REAL
from test_prefetch import _reaped, linux
from test_prefetch_parse import _plain

from iisbitness.api import ScanOptions, scan
from iisbitness.formats import scan_json
from iisbitness.pe import prefetch, readahead
from iisbitness.pe.prefetch import Prefetch
from tests.conftest import apphost, make_image, site

_PER_BIN = 60
"""Files in each of the two ``bin`` folders: one folder is fewer than the threshold these tests set, both are more."""


def _warm_image(tmp_path: Path) -> tuple[Path, list[Path]]:
    """An image of two sites whose ``bin`` folders hold :data:`_PER_BIN` plain assemblies each, every file read (in
    the page cache), and those files."""
    plain = [p for p in FIXTURES + REAL[:: max(1, len(REAL) // 300)] if p.is_file() and _plain(p)][:_PER_BIN]
    assert len(plain) == _PER_BIN
    pools = '<add name="P64" managedRuntimeVersion="v4.0" /><add name="P32" enable32BitAppOnWin64="true" />'
    sites = site("A", 1, "P64", "C:\\sites\\a") + site("B", 2, "P32", "C:\\sites\\b")
    files: dict[str, str | Path | bytes] = {f"sites/{f}/bin/lib{i}.dll": p for f in "ab" for i, p in enumerate(plain)}
    image = make_image(tmp_path / "img", apphost(pools, sites), files)
    binaries = sorted((image / "sites").glob("*/bin/*.dll"))
    for b in binaries:
        b.read_bytes()
    assert prefetch._warm([str(b) for b in binaries[:: len(binaries) // 8]]), "files just read not in the page cache"
    return image, binaries


def _scan(image: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Prefetch]:
    """The JSON report of a scan of ``image`` and the read-ahead it used."""
    from iisbitness.scan import pipeline

    made: list[Prefetch] = []
    monkeypatch.setattr(pipeline, "read_ahead", lambda: made.append(Prefetch()) or made[-1])
    report = scan_json.render(scan(image, ScanOptions()))
    assert len(made) == 1
    return report, made[0]


@linux
@pytest.mark.parametrize("cores", [2, 4])
def test_a_large_rescan_on_two_cores_starts_a_helper_that_parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 cores: int) -> None:
    """Both ``bin`` folders (120 files) are given before the parser's first read, more than the threshold (100; the
    first folder, where the files are found warm, is not): the helper starts, its answers are taken, and the report is the one read without reading ahead."""
    image, binaries = _warm_image(tmp_path)
    monkeypatch.setattr(readahead, "THREADS", 0)
    alone = scan_json.render(scan(image, ScanOptions()))
    monkeypatch.undo()
    monkeypatch.setattr(prefetch, "START_FILES", 50)  # NOTE: decided at the first folder, then started at the second
    monkeypatch.setattr(prefetch, "WARM_START_FILES", 100)
    monkeypatch.setattr(readahead, "usable_cores", lambda: cores)
    monkeypatch.setattr(prefetch, "_core_free", lambda: True)
    report, ahead = _scan(image, monkeypatch)
    assert report == alone
    assert ahead.files == len(binaries) and ahead.pid > 0 and ahead.parses
    assert ahead.answered > 0, "the helper answered no file of a warm scan"
    assert _reaped(ahead.pid)


@linux
def test_a_rescan_on_one_core_starts_no_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On one core the helper's parse would take the parser's own time: no helper, however many files."""
    image, _ = _warm_image(tmp_path)
    monkeypatch.setattr(prefetch, "WARM_START_FILES", 100)
    monkeypatch.setattr(readahead, "usable_cores", lambda: 1)
    monkeypatch.setattr(prefetch, "_core_free", lambda: True)
    _, ahead = _scan(image, monkeypatch)
    assert ahead.started and ahead.stopped and ahead.pid == 0 and not ahead.parses


@linux
def test_a_rescan_on_a_loaded_machine_starts_no_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two cores, enough files, but a load average that leaves no core free: no helper (it would wait for a core)."""
    image, _ = _warm_image(tmp_path)
    monkeypatch.setattr(prefetch, "WARM_START_FILES", 100)
    monkeypatch.setattr(readahead, "usable_cores", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (float(os.cpu_count() or 1), 0.0, 0.0))
    _, ahead = _scan(image, monkeypatch)
    assert ahead.started and ahead.stopped and ahead.pid == 0 and ahead.parses


@linux
def test_a_small_rescan_starts_no_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer files given before the parser's first read than the threshold: the decision waits for more, and the
    first read ends it (no helper); the report is the one read without reading ahead."""
    image, binaries = _warm_image(tmp_path)
    monkeypatch.setattr(readahead, "THREADS", 0)
    alone = scan_json.render(scan(image, ScanOptions()))
    monkeypatch.undo()
    monkeypatch.setattr(prefetch, "WARM_START_FILES", len(binaries) + 1)
    monkeypatch.setattr(readahead, "usable_cores", lambda: 2)
    monkeypatch.setattr(prefetch, "_core_free", lambda: True)
    report, ahead = _scan(image, monkeypatch)
    assert report == alone
    assert ahead.started and ahead.stopped and ahead.pid == 0 and ahead.files == len(binaries)
    waiting = Prefetch()
    monkeypatch.setattr(prefetch, "WARM_START_FILES", 100)
    try:
        waiting.files_ahead(binaries[: prefetch.START_FILES])  # NOTE: enough to decide, fewer than 100
        assert waiting.started and not waiting.stopped and waiting.pid == 0, "decided before the threshold"
        assert waiting.take(binaries[0]) is None
        assert waiting.stopped and waiting.pid == 0, "a first read left the decision open"
    finally:
        waiting.close()


@pytest.mark.parametrize(("cores", "running", "load", "free"), [
    (2, 1, 1.3, True),    # NOTE: a quiet two-core machine that has just scanned: its own load, no other task now
    (2, 2, 0.2, False),   # NOTE: another task runnable now
    (2, 1, 2.4, False),   # NOTE: busy over the last minute, a quiet moment now
    (1, 1, 0.0, False),   # NOTE: one core: the helper would take the parser's
    (4, 3, 2.5, True),    # NOTE: two others on four cores: a core left
    (4, 4, 2.5, False),
    (2, None, 0.5, True),  # NOTE: no running count (not Linux): the load average alone, below the cores less one
    (2, None, 1.3, False),
])
def test_a_core_is_free_when_nothing_else_runs_now_and_the_minute_was_not_busy(
        monkeypatch: pytest.MonkeyPatch, cores: int, running: int | None, load: float, free: bool) -> None:
    """The warm start's test of a free core: a moment's running count (this process among them) and the one-minute
    load average (which holds this process's own recent scan), against the cores this process may use."""
    monkeypatch.setattr(readahead, "usable_cores", lambda: cores)
    monkeypatch.setattr(prefetch, "_running", lambda: running)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, 0.0, 0.0))
    assert prefetch._core_free() is free


@linux
def test_the_running_count_holds_this_process() -> None:
    """Read from this machine's ``/proc/loadavg``: this process is running while it reads it."""
    running = prefetch._running()
    assert running is not None and running >= 1
