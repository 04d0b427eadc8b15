"""``scan --cache FILE`` uses only its own databases (issue 26): another program's SQLite file, a text file or a
path that is not a regular file is refused with exit 2, left byte-for-byte as it was, nothing created beside it."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from iisbitness.pe.store import APPLICATION_ID
from tests.conftest import apphost, make_image, site

CONFIG = apphost('<add name="P64" managedRuntimeVersion="v4.0" />', site("A", 1, "P64", r"C:\a"))


def _scan(tmp_path: Path, cache: Path) -> tuple[int, str]:
    image = make_image(tmp_path / "img", CONFIG, {"a/bin/managed_x86.dll": "managed_x86.dll"})
    res = CliRunner().invoke(main, ["scan", str(image), "--cache", str(cache), "--quiet"])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.output


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _foreign_db(path: Path, tables: str) -> None:
    db = sqlite3.connect(path)
    db.executescript(tables)
    db.commit()
    db.close()


@pytest.mark.parametrize("tables", [
    # a cache of version 1 looked like this, and so may another program's database
    ("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schema', '1');"
     "CREATE TABLE facts (path TEXT, kind TEXT); INSERT INTO facts VALUES ('keep', 'me');"),
    "CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('Ada');",
    "PRAGMA application_id = 1096041805; CREATE TABLE t (x); INSERT INTO t VALUES (1);",
    "PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);",
], ids=["meta-and-facts", "contacts", "other-application-id", "other-wal"])
def test_another_programs_database_is_refused_and_left_as_it_was(tmp_path: Path, tables: str) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    cache = folder / "app.db"
    _foreign_db(cache, tables)
    before = _listing(folder)
    code, out = _scan(tmp_path, cache)
    assert code == 2
    assert "app.db: not an iisbitness cache" in out and "left as it is" in out
    assert _listing(folder) == before


def test_a_text_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    cache = tmp_path / "notes.txt"
    cache.write_bytes(b"my notes, not a database\n" * 50)
    before = cache.read_bytes()
    code, out = _scan(tmp_path, cache)
    assert code == 2 and "notes.txt: not an iisbitness cache (not a SQLite database)" in out
    assert cache.read_bytes() == before
    assert not (tmp_path / "notes.txt.corrupt").exists()


def test_dev_full_is_refused_before_sqlite_creates_a_journal_beside_it(tmp_path: Path) -> None:
    journal = Path("/dev/full-journal")
    existed = journal.exists()
    code, out = _scan(tmp_path, Path("/dev/full"))
    assert code == 2 and "/dev/full: not an iisbitness cache (not a regular file)" in out
    assert journal.exists() == existed


def test_a_fifo_and_a_dangling_link_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "cache.fifo"
    os.mkfifo(fifo)
    code, out = _scan(tmp_path, fifo)
    assert code == 2 and "not a regular file" in out
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    link = tmp_path / "cache.link"
    link.symlink_to(tmp_path / "elsewhere.db")
    code, out = _scan(tmp_path, link)
    assert code == 2 and "a symbolic link to nothing" in out
    assert not (tmp_path / "elsewhere.db").exists()


def test_a_new_or_empty_file_becomes_a_cache_marked_as_ours(tmp_path: Path) -> None:
    for cache in (tmp_path / "new.db", tmp_path / "empty.db"):
        if cache.name == "empty.db":
            cache.touch()
        code, _ = _scan(tmp_path, cache)
        assert code == 1  # the x86 assembly in a 64-bit pool
        assert cache.read_bytes()[68:72] == APPLICATION_ID.to_bytes(4, "big")  # in the main file, not only the WAL
        with sqlite3.connect(cache) as db:
            assert db.execute("SELECT count(*) FROM facts").fetchone()[0] > 0
        code, _ = _scan(tmp_path, cache)
        assert code == 1
