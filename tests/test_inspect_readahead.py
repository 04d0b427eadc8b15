"""``inspect`` of a cold folder: the scan's helper process (:class:`iisbitness.pe.prefetch.Prefetch`) is given the
walk's files, told of each as it is read, and ended, also when the read fails; a warm folder starts none (issue 25,
inspectcold). On copies of the real PE fixtures in a temporary folder, evicted from the page cache."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import pytest

from iisbitness.pe import prefetch, readahead, walk
from iisbitness.pe.readahead import Parsed
from iisbitness.pe.walk import InspectedFile, inspect_paths, iter_candidate_files
from tests.pe.test_prefetch import _evicted, _reaped

BIN = Path(__file__).parent / "fixtures" / "pe" / "bin"

needs_fork = pytest.mark.skipif(not (prefetch.CAN_FORK and hasattr(os, "RWF_NOWAIT")),
                                reason="the helper needs fork, posix_fadvise and preadv(RWF_NOWAIT) (Linux)")


class Recorded(prefetch.Prefetch):
    """The real helper, recording what it is given, told and whether it was closed."""

    made: ClassVar[list[Recorded]] = []

    def __init__(self, parse: bool | None = None) -> None:
        super().__init__(parse)
        self.parse_asked = parse
        self.given: list[str] = []
        self.taken: list[str] = []
        self.closed = False
        Recorded.made.append(self)

    def files_ahead(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        paths = list(paths)
        self.given += [os.fspath(p) for p in paths]
        super().files_ahead(paths)

    def take(self, path: str | os.PathLike[str]) -> Parsed | None:
        self.taken.append(os.fspath(path))
        return super().take(path)

    def close(self) -> None:
        self.closed = True
        super().close()


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> type[Recorded]:
    Recorded.made = []
    monkeypatch.setattr(prefetch, "Prefetch", Recorded)
    return Recorded


def _folder(tmp: Path) -> Path:
    """Two copies of the fixture binaries (118 files, more than the helper's START_FILES) and a text file."""
    for sub in ("a", "b"):
        shutil.copytree(BIN, tmp / "site" / sub)
    (tmp / "site" / "a" / "readme.txt").write_text("not a binary\n")
    return tmp / "site"


def _evict(folder: Path) -> None:
    """Written to the disk and dropped from the page cache; skipped where that cannot be done (tmpfs)."""
    _evicted(sorted(p for p in folder.rglob("*") if p.is_file() and p.stat().st_size))  # NOTE: no pages: not mapped


def _walked(folder: Path) -> list[str]:
    return [os.fspath(item[0]) for item in iter_candidate_files([folder]) if not isinstance(item, InspectedFile)]


@needs_fork
def test_cold_folder_gives_the_helper_the_walk_and_ends_it(tmp_path: Path, recorded: type[Recorded]) -> None:
    folder = _folder(tmp_path)
    _evict(folder)
    got = inspect_paths([folder])
    [helper] = recorded.made
    assert helper.parse_asked is False  # NOTE: its parse reads what the scan needs, not what inspect shows
    assert helper.given == _walked(folder)  # NOTE: every file the walk reads, in the order it reads them
    assert helper.taken == helper.given
    assert helper.closed and helper.stopped
    assert helper.pid > 0 and _reaped(helper.pid)
    assert got == inspect_paths([folder], read_ahead=False)  # NOTE: the same results, with or without it
    assert len(recorded.made) == 1


@needs_fork
def test_helper_ended_when_the_read_fails(tmp_path: Path, recorded: type[Recorded]) -> None:
    folder = _folder(tmp_path)
    _evict(folder)
    seen: list[Path] = []

    def interrupted(path: Path) -> None:
        seen.append(path)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        inspect_paths([folder], on_file=interrupted)
    [helper] = recorded.made
    assert helper.closed and len(helper.taken) == 2
    assert helper.pid > 0 and _reaped(helper.pid)


@needs_fork
def test_warm_folder_starts_no_helper(tmp_path: Path, recorded: type[Recorded]) -> None:
    folder = _folder(tmp_path)
    inspect_paths([folder], read_ahead=False)  # NOTE: every file read: in the page cache
    inspect_paths([folder])
    assert recorded.made == []


def test_few_files_or_read_ahead_off_start_no_helper(tmp_path: Path, recorded: type[Recorded]) -> None:
    shutil.copytree(BIN, tmp_path / "bin")
    assert len(_walked(tmp_path)) < walk.AHEAD_FILES
    inspect_paths([tmp_path])
    folder = _folder(tmp_path / "more")
    inspect_paths([folder], read_ahead=False)
    assert recorded.made == []


def test_thresholds_are_the_helpers() -> None:
    assert walk.AHEAD_FILES == prefetch.START_FILES
    assert walk._AHEAD_SAMPLE == prefetch.WARM_SAMPLE


def test_parse_false_only_brings_in() -> None:
    assert prefetch.Prefetch(parse=False).parses is False
    assert prefetch.Prefetch(parse=True).parses is (readahead.usable_cores() >= 2)
