"""A persistent cache of what was read from binaries, in one SQLite file (``scan --cache FILE``).

A second scan of an unchanged server reads no binary again: each fact (headers, imports, .NET
metadata) is stored with the file's :class:`~iisbitness.pe.facts.FileIdentity` and served only while
that identity is unchanged, so a changed file is never served stale.

Safety:
- A cache is ours only when it says so: SQLite's ``application_id`` in the file header is
  :data:`APPLICATION_ID`. Before SQLite opens anything, the path must be absent, an empty file, or a
  regular file whose first 100 bytes are a SQLite header carrying that id; anything else (another
  program's database, a text file, ``/dev/full``, a FIFO, a folder, a dangling link) is refused with a
  :class:`~iisbitness.errors.CacheError` and left byte-for-byte as it was, with nothing created beside it.
- Its schema version is ``PRAGMA user_version`` (:data:`SCHEMA_VERSION`); a cache of ours with another
  version has its tables dropped and made again, and the scan says so in ``problems``.
- Two scans may share a cache: the database runs in WAL mode with a busy timeout, and each scan
  writes its new rows in one short transaction at the end (``INSERT OR REPLACE``; the last writer wins,
  and either row is correct for its identity). A new cache gets its ``application_id`` in one
  transaction before it is switched to WAL, so that the id is in the main file for the next scan to see.
- A cache is data, never trusted: facts are stored as JSON (no pickle), every value read back is
  type-checked while it is rebuilt, and a row that does not rebuild is a miss. A cache of ours that
  fails ``PRAGMA quick_check`` or does not open as a database is moved aside (``<name>.corrupt``) and
  rebuilt; the scan says so in ``problems``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any, Self

from iisbitness.arch import Arch
from iisbitness.errors import CacheError
from iisbitness.pe.facts import Fact, FileIdentity
from iisbitness.pe.headers import version_pair
from iisbitness.pe.imports import Imports
from iisbitness.pe.metadata import AssemblyInfo, AssemblyRef, AssemblyReferences
from iisbitness.pe.types import Hybrid, ImageKind, PeImage, PlatformTarget

SCHEMA_VERSION = 3
"""``PRAGMA user_version`` of a cache: bumped whenever a stored fact's shape or meaning changes; a cache of
another version has its tables dropped and made again. (A cache made before ``application_id`` was set kept its
version in a ``meta`` table: it is refused as not ours, like any other database.) 3: the reference-assembly marker
(``PeImage.reference_assembly``, ``AssemblyReferences.is_reference_assembly``), which a fact of schema 2 lacks."""

APPLICATION_ID = 0x69697362
"""``PRAGMA application_id`` of every cache this package makes (``iisb``): the mark that a file is ours.
SQLite stores it big-endian at offset 68 of the 100-byte file header (https://www.sqlite.org/fileformat.html)."""

_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS facts (
    path TEXT NOT NULL, kind TEXT NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL, device INTEGER NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (path, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reports (key TEXT PRIMARY KEY, inputs TEXT NOT NULL, report TEXT NOT NULL);
"""


class SqliteFactStore:
    """Facts about files in a SQLite database. Use as a context manager, or call :meth:`close`.

    Args:
        path: the cache file (created when absent).

    Attributes:
        notes: what happened to the file on opening (e.g. "was corrupt: rebuilt"), for the report.

    Raises:
        CacheError: the file cannot be created or opened even after moving a damaged one aside.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.notes: list[str] = []
        self._pending: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._pending_report: tuple[str, str, str] | None = None
        self._db = self._open()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> sqlite3.Connection:
        new = self._claim()
        # NOTE: "database is locked" (an OperationalError) while another scan creates the file or switches it
        # to WAL is not damage: wait and try again; only a cache of ours that does not open as a database, or
        # fails its integrity check, is moved aside (moving a live cache would pull it from under the other scan).
        for _ in range(100):
            try:
                return self._connect(new)
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise CacheError(f"{self.path}: cannot open the cache: {e}") from e
                time.sleep(0.05)
            except sqlite3.DatabaseError as e:
                return self._rebuild(e)
            except sqlite3.Error as e:
                raise CacheError(f"{self.path}: cannot open the cache: {e}") from e
        raise CacheError(f"{self.path}: cannot open the cache: another scan keeps it locked")

    def _claim(self) -> bool:
        """Check, before SQLite opens anything, that the path is ours to use; True when it is to be made.

        Raises:
            CacheError: the path is not a regular file, or is a file that is not a cache of ours.
        """
        refuse = (f"{self.path}: not an iisbitness cache ({{}}); left as it is. "
                  "Name a new file, or delete this one if it is an old cache of iisbitness")
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if os.path.islink(self.path):
                raise CacheError(refuse.format("a symbolic link to nothing")) from None
            return True
        except OSError as e:
            raise CacheError(f"{self.path}: cannot open the cache: {e.strerror or e}") from e
        if not stat.S_ISREG(st.st_mode):
            raise CacheError(refuse.format("not a regular file"))
        if st.st_size == 0:
            return True
        try:
            with open(self.path, "rb") as f:
                header = f.read(100)
        except OSError as e:
            raise CacheError(f"{self.path}: cannot open the cache: {e.strerror or e}") from e
        if len(header) < 100 or not header.startswith(_MAGIC):
            raise CacheError(refuse.format("not a SQLite database"))
        app_id = int.from_bytes(header[68:72], "big")
        if app_id != APPLICATION_ID:
            raise CacheError(refuse.format(f"a SQLite database of another program: application_id {app_id:#x}"))
        return False

    def _rebuild(self, e: sqlite3.DatabaseError) -> sqlite3.Connection:
        """Move a damaged cache of ours aside and start an empty one."""
        aside = self.path.with_name(self.path.name + ".corrupt")
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                extra = self.path.with_name(self.path.name + suffix)
                if extra.exists():
                    os.replace(extra, aside.with_name(aside.name + suffix))
        except OSError as move:
            raise CacheError(f"{self.path}: not a usable cache ({e}), and it cannot be moved aside: {move}") from e
        self.notes.append(f"was not a usable cache ({e}): moved to {aside.name} and rebuilt")
        try:
            return self._connect(new=True)
        except sqlite3.Error as again:
            raise CacheError(f"{self.path}: cannot create a cache: {again}") from again

    def _connect(self, new: bool) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            if new:
                _initialise(db)
            app_id = db.execute("PRAGMA application_id").fetchone()
            if app_id is None or app_id[0] != APPLICATION_ID:  # NOTE: replaced since _claim looked at it
                raise _NotOurs(f"{self.path}: not an iisbitness cache (it changed while being opened); left as it is")
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode is None:
                raise sqlite3.DatabaseError("journal_mode unavailable")
            check = db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {check[0] if check else 'no answer'}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                _initialise(db, drop=True)
                self.notes.append(f"was written by another version (schema {version}): emptied")
            db.executescript(_SCHEMA)
        except _NotOurs as e:
            db.close()
            raise CacheError(str(e)) from None
        except BaseException:
            db.close()
            raise
        return db

    def get(self, path: str, kind: str, identity: FileIdentity) -> Fact | None:
        """The stored fact when its identity matches ``identity``; None otherwise (or when it does not rebuild)."""
        try:
            row = self._db.execute("SELECT size, mtime_ns, ctime_ns, inode, device, payload FROM facts "
                                   "WHERE path = ? AND kind = ?", (path, kind)).fetchone()
        except sqlite3.Error:
            return None
        if row is None or tuple(row[:5]) != (identity.size, identity.mtime_ns, identity.ctime_ns,
                                             identity.inode, identity.device):
            return None
        try:
            return _decode(kind, json.loads(row[5]))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def put(self, path: str, kind: str, identity: FileIdentity, fact: Fact) -> None:
        """Queue ``fact`` for the next :meth:`flush`."""
        self._pending[(path, kind)] = (path, kind, identity.size, identity.mtime_ns, identity.ctime_ns,
                                       identity.inode, identity.device, json.dumps(_encode(fact), sort_keys=True))

    def report(self, key: str) -> tuple[str, str] | None:
        """``(inputs, report)`` as stored for ``key`` by :meth:`put_report` (JSON texts, not checked here), or None.

        NOTE: the whole report of a scan, beside the per-file facts: ``scan --cache`` of a server none of whose
        inputs changed serves it without planning (:mod:`iisbitness.scan.report_cache`, issue 25).
        """
        try:
            row = self._db.execute("SELECT inputs, report FROM reports WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None or not isinstance(row[0], str) or not isinstance(row[1], str):
            return None
        return row[0], row[1]

    def put_report(self, key: str, inputs: str, report: str) -> None:
        """Queue a report and the identities of its inputs (JSON texts) for the next :meth:`flush`; one per key."""
        self._pending_report = (key, inputs, report)

    def flush(self) -> None:
        """Write the queued facts (and report) in one transaction. Raises CacheError when the write fails."""
        if not self._pending and self._pending_report is None:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self._pending.values())
            if self._pending_report is not None:
                self._db.execute("INSERT OR REPLACE INTO reports VALUES (?, ?, ?)", self._pending_report)
            self._db.execute("COMMIT")
        except sqlite3.Error as e:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._pending.clear()  # NOTE: reported once; closing does not try (and fail) again
            self._pending_report = None
            raise CacheError(f"{self.path}: cannot write the cache: {e}") from e
        self._pending.clear()
        self._pending_report = None

    def close(self) -> None:
        """Flush and close."""
        try:
            self.flush()
        finally:
            self._db.close()


class _NotOurs(Exception):
    """The database SQLite opened is not the cache :meth:`SqliteFactStore._claim` checked."""


def _initialise(db: sqlite3.Connection, drop: bool = False) -> None:
    """Mark an empty database (or, with ``drop``, one of ours of another version) as ours and make its tables,
    in one transaction; a database another scan marked meanwhile is left alone.

    Raises:
        _NotOurs: the database holds tables and is not marked as ours.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        if app_id == APPLICATION_ID and version == SCHEMA_VERSION:
            db.execute("COMMIT")  # NOTE: another scan made it first
            return
        if app_id != APPLICATION_ID and (tables or app_id != 0):
            raise _NotOurs("not an iisbitness cache")
        if app_id == APPLICATION_ID and drop:
            for name in tables:
                db.execute(f'DROP TABLE "{name.replace(chr(34), chr(34) * 2)}"')
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _encode(fact: Fact) -> dict[str, Any]:
    if isinstance(fact, PeImage):
        return {"path": fact.path, "kind": fact.kind.value, "machine": fact.machine, "pe32_plus": fact.pe32_plus,
                "is_dll": fact.is_dll, "cor_flags": fact.cor_flags, "platform_target": fact.platform_target.value,
                "loadable_by": sorted(a.value for a in fact.loadable_by), "reason": fact.reason,
                "notes": list(fact.notes), "hybrid": fact.hybrid.value if fact.hybrid else None,
                "clr_version": fact.clr_version, "cor_header_version": fact.cor_header_version,
                "ready_to_run_os": fact.ready_to_run_os, "ready_to_run_machine": fact.ready_to_run_machine,
                "subsystem": fact.subsystem, "os_version": _pair_out(fact.os_version),
                "subsystem_version": _pair_out(fact.subsystem_version),
                "reference_assembly": fact.reference_assembly}
    if isinstance(fact, Imports):
        return {"dlls": list(fact.dlls), "delay_dlls": list(fact.delay_dlls), "truncated": fact.truncated}
    if isinstance(fact, AssemblyReferences):
        return {"path": fact.path, "assembly_refs": [[r.name, r.version] for r in fact.assembly_refs],
                "pinvoke_modules": list(fact.pinvoke_modules), "reason": fact.reason,
                "is_reference_assembly": fact.is_reference_assembly}
    return {"path": fact.path, "name": fact.name, "version": fact.version,
            "processor_architecture": fact.processor_architecture, "target_framework": fact.target_framework,
            "is_reference_assembly": fact.is_reference_assembly,
            "assembly_refs": [[r.name, r.version] for r in fact.assembly_refs],
            "pinvoke_modules": list(fact.pinvoke_modules), "reason": fact.reason}


def _pair_out(v: tuple[int, int] | None) -> list[int] | None:
    return None if v is None else [v[0], v[1]]


def _pair_in(v: object) -> tuple[int, int] | None:
    """A PeImage's (major, minor) version pair as stored (schema 2), or None."""
    if v is None:
        return None
    if not isinstance(v, list) or len(v) != 2 or not all(
            isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 0xFFFF for x in v):
        raise TypeError("expected [major, minor] (16-bit each) or null")
    return version_pair(v[0], v[1])


def _str(v: object) -> str:
    if not isinstance(v, str):
        raise TypeError("expected a string")
    return v


def _opt(v: object, t: type) -> Any:
    if v is not None and (not isinstance(v, t) or (t is int and isinstance(v, bool))):
        raise TypeError(f"expected {t.__name__} or null")
    return v


def _strs(v: object) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise TypeError("expected a list")
    return tuple(_str(x) for x in v)


def _decode(kind: str, d: dict[str, Any]) -> Fact:
    if kind == "image":
        hybrid = _opt(d["hybrid"], str)
        return PeImage(
            path=_str(d["path"]), kind=ImageKind(d["kind"]), machine=_opt(d["machine"], int),
            pe32_plus=_opt(d["pe32_plus"], bool), is_dll=_opt(d["is_dll"], bool), cor_flags=_opt(d["cor_flags"], int),
            platform_target=PlatformTarget(d["platform_target"]),
            loadable_by=frozenset(Arch(a) for a in _strs(d["loadable_by"])), reason=_opt(d["reason"], str),
            notes=_strs(d["notes"]), hybrid=Hybrid(hybrid) if hybrid is not None else None,
            clr_version=_opt(d["clr_version"], str), cor_header_version=_opt(d["cor_header_version"], str),
            ready_to_run_os=_opt(d["ready_to_run_os"], str),
            ready_to_run_machine=_opt(d["ready_to_run_machine"], int), subsystem=_opt(d["subsystem"], int),
            os_version=_pair_in(d["os_version"]), subsystem_version=_pair_in(d["subsystem_version"]),
            reference_assembly=bool(_opt(d["reference_assembly"], bool)))
    if kind == "imports":
        return Imports(_strs(d["dlls"]), _strs(d["delay_dlls"]), bool(_opt(d["truncated"], bool)))
    if kind == "references":
        return AssemblyReferences(path=_str(d["path"]), assembly_refs=_refs(d["assembly_refs"]),
                                  pinvoke_modules=_strs(d["pinvoke_modules"]), reason=_opt(d["reason"], str),
                                  is_reference_assembly=bool(_opt(d["is_reference_assembly"], bool)))
    if kind == "assembly":
        return AssemblyInfo(
            path=_str(d["path"]), name=_opt(d["name"], str), version=_opt(d["version"], str),
            processor_architecture=_opt(d["processor_architecture"], str),
            target_framework=_opt(d["target_framework"], str),
            is_reference_assembly=bool(_opt(d["is_reference_assembly"], bool)),
            assembly_refs=_refs(d["assembly_refs"]),
            pinvoke_modules=_strs(d["pinvoke_modules"]), reason=_opt(d["reason"], str))
    raise KeyError(kind)


def _refs(v: object) -> tuple[AssemblyRef, ...]:
    if not isinstance(v, list):
        raise TypeError("expected a list")
    return tuple(AssemblyRef(_str(r[0]), _str(r[1])) for r in v)
