"""``scan --cache``: the whole report of a server none of whose inputs changed (issue 25).

The first scan with a cache stores, beside the per-file facts (:mod:`iisbitness.pe.store`), its
:class:`~iisbitness.report.Report` and the identity (:class:`~iisbitness.pe.facts.FileIdentity`, or "absent")
of every input it read: configuration files, folders listed, pages and files scanned, binaries (what the
image's :class:`~iisbitness.image.record.Recorder` saw opened and listed below the image, the folders of the
image's listing memo, :meth:`iisbitness.pe.facts.BinaryFacts.inputs` for the binaries answered from the cache
unopened, and a ``--config`` file outside the image). A later scan with the same
options and the same iisbitness code stats those inputs; when every one is unchanged it returns the stored
report without reading or planning anything, else it scans again (reading only changed binaries).

A folder's identity changes when an entry is added, removed or renamed in it (POSIX: its mtime and ctime), a
file's when its content or metadata is written (``FileIdentity``), so a file the scan looked for and did not
find, or a new web.config or DLL in a folder it listed, makes the stored report stale.

A collected zip (``scan server.zip --cache``) is laid out in a new temporary folder each time: its report is
keyed by the zip's manifest instead, and its binaries' facts by their sha256 (:func:`iisbitness.scan.collect.scan_collected`).

The report is stored as JSON (never pickle) and rebuilt field by field against the dataclasses' type hints;
anything that does not rebuild is a miss.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import types
import typing
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any, cast

import iisbitness
from iisbitness.pe.facts import FileIdentity
from iisbitness.report import Report

_TAG = "@"


def code_fingerprint() -> str:
    """Size and modification time of every module of the iisbitness package: another build, another key."""
    return _code_fingerprint()


@cache
def _code_fingerprint() -> str:
    root = Path(iisbitness.__file__).parent
    h = hashlib.sha256(iisbitness.__version__.encode())
    for p in sorted(root.rglob("*")):
        if p.suffix in (".py", ".toml", ".json", ".j2"):
            st = p.stat()
            h.update(f"{p.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def identities(paths: Iterable[str]) -> list[list[Any]]:
    """``[path, size, mtime_ns, ctime_ns, inode, device]`` per path, ``[path]`` for one that cannot be stat'ed."""
    out: list[list[Any]] = []
    for p in paths:
        i = FileIdentity.of(p)  # NOTE: the string as stored: no Path per input (issue 25: 8,830 of them a rescan)
        out.append([p] if i is None else [p, i.size, i.mtime_ns, i.ctime_ns, i.inode, i.device])
    return out


def unchanged(stored: str) -> bool:
    """True when every input in ``stored`` (the JSON of :func:`identities`) still has that identity."""
    try:
        rows = json.loads(stored)
        if not isinstance(rows, list):
            return False
        for row in rows:
            if not isinstance(row, list) or not row or not isinstance(row[0], str):
                return False
            now = FileIdentity.of(row[0])
            if (now is None) != (len(row) == 1):
                return False
            if now is not None and row[1:] != [now.size, now.mtime_ns, now.ctime_ns, now.inode, now.device]:
                return False
    except (ValueError, TypeError):
        return False
    return True


def encode(report: Report) -> str:
    """The report as JSON: each dataclass an object with its fields and its class name (for unions)."""
    return json.dumps(_enc(report), separators=(",", ":"))


def decode(text: str) -> Report | None:
    """The report :func:`encode` wrote, checked against the type hints as it is rebuilt; None if it does not fit."""
    try:
        got = _dec(json.loads(text), Report)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    return got if isinstance(got, Report) else None


def _enc(v: object) -> object:
    if isinstance(v, enum.Enum):
        return v.value
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        out: dict[str, object] = {_TAG: type(v).__name__}
        for f in dataclasses.fields(v):
            if f.init:
                out[f.name] = _enc(getattr(v, f.name))
        return out
    if isinstance(v, tuple | list):
        return [_enc(x) for x in v]
    if v is None or isinstance(v, str | int | float | bool):
        return v
    raise TypeError(f"cannot store {type(v).__name__} in a cached report")


@cache
def _hints(cls: type) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    return {k: v for k, v in typing.get_type_hints(cls).items() if k in names}


@cache
def _classes(hint: object) -> dict[str, type]:
    """The dataclasses a hint allows, by name."""
    found: dict[str, type] = {}
    args = typing.get_args(hint)
    for a in (args if args else (hint,)):
        if isinstance(a, type) and dataclasses.is_dataclass(a):
            found[a.__name__] = a
        elif typing.get_args(a):
            found.update(_classes(a))
    return found


def _dec(v: object, hint: Any) -> object:
    """``v`` rebuilt as ``hint`` says (:func:`_decoder`). Raises TypeError, ValueError (an enum's value),
    KeyError or AttributeError where it does not fit."""
    return _decoder(hint)(v)


@cache
def _decoder(hint: Any) -> Callable[[object], object]:
    """The function that rebuilds a JSON value as ``hint`` says, made once per hint (issue 25: a rescan's stored report
    is tens of thousands of values; asking ``typing`` about the hint of each cost most of a ``--cache`` rescan). The
    decoders of a union's members and a dataclass's fields are made at their first use, so a hint no value reaches
    is never looked at, and one that cannot be rebuilt raises TypeError where a value reaches it, as before."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(hint)
        nullable = type(None) in args
        others = tuple(a for a in args if a is not type(None))

        def union(v: object) -> object:
            if v is None and nullable:
                return None
            if isinstance(v, dict):
                cls = _classes(hint).get(str(v.get(_TAG)))
                if cls is None:
                    raise TypeError(f"no {v.get(_TAG)!r} in {hint}")
                return _decoder(cls)(v)
            for a in others:
                try:
                    return _decoder(a)(v)
                except (TypeError, ValueError):
                    continue
            raise TypeError(f"{v!r} is not {hint}")
        return union
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            item = args[0]

            def many(v: object) -> object:
                if not isinstance(v, list):
                    raise TypeError("expected a list")
                return tuple(map(_decoder(item), v))
            return many

        def fixed(v: object) -> object:
            if not isinstance(v, list):
                raise TypeError("expected a list")
            if len(args) != len(v):
                raise TypeError("tuple of another length")
            return tuple(_decoder(a)(x) for x, a in zip(v, args, strict=True))
        return fixed
    if hasattr(hint, "__supertype__"):  # NOTE: a NewType (RuleId)
        return _decoder(hint.__supertype__)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return cast(Callable[[object], object], hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_decoder(hint)
    if hint is bool:
        def boolean(v: object) -> object:
            if not isinstance(v, bool):
                raise TypeError("expected a boolean")
            return v
        return boolean
    if hint is int:
        def integer(v: object) -> object:
            if not isinstance(v, int) or isinstance(v, bool):
                raise TypeError("expected an integer")
            return v
        return integer
    if hint is str:
        def string(v: object) -> object:
            if not isinstance(v, str):
                raise TypeError("expected a string")
            return v
        return string
    if hint is type(None) or hint is None:
        def null(v: object) -> object:
            if v is not None:
                raise TypeError("expected null")
            return None
        return null

    def unknown(v: object) -> object:
        raise TypeError(f"cannot rebuild {hint}")
    return unknown


def _dataclass_decoder(cls: type) -> Callable[[object], object]:
    """:func:`_decoder` of a dataclass: an object tagged with its name, no field it does not have; its fields'
    decoders looked up at the first object rebuilt."""
    fields = _hints(cls)
    names = set(fields) | {_TAG}
    name = cls.__name__
    decoders: list[tuple[str, Callable[[object], object]]] = []

    def obj(v: object) -> object:
        if not isinstance(v, dict) or v.get(_TAG) != name:
            raise TypeError(f"expected {name}")
        if not names.issuperset(v):
            raise TypeError("unknown field")
        if not decoders:
            decoders.extend((k, _decoder(h)) for k, h in fields.items())
        return cls(**{k: d(v[k]) for k, d in decoders if k in v})
    return obj
