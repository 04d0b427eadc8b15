""".NET assembly metadata: name, version, references, P/Invoke targets, markers.

Public API:
    read_assembly_info(path) -> AssemblyInfo          never raises for content; ``reason`` says what failed
    assembly_info_from_bytes(data, path) -> AssemblyInfo   the same for bytes in memory
    assembly_info_from_source(src, path, headers) -> AssemblyInfo   over a Source already open
    read_assembly_references(path) -> AssemblyReferences    only what the dependency search needs
    references_from_source(src, path, headers) -> AssemblyReferences   the same over a Source already open

A small ECMA-335 reader of its own (no dnfile, which builds every table of the file and took
seconds on a 5 MB framework assembly). It reads the PE headers and the COR20 header through a
:class:`~iisbitness.pe.source.Source`, then the metadata region in one positioned read (what a scan reads,
:func:`plain_references`, reads a long region in parts), and from it only what it needs:

- the metadata root (II.24.2.1: ``BSJB``, version string, stream count) and stream headers
  (II.24.2.2); the last stream of each name wins, as in the runtime;
- the ``#~`` (or uncompressed ``#-``) stream header (II.24.2.6): HeapSizes, Valid and Sorted masks,
  row counts; row sizes follow from them (II.22 column lists, II.24.2.6 index widths), which gives
  each table's offset;
- the rows of Assembly (0x20, II.22.2), AssemblyRef (0x23, II.22.5), ImplMap (0x1C, II.22.22) and
  its ModuleRef (0x1A, II.22.31) names, and the CustomAttribute rows (0x0C, II.22.10) whose Parent
  is the Assembly row: found by binary search on the Parent column, which II.22 requires sorted,
  so the other attributes are never touched; their constructor is resolved through MemberRef
  (0x0A, II.22.25) or MethodDef (0x06, II.22.26, owner found through TypeDef.MethodList) to a
  TypeRef (0x01, II.22.38) or TypeDef (0x02, II.22.37) name;
- strings from ``#Strings`` (II.24.2.3) and the TargetFrameworkAttribute argument from ``#Blob``
  (II.24.2.4, custom attribute blobs II.23.3).

Every offset is checked against the bytes read, so malformed input ends as ``reason`` ("metadata
unreadable: <why>"), never as an exception or an allocation larger than the metadata region.
All architecture decisions stay in :mod:`iisbitness.pe.classify`.

Sources: ECMA-335 6th edition partition II (sections above); "CorAssemblyFlags" for the
processor-architecture field (facts sheet I9); the ReferenceAssemblyAttribute marker (I9).
"""

from __future__ import annotations

import bisect
import errno
import functools
import itertools
import operator
import os
import stat
import struct
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from iisbitness.errors import ImageReadError
from iisbitness.pe.clr import Cor20, has_clr_header, read_cor20
from iisbitness.pe.headers import Headers, parse_headers
from iisbitness.pe.source import MAX_READ, Source, open_binary
from iisbitness.slots import direct_init

MAX_METADATA_FILE = 64 << 20
"""Files larger than this are not read for metadata: no real assembly comes near it (the largest
framework assemblies are about 15 MB), and the metadata region is read whole into memory."""

PROCESSOR_ARCHITECTURES: dict[int, str] = {
    0x00: "None",
    0x10: "MSIL",
    0x20: "x86",
    0x30: "IA64",
    0x40: "AMD64",
    0x50: "ARM",
    0x70: "NoPlatform",
}
"""CorAssemblyFlags afPA_* values (mask 0x70) by name."""

_TARGET_FRAMEWORK = (b"System.Runtime.Versioning", b"TargetFrameworkAttribute")
_REFERENCE_ASSEMBLY = (b"System.Runtime.CompilerServices", b"ReferenceAssemblyAttribute")
_MARKER = _REFERENCE_ASSEMBLY[1] + b"\0"
"""The marker's type name as #Strings holds it (ECMA-335 II.24.2.3: UTF-8, NUL-terminated), whole or as a tail."""

# Table numbers (II.22).
_MODULE, _TYPEREF, _TYPEDEF, _METHODPTR, _METHODDEF, _MEMBERREF, _CUSTOMATTRIBUTE = 0x00, 0x01, 0x02, 0x05, 0x06, 0x0A, 0x0C
_MODULEREF, _IMPLMAP, _ASSEMBLY, _ASSEMBLYREF = 0x1A, 0x1C, 0x20, 0x23

_CODED: dict[str, tuple[int, tuple[int | None, ...]]] = {
    "TypeDefOrRef": (2, (0x02, 0x01, 0x1B)),
    "HasConstant": (2, (0x04, 0x08, 0x17)),
    "HasCustomAttribute": (5, (0x06, 0x04, 0x01, 0x02, 0x08, 0x09, 0x0A, 0x00, 0x0E, 0x17, 0x14, 0x11, 0x1A,
                               0x1B, 0x20, 0x23, 0x26, 0x27, 0x28, 0x2A, 0x2C, 0x2B)),
    "HasFieldMarshal": (1, (0x04, 0x08)),
    "HasDeclSecurity": (2, (0x02, 0x06, 0x20)),
    "MemberRefParent": (3, (0x02, 0x01, 0x1A, 0x06, 0x1B)),
    "HasSemantics": (1, (0x14, 0x17)),
    "MethodDefOrRef": (1, (0x06, 0x0A)),
    "MemberForwarded": (1, (0x04, 0x06)),
    "CustomAttributeType": (3, (None, None, 0x06, 0x0A, None)),
    "ResolutionScope": (2, (0x00, 0x1A, 0x23, 0x01)),
}
"""Coded indexes (II.24.2.6): tag bits and the tables by tag (None: a tag no table uses)."""

_CODED_LIMITS = tuple((1 << (16 - bits), tuple(t for t in targets if t is not None)) for bits, targets in _CODED.values())
"""Per coded index: the row count from which it takes 4 bytes, and its tables."""
_CODED_BY_TABLE: dict[int, tuple[tuple[int, int], ...]] = {
    t: tuple((kind, limit) for kind, (limit, targets) in enumerate(_CODED_LIMITS) if t in targets)
    for t in {t for _, targets in _CODED_LIMITS for t in targets}}
"""Per table: the coded indexes that can point into it (their place in :data:`_CODED` order) and the row count of
the table from which each takes 4 bytes."""

_SMALL_TABLES = 1 << 11
"""Below this many rows in every table, every coded index (at most 5 tag bits) and every simple
index is 2 bytes wide: the layout then depends on HeapSizes alone (the common case)."""
_NARROW = (2,) * len(_CODED)

_MAX_OCCURRENCES = 64
"""A real #Strings heap holds an attribute name once (or a few times as the tail of others)."""

_NOWHERE: frozenset[int] = frozenset()

_MASKS = 2048
"""Valid masks (and HeapSizes) whose plans are cached: the 9,648 binaries of the scan benchmark have 241 masks, the
8,000 files of inspect's 470, which a cache of 256 (before issue 25's thirteenth round) dropped and made again, 300
times a pass. An entry is a few hundred bytes."""

_HAS_CA_ASSEMBLY = (1 << 5) | 14
"""HasCustomAttribute value of Assembly row 1: the Parent of every assembly-level attribute."""

_COLUMNS: tuple[tuple[int | str, ...], ...] = (
    (2, "S", "G", "G", "G"),                  # 0x00 Module
    ("ResolutionScope", "S", "S"),            # 0x01 TypeRef
    (4, "S", "S", "TypeDefOrRef", 0x104, 0x106),  # 0x02 TypeDef: Flags, Name, Namespace, Extends, FieldList, MethodList
    (0x104,),                                 # 0x03 FieldPtr
    (2, "S", "B"),                            # 0x04 Field
    (0x106,),                                 # 0x05 MethodPtr
    (4, 2, 2, "S", "B", 0x108),               # 0x06 MethodDef
    (0x108,),                                 # 0x07 ParamPtr
    (2, 2, "S"),                              # 0x08 Param
    (0x102, "TypeDefOrRef"),                  # 0x09 InterfaceImpl
    ("MemberRefParent", "S", "B"),            # 0x0A MemberRef
    (2, "HasConstant", "B"),                  # 0x0B Constant (Type and its padding byte as one u16)
    ("HasCustomAttribute", "CustomAttributeType", "B"),  # 0x0C CustomAttribute
    ("HasFieldMarshal", "B"),                 # 0x0D FieldMarshal
    (2, "HasDeclSecurity", "B"),              # 0x0E DeclSecurity
    (2, 4, 0x102),                            # 0x0F ClassLayout
    (4, 0x104),                               # 0x10 FieldLayout
    ("B",),                                   # 0x11 StandAloneSig
    (0x102, 0x114),                           # 0x12 EventMap
    (0x114,),                                 # 0x13 EventPtr
    (2, "S", "TypeDefOrRef"),                 # 0x14 Event
    (0x102, 0x117),                           # 0x15 PropertyMap
    (0x117,),                                 # 0x16 PropertyPtr
    (2, "S", "B"),                            # 0x17 Property
    (2, 0x106, "HasSemantics"),               # 0x18 MethodSemantics
    (0x102, "MethodDefOrRef", "MethodDefOrRef"),  # 0x19 MethodImpl
    ("S",),                                   # 0x1A ModuleRef
    ("B",),                                   # 0x1B TypeSpec
    (2, "MemberForwarded", "S", 0x11A),       # 0x1C ImplMap
    (4, 0x104),                               # 0x1D FieldRVA
    (4, 4),                                   # 0x1E EncLog
    (4,),                                     # 0x1F EncMap
    (4, 2, 2, 2, 2, 4, "B", "S", "S"),        # 0x20 Assembly
    (4,),                                     # 0x21 AssemblyProcessor
    (4, 4, 4),                                # 0x22 AssemblyOS
    (2, 2, 2, 2, 4, "B", "S", "S", "B"),      # 0x23 AssemblyRef
)
"""Columns of tables 0x00-0x23 (II.22): a byte width, "S"/"G"/"B" for a #Strings/#GUID/#Blob
index, a coded-index name, or 0x100 + table number for a simple index into that table. Tables
past AssemblyRef are never read, and their rows lie after it, so their columns are not needed."""


class MetadataError(ValueError):
    """The metadata is malformed; ``str(e)`` says what failed (it becomes ``reason``)."""


@dataclass(frozen=True, slots=True)
class AssemblyRef:
    """One AssemblyRef row: ``name`` and ``version`` ("4.0.0.0")."""

    name: str
    version: str


@dataclass(frozen=True, slots=True)
class AssemblyInfo:
    """What the metadata tables say about an assembly.

    Attributes:
        path: the file read.
        name: Assembly row name, or None for a module without an Assembly row (or on failure).
        version: "major.minor.build.revision".
        processor_architecture: afPA_* name from the Assembly row flags ("None" when unset, the
            usual case for compiler output).
        target_framework: TargetFrameworkAttribute's first argument (".NETFramework,Version=v4.7.2").
        is_reference_assembly: the assembly carries ReferenceAssemblyAttribute (cannot execute, I9).
        assembly_refs: AssemblyRef rows, in table order.
        pinvoke_modules: ModuleRef names used by ImplMap rows (``[DllImport("nativelib")]``), sorted.
        reason: why the metadata could not be read, else None.
    """

    path: str
    name: str | None = None
    version: str | None = None
    processor_architecture: str | None = None
    target_framework: str | None = None
    is_reference_assembly: bool = False
    assembly_refs: tuple[AssemblyRef, ...] = field(default=())
    pinvoke_modules: tuple[str, ...] = field(default=())
    reason: str | None = None


@direct_init  # NOTE: one is built per scanned assembly (issue 25)
@dataclass(frozen=True, slots=True)
class AssemblyReferences:
    """What the dependency search (:mod:`iisbitness.pe.deps`) needs from an assembly's metadata: what it references.

    NOTE: a scan reads this rather than :class:`AssemblyInfo`: finding the assembly's own attributes
    (target framework) was a sixth of a scan's time, and only ``inspect`` shows them. The reference-assembly marker
    is read in the same pass, at the cost of one search of the ``#Strings`` heap (a build's ``bin`` holding one
    fails at run time, bin-reference-assembly).

    Attributes:
        path, assembly_refs, pinvoke_modules, reason, is_reference_assembly: as in :class:`AssemblyInfo`.
    """

    path: str
    assembly_refs: tuple[AssemblyRef, ...] = field(default=())
    pinvoke_modules: tuple[str, ...] = field(default=())
    reason: str | None = None
    is_reference_assembly: bool = False

    @classmethod
    def of(cls, info: AssemblyInfo) -> AssemblyReferences:
        """The references part of ``info``."""
        return cls(info.path, info.assembly_refs, info.pinvoke_modules, info.reason, info.is_reference_assembly)


def read_assembly_info(path: str | os.PathLike[str]) -> AssemblyInfo:
    """Read the metadata of the assembly at ``path``.

    Returns an :class:`AssemblyInfo`; when the file is not .NET or the metadata is broken, its
    ``reason`` says so ("no .NET metadata", "metadata unreadable: <why>").

    Raises:
        ImageReadError: the file cannot be opened or read.
    """
    return _read_file(path, attributes=True)


def read_assembly_references(path: str | os.PathLike[str]) -> AssemblyReferences:
    """Like :func:`read_assembly_info`, only the references (:class:`AssemblyReferences`). Raises ImageReadError."""
    return AssemblyReferences.of(_read_file(path, attributes=False))


def _read_file(path: str | os.PathLike[str], *, attributes: bool) -> AssemblyInfo:
    name, fd = open_binary(path)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(st.st_mode):
            # NOTE: a FIFO or device: nothing to read without waiting (issue 7)
            return AssemblyInfo(name, reason="metadata unreadable: not a regular file")
        if st.st_size > MAX_METADATA_FILE:
            return AssemblyInfo(name, reason=f"larger than {MAX_METADATA_FILE >> 20} MB; metadata not read")
        return _read(Source.from_fd(fd, st.st_size), name, attributes=attributes)
    except OSError as e:
        raise ImageReadError(f"{name}: cannot read: {e.strerror or e}") from e
    finally:
        os.close(fd)


def assembly_info_from_source(src: Source, path: str, headers: Headers | None = None,
                              cor: Cor20 | None = None) -> AssemblyInfo:
    """Like :func:`read_assembly_info` over a Source already open (one open for headers and
    metadata: :func:`iisbitness.pe.classify.read_image_and_assembly`), with its headers and COR20 header when
    already read. Never raises for content.

    Raises:
        OSError: reading the file failed.
    """
    return _from_source(src, path, headers, cor, attributes=True)


def references_from_source(src: Source, path: str, headers: Headers | None = None,
                           cor: Cor20 | None = None) -> AssemblyReferences:
    """Like :func:`assembly_info_from_source`, only the references. Raises OSError when reading fails.

    NOTE: what a scan reads of every assembly, so it skips what only :class:`AssemblyInfo` holds (the assembly's
    own name and version, checked but not decoded) and builds no AssemblyInfo (issue 25); the result is the
    same as ``AssemblyReferences.of(assembly_info_from_source(...))`` (tests/pe/test_metadata_dnfile.py).
    """
    if src.size > MAX_METADATA_FILE:
        return AssemblyReferences(path, reason=f"larger than {MAX_METADATA_FILE >> 20} MB; metadata not read")
    try:
        tables = _tables(src, headers, cor)
        if tables is None:
            return AssemblyReferences(path, reason="no .NET metadata")
        return _references(tables, path)
    except (ValueError, struct.error, IndexError) as e:
        return AssemblyReferences(path, reason=f"metadata unreadable: {e}")  # NOTE: as in _read


PLAIN_WHOLE = 64 << 10
"""A metadata region up to this long is read whole by :func:`plain_references`, in one read (nine assemblies in
ten); of a longer one, only the parts the references are in."""
_PLAIN_FIRST = 1 << 10
"""Of a longer region, the bytes read first: the root, stream headers, ``#~`` header and row counts (about 300
bytes in real assemblies)."""
_PLAIN_NAME = 256
"""Bytes read past the last name needed from #Strings (an assembly or DLL name is far shorter)."""
_PLAIN_GAP = 4 << 10
"""Names needed from #Strings closer than this are read in one read: reading the bytes between costs less than
another read."""


class _Whole(Exception):
    """Raised inside :func:`plain_references` when what it needs is not in what it has read and reading it part
    by part would read more than half the region: the region is then read whole."""


RefKey = tuple[bytes, int, int, int, int]
"""An AssemblyRef row as read: its raw name (#Strings bytes) and version (major, minor, build, revision)."""

PlainReferences = tuple[bytes, list[RefKey], tuple[str, ...]]
"""What :func:`plain_references` reads: the metadata version string (raw), the AssemblyRef rows in order, and the
P/Invoke module names (sorted). Plain data (bytes, ints, strings), so the helper process of
:mod:`iisbitness.pe.prefetch` can hand it over."""


def plain_references(src: Source, offset: int, size: int) -> PlainReferences | None:
    """What a scan reads of a .NET image whose metadata is plain, straight through: the metadata root's version
    string (undecoded, as :func:`iisbitness.pe.clr.read_clr_version` reads it), each AssemblyRef row as a
    :data:`RefKey` and the P/Invoke module names: the references :func:`references_from_source` gives, once
    :func:`plain_refs` has made them objects; None for anything else (no metadata, a malformed or unusual region, a
    reason to give), which the caller then reads with the general reader. Never raises for content.

    ``offset``, ``size``: the metadata region's file offset and the COR20 header's size of it. A region up to
    :data:`PLAIN_WHOLE` bytes is read in one read, as the general reader reads it; of a longer one the first
    :data:`_PLAIN_FIRST` bytes, the rows from ModuleRef (or Assembly) to AssemblyRef, and the part of #Strings with
    the names needed, in three reads (of 9,597 assemblies of a real server, the general reader reads 486 MB;
    issue 25). When these would come to more than half the region, it is read whole instead: a hostile image makes
    it read at most 1.5 times what the general reader reads.

    Raises:
        OSError: reading the file failed.
        InvalidPe: the file became shorter while it was read.
    """
    file_size = src.size
    if file_size > MAX_METADATA_FILE:
        return None
    head = src.head
    n = min(size, MAX_METADATA_FILE, file_size - offset)  # NOTE: the length of the general reader's region
    if offset + n <= len(head):
        return _plain_region(src, offset, n, head, offset, n)
    if n > PLAIN_WHOLE:
        if len(head) - offset >= _PLAIN_FIRST:
            first, base = head, offset
        else:
            first, base = src.read_span(offset, _PLAIN_FIRST), 0
        try:
            return _plain_region(src, offset, n, first, base, len(first) - base)
        except _Whole:
            pass
    region = src.read_span(offset, n)
    return _plain_region(src, offset, n, region, 0, len(region)) if len(region) == n else None


def _plain_region(src: Source, offset: int, n: int, buf: bytes, base: int, avail: int) -> PlainReferences | None:
    """:func:`plain_references` of the region at file ``offset``, ``n`` bytes long, whose first ``avail`` bytes
    are ``buf[base:]`` (all of it, or the first part of a long region).

    NOTE: the checks are those of :meth:`_Tables.parse`, :meth:`_Tables._header` and :func:`_references`, written
    out for the usual layout (five streams, every table under 2,048 rows): this runs for every assembly.

    Raises:
        _Whole: what is needed is not in ``buf`` and reading it would read more than half the region.
    """
    # The root (II.24.2.1) and stream headers (II.24.2.2).
    if avail < _PLAIN_ROOT.size:
        if avail < n:
            raise _Whole  # NOTE: past what was read first, not past the region
        return None
    signature, length, version, count = _PLAIN_ROOT.unpack_from(buf, base)
    if signature != b"BSJB" or not 0 < length <= 255:
        return None
    at = 16 + length + 4
    if length != len(version):
        if at > avail:
            if avail < n:
                raise _Whole  # NOTE: past what was read first, not past the region
            return None
        version = buf[base + 16 : base + at - 4]
        (count,) = _U16.unpack_from(buf, base + at - 2)
    if count == 5 and not at & 3 and at + _PLAIN_STREAMS.size <= avail:
        (start, stream_size, tables_name, s_start, s_size, strings_name, _, _, us_name, _, _,
         guid_name, _, _, blob_name) = _PLAIN_STREAMS.unpack_from(buf, base + at)
        plain = (tables_name, strings_name, us_name, guid_name, blob_name) == _PLAIN_STREAM_NAMES
    else:
        plain = False
    if plain:  # NOTE: each stream cut to the region, as _Tables.parse does
        if stream_size > n - start:
            stream_size = n - start if n > start else 0
        if s_size > n - s_start:
            s_size = n - s_start if n > s_start else 0
    else:
        streams = _plain_streams(buf, base, avail, n, at, count)
        if streams is None:
            return None
        (start, stream_size), (s_start, s_size) = streams
    # The #~ header (II.24.2.6) and where the tables lie.
    if stream_size < 24:
        return None
    if start + 24 > avail:
        if avail < n:
            raise _Whole  # NOTE: past what was read first, not past the region
        return None
    heap_sizes, valid, _ = _TABLES_HEADER.unpack_from(buf, base + start)
    counts, before, tail, where = _plain_plan(valid, heap_sizes & 7)
    at = start + 24 + counts.size
    if at > start + stream_size:
        return None
    if at > avail:
        if avail < n:
            raise _Whole  # NOTE: past what was read first, not past the region
        return None
    values = counts.unpack_from(buf, base + at - counts.size)
    tables_at = at + (4 if heap_sizes & 0x40 else 0)  # NOTE: 0x40: an extra dword (#- streams)
    if not values or max(values) < _SMALL_TABLES:
        formats = _NARROW_LAYOUTS[heap_sizes & 7][0]
        pre = len(before)
        offsets = list(itertools.accumulate(map(operator.mul, tail, values[pre : pre + len(tail)]),
                                            initial=tables_at + sum(map(operator.mul, before, values))))
        k_moduleref, k_implmap, k_assembly, p_moduleref, p_implmap, p_assembly, p_assemblyref = where
        n_moduleref = values[k_moduleref] if k_moduleref >= 0 else 0
        n_implmap = values[k_implmap] if k_implmap >= 0 else 0
        n_assembly = values[k_assembly] if k_assembly >= 0 else 0
        at_moduleref, at_implmap = offsets[p_moduleref], offsets[p_implmap]
        at_assembly, at_assemblyref, hi = offsets[p_assembly], offsets[p_assemblyref], offsets[-1]
    else:
        rows = _rows(valid, values)
        formats, offsets = _placed(rows, heap_sizes, tables_at)
        n_moduleref, n_implmap, n_assembly = rows[_MODULEREF], rows[_IMPLMAP], rows[_ASSEMBLY]
        at_moduleref, at_implmap = offsets[_MODULEREF], offsets[_IMPLMAP]
        at_assembly, at_assemblyref, hi = offsets[_ASSEMBLY], offsets[_ASSEMBLYREF], offsets[_ASSEMBLYREF + 1]
    if hi > start + stream_size:
        return None
    # The rows from ModuleRef (or Assembly) to AssemblyRef, and the names they point to in #Strings (II.24.2.3).
    lo = at_moduleref if n_implmap else at_assembly
    budget = n // 2 - (0 if avail == n or base else avail)  # NOTE: less what was read first
    if hi <= avail:
        rows_buf, rows_base = buf, base
    elif hi - lo > min(budget, MAX_READ):
        raise _Whole
    else:
        rows_buf, rows_base, budget = src.read_at(offset + lo, hi - lo, "metadata tables"), -lo, budget - (hi - lo)
    if n_assembly and formats[_ASSEMBLY].unpack_from(rows_buf, rows_base + at_assembly)[7] >= s_size:
        return None
    refs = list(formats[_ASSEMBLYREF].iter_unpack(rows_buf[rows_base + at_assemblyref : rows_base + hi]))
    indexes = [row[6] for row in refs]
    if n_implmap:
        fmt, at = formats[_IMPLMAP], rows_base + at_implmap
        scopes = {fmt.unpack_from(rows_buf, i)[3] for i in range(at, at + fmt.size * n_implmap, fmt.size)}
        fmt = formats[_MODULEREF]
        at = rows_base + at_moduleref - fmt.size  # NOTE: row 1 at at_moduleref
        indexes += [fmt.unpack_from(rows_buf, at + fmt.size * scope)[0] for scope in scopes if 0 < scope <= n_moduleref]
    if indexes and max(indexes) >= s_size:
        return None
    # The marker (facts I9): a #Strings heap without the name ReferenceAssemblyAttribute marks no reference assembly;
    # one with it (a reference assembly, or System.Runtime, which defines the type) goes to the general reader, which
    # walks the assembly's attributes. The whole heap is searched, read here if what was read first ends before it.
    heap = (s_start, s_start + s_size)
    if heap[1] > avail:  # NOTE: then avail < n: the region is long and was read in parts
        if s_size > budget:
            raise _Whole
        buf, base, avail = src.read_span(offset + s_start, s_size), -s_start, heap[1]
        if len(buf) != s_size:
            return None  # NOTE: the file became shorter: the general reader says so
    if buf.find(_MARKER, base + s_start, base + heap[1]) >= 0:
        return None
    names = _plain_names(src, buf, base, avail, offset, heap, indexes, budget)
    # NOTE: a comprehension, the version read by index: a quarter fewer instructions per reference
    keys = [(raw, row[0], row[1], row[2], row[3]) for raw, row in zip(names, refs)]
    modules = tuple(sorted({raw.decode("utf-8", "replace") for raw in names[len(refs):]})) if n_implmap else ()
    return version, keys, modules


_PLAIN_ROOT = struct.Struct("<4s8xI12s2xH")
"""The metadata root's signature, version length, version (if 12 bytes long, as compilers write "v4.0.30319") and
stream count (II.24.2.1)."""
_PLAIN_STREAMS = struct.Struct("<II4sII12sII4sII8sII8s")
_PLAIN_STREAM_NAMES = (b"#~\0\0", b"#Strings\0\0\0\0", b"#US\0", b"#GUID\0\0\0", b"#Blob\0\0\0")
"""The five stream headers compilers write, in their order (offset, size and padded name each, II.24.2.2)."""


def _plain_streams(buf: bytes, base: int, avail: int, n: int, at: int, count: int,
                   ) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The ``#~`` (or ``#-``) and ``#Strings`` streams (offset, size) of the region ``n`` bytes long whose first
    ``avail`` bytes are ``buf[base:]``, from the ``count`` stream headers at ``at``, as :meth:`_Tables.parse` finds
    them (each cut to the region, the last of each name); None without a tables stream or when the headers are
    malformed. Raises _Whole when they run past ``avail`` (not the region)."""
    tables: tuple[int, int, bytes] | None = None
    strings = None
    find = buf.find
    for _ in range(count):
        window = min(n, at + 40)
        if at + 8 > n:
            return None
        if window > avail:
            if avail < n:
                raise _Whole  # NOTE: past what was read first, not past the region
            return None
        end = find(b"\0", base + at + 8, base + window)
        if end < 0:
            return None
        name = buf[base + at + 8 : end]
        if name in (b"#~", b"#-", b"#Strings"):
            stream_at, stream_size = _U32_PAIR.unpack_from(buf, base + at)
            rest = n - stream_at
            stream = (stream_at, stream_size if stream_size < rest else max(0, rest))
            if name == b"#Strings":
                strings = stream
            elif name == b"#~" or tables is None or tables[2] != b"#~":
                tables = (*stream, name)
        at = (end - base + 4) & ~3
    if tables is None:
        return None
    return (tables[0], tables[1]), strings or (0, 0)


def _plain_names(src: Source, buf: bytes, base: int, avail: int, offset: int, heap: tuple[int, int],
                 indexes: list[int], budget: int) -> list[bytes]:
    """The #Strings entries at ``indexes`` (each inside the heap), as :meth:`_Tables.raw_string` gives them, of the
    heap from ``heap[0]`` to ``heap[1]`` in the region at file ``offset`` whose first ``avail`` bytes are
    ``buf[base:]``: from ``buf``, and those past it with one read per group of names less than :data:`_PLAIN_GAP`
    bytes apart.

    Raises:
        _Whole: these reads would come to more than ``budget`` bytes, or a name is not ended in its read.
    """
    start, end = heap
    find, limit = buf.find, base + min(end, avail)
    names, far = [], []
    for index in indexes:
        at = base + start + index
        stop = find(b"\0", at, limit)
        if stop >= 0:
            names.append(buf[at:stop])
        elif end <= avail:
            names.append(buf[at:limit])
        else:
            far.append(len(names))
            names.append(b"")
    if not far:
        return names
    spans: list[list[int]] = []  # NOTE: each [first byte, end, the places of its names...], grown in place
    for i in sorted(far, key=indexes.__getitem__):
        at = start + indexes[i]
        hi = min(end, at + _PLAIN_NAME)
        if spans and at < spans[-1][1] + _PLAIN_GAP and at + _PLAIN_NAME - spans[-1][0] <= MAX_READ:
            spans[-1][1] = hi
            spans[-1].append(i)
        else:
            spans.append([at, hi, i])
    if sum(span[1] - span[0] for span in spans) > budget:
        raise _Whole
    for lo, hi, *which in spans:
        chunk = src.read_at(offset + lo, hi - lo, "#Strings")
        for i in which:
            at = start + indexes[i] - lo
            stop = chunk.find(b"\0", at)
            if stop >= 0:
                names[i] = chunk[at:stop]
            elif hi == end:
                names[i] = chunk[at:]
            else:
                raise _Whole
    return names


@functools.lru_cache(maxsize=_MASKS)
def _plain_plan(valid: int, heap_sizes: int) -> tuple[struct.Struct, tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """For :func:`plain_references`, by the Valid mask and HeapSizes bits 0-2, when every table has fewer than
    :data:`_SMALL_TABLES` rows: the Struct of the row counts; the row sizes of the tables present before ModuleRef
    (their counts come first) and of those present from ModuleRef to AssemblyRef; where the counts of ModuleRef,
    ImplMap and Assembly are among the counts (-1: absent), and where the offsets of these and AssemblyRef
    tables are among the offsets of that second group (an absent table lies where the next present one starts).
    NOTE: cached (:data:`_MASKS`: a server's assemblies share a few hundred masks), and the tables before ModuleRef
    are added up in one C-level sum, not one by one."""
    where, counts, _ = _present(valid)
    sizes = _NARROW_LAYOUTS[heap_sizes][1]
    present = [t for t in range(64) if valid >> t & 1]
    tail = [t for t in present if _MODULEREF <= t <= _ASSEMBLYREF]
    wanted = (_MODULEREF, _IMPLMAP, _ASSEMBLY, _ASSEMBLYREF)
    return (
        counts,
        tuple(sizes[t] for t in present if t < _MODULEREF),
        tuple(sizes[t] for t in tail),
        tuple(where[t] if valid >> t & 1 else -1 for t in wanted[:3]) + tuple(sum(u < t for u in tail) for t in wanted),
    )


def _from_source(src: Source, path: str, headers: Headers | None, cor: Cor20 | None, *,
                 attributes: bool) -> AssemblyInfo:
    if src.size > MAX_METADATA_FILE:
        return AssemblyInfo(path, reason=f"larger than {MAX_METADATA_FILE >> 20} MB; metadata not read")
    return _read(src, path, headers, cor, attributes=attributes)


def assembly_info_from_bytes(data: bytes, path: str = "<bytes>") -> AssemblyInfo:
    """Like :func:`read_assembly_info` for bytes in memory. Never raises."""
    return _read(Source.from_bytes(bytes(data)), path)


def _read(src: Source, path: str, parsed: Headers | None = None, cor: Cor20 | None = None, *,
          attributes: bool = True) -> AssemblyInfo:
    """The metadata; without ``attributes`` the TargetFramework is not looked for (the ReferenceAssembly marker is)."""
    try:
        tables = _tables(src, parsed, cor)
        if tables is None:
            return AssemblyInfo(path, reason="no .NET metadata")
        return _info(tables, path, attributes)
    except (ValueError, struct.error, IndexError) as e:
        # NOTE: ValueError covers InvalidPe and MetadataError. struct.error and IndexError cannot
        # happen when every read is checked; they are caught so that a missed check still gives
        # a reason rather than a crash in the middle of a scan.
        return AssemblyInfo(path, reason=f"metadata unreadable: {e}")


def _tables(src: Source, parsed: Headers | None, cor: Cor20 | None = None) -> _Tables | None:
    """The metadata tables of the image in ``src`` (with its headers and COR20 header when already read); None
    without .NET metadata (no CLR header, or no ``#~``).

    Raises:
        ValueError: InvalidPe or MetadataError, what was malformed; struct.error or IndexError for a missed check.
    """
    headers = parsed or parse_headers(src)
    if not has_clr_header(headers):
        return None
    md_rva, md_size = (cor or read_cor20(src, headers)).metadata
    offset = headers.rva_to_offset(md_rva, "metadata")
    region = src.read_span(offset, min(md_size, MAX_METADATA_FILE))
    return _Tables.parse(region)


def _references(t: _Tables, path: str) -> AssemblyReferences:
    """:func:`_info` without ``attributes``, as :class:`AssemblyReferences`: the same checks in the same order, so
    the same ``reason`` (the Assembly row's name index must be inside #Strings), without decoding the assembly's own
    name and version (issue 25); with the reference-assembly marker (:func:`_marked_reference`)."""
    if t.rows[_ASSEMBLY]:
        name_idx = t.row(_ASSEMBLY, 1)[7]
        if name_idx >= t._strings[1]:
            t.raw_string(name_idx)  # NOTE: raises the MetadataError _info gives
    return AssemblyReferences(path, _assembly_refs(t), _pinvoke_modules(t), None, _marked_reference(t))


def _marked_reference(t: _Tables) -> bool:
    """Whether the assembly carries ``System.Runtime.CompilerServices.ReferenceAssemblyAttribute`` (facts I9), as
    :func:`_assembly_attributes` finds it, without looking for TargetFramework: nothing is walked when ``#Strings``
    does not hold the name (nearly every assembly), else the Assembly row's attributes, last first (a compiler puts
    the marker among the last)."""
    names = t.occurrences(_REFERENCE_ASSEMBLY[1])
    if names == frozenset():
        return False
    for namespace, name, _ in t.assembly_attribute_types(backward=True):
        if (name in names if names is not None else t.string_is(name, _REFERENCE_ASSEMBLY[1])) and t.string_is(
                namespace, _REFERENCE_ASSEMBLY[0]):
            return True
    return False


def _assembly_refs(t: _Tables) -> tuple[AssemblyRef, ...]:
    """The AssemblyRef rows, in order, each decoded once per process (:data:`_REFS`).

    Raises:
        MetadataError: a name index past #Strings (the error :meth:`_Tables.string` gives).
    """
    data, (start, size) = t._data, t._strings
    end, find = start + size, data.find
    refs = []
    for major, minor, build, rev, _, _, name_idx, _, _ in t.iter_rows(_ASSEMBLYREF):
        if name_idx >= size:
            t.raw_string(name_idx)  # NOTE: raises as t.string does
        at = start + name_idx
        stop = find(b"\0", at, end)
        refs.append(_assembly_ref(data[at : stop if stop >= 0 else end], major, minor, build, rev))
    return tuple(refs)


_REFS: dict[RefKey, AssemblyRef] = {}
"""AssemblyRef rows already decoded, by raw name and version: a server's assemblies reference a few hundred
assemblies between them (mostly the framework's), so one object each (memory, and the time to decode)."""
_MAX_REFS = 1 << 14
"""Beyond this many distinct references (a hostile image) new ones are decoded without being remembered."""


def plain_refs(keys: list[RefKey]) -> tuple[AssemblyRef, ...]:
    """The AssemblyRef of each of ``keys`` (:func:`plain_references`), each decoded once per process (:data:`_REFS`)."""
    get = _REFS.get
    return tuple([get(k) or _assembly_ref(*k) for k in keys])


def _assembly_ref(raw: bytes, major: int, minor: int, build: int, rev: int) -> AssemblyRef:
    key = (raw, major, minor, build, rev)
    ref = _REFS.get(key)
    if ref is None:
        ref = AssemblyRef(raw.decode("utf-8", "replace"), f"{major}.{minor}.{build}.{rev}")
        if len(_REFS) < _MAX_REFS:
            _REFS[key] = ref
    return ref


def _pinvoke_modules(t: _Tables) -> tuple[str, ...]:
    """ModuleRef names used by ImplMap rows (``[DllImport]``), sorted."""
    if not t.rows[_IMPLMAP]:
        return ()
    scopes = {r[3] for r in t.iter_rows(_IMPLMAP)}
    return tuple(sorted({t.string(t.row(_MODULEREF, s)[0]) for s in scopes if 0 < s <= t.rows[_MODULEREF]}))


def _info(t: _Tables, path: str, attributes: bool) -> AssemblyInfo:
    name = version = arch = None
    if t.rows[_ASSEMBLY]:
        _, major, minor, build, rev, flags, _, name_idx, _ = t.row(_ASSEMBLY, 1)
        name, version = t.string(name_idx), f"{major}.{minor}.{build}.{rev}"
        pa = flags & 0x70
        arch = PROCESSOR_ARCHITECTURES.get(pa, f"{pa:#x}")
    refs = _assembly_refs(t)
    modules = _pinvoke_modules(t)
    framework, is_ref = _assembly_attributes(t) if attributes else (None, _marked_reference(t))
    return AssemblyInfo(path, name, version, arch, framework, is_ref, refs, modules)


def _assembly_attributes(t: _Tables) -> tuple[str | None, bool]:
    """(TargetFramework string, has ReferenceAssemblyAttribute) from the Assembly row's attributes.

    NOTE: the two type names are first looked for in #Strings (one C-speed search each; an index
    may point into the tail of a longer string, so every occurrence counts): attribute types are
    then compared by index, nothing is decoded, and with neither name present nothing is walked.
    An assembly has dozens of attributes and only these two matter.
    """
    framework: str | None = None
    is_ref = False
    tf_names = t.occurrences(_TARGET_FRAMEWORK[1])
    ref_names = t.occurrences(_REFERENCE_ASSEMBLY[1])
    if tf_names == frozenset() and ref_names == frozenset():
        return None, False

    found_tf = False
    # NOTE: without a TargetFramework name only "any ReferenceAssembly row" is asked, in whatever order, and a
    # compiler puts ReferenceAssemblyAttribute among the last (in most reference assemblies, the second to last)
    for namespace, name, value in t.assembly_attribute_types(backward=tf_names == frozenset()):
        # NOTE: the name tests are written out (not a helper): this loop runs for every assembly attribute
        if name in ref_names if ref_names is not None else t.string_is(name, _REFERENCE_ASSEMBLY[1]):
            is_ref = is_ref or t.string_is(namespace, _REFERENCE_ASSEMBLY[0])
        elif ((name in tf_names if tf_names is not None else t.string_is(name, _TARGET_FRAMEWORK[1]))
              and t.string_is(namespace, _TARGET_FRAMEWORK[0])):
            framework, found_tf = _first_string_arg(t.blob(value)), True
        if (found_tf or tf_names == frozenset()) and (is_ref or ref_names == frozenset()):
            break  # NOTE: both allow one use per assembly (AllowMultiple=false): nothing more to find
    return framework, is_ref


def _first_string_arg(blob: bytes) -> str | None:
    """The first fixed argument of a custom-attribute blob when it is a string (II.23.3)."""
    if len(blob) < 3 or blob[:2] != b"\x01\x00" or blob[2] == 0xFF:
        return None
    first = blob[2]
    if first < 0x80:
        length, start = first, 3
    elif first < 0xC0 and len(blob) >= 4:
        length, start = ((first & 0x3F) << 8) | blob[3], 4
    else:
        return None
    raw = blob[start : start + length]
    return raw.decode("utf-8", "replace") if len(raw) == length else None


@functools.lru_cache(maxsize=256)
def _layout(heap_sizes: int, coded: tuple[int, ...], big: int) -> tuple[tuple[struct.Struct, ...], tuple[int, ...]]:
    """Row layouts of tables 0x00-0x23 for heap index sizes ``heap_sizes`` (HeapSizes bits 0-2),
    coded-index widths ``coded`` (in :data:`_CODED` order) and ``big``, the mask of tables with
    2^16 rows or more (II.24.2.6); returns the Structs and their sizes. NOTE: cached: a handful of layouts cover all real assemblies,
    and building 36 Structs per file was most of the reader's time."""
    widths: dict[str, int] = dict(zip(_CODED, coded, strict=True))
    widths.update(S=4 if heap_sizes & 1 else 2, G=4 if heap_sizes & 2 else 2, B=4 if heap_sizes & 4 else 2)
    codes = {1: "B", 2: "H", 4: "I"}
    out = []
    for columns in _COLUMNS:
        fmt = "<"
        for c in columns:
            if isinstance(c, str):
                fmt += codes[widths[c]]
            elif c >= 0x100:
                fmt += "I" if big >> (c - 0x100) & 1 else "H"
            else:
                fmt += codes[c]
        out.append(struct.Struct(fmt))
    return tuple(out), tuple(f.size for f in out)


def _parents(table: memoryview, fmt: struct.Struct) -> memoryview | _Column:
    """The Parent column of CustomAttribute rows ``table`` read with ``fmt``, for :func:`bisect.bisect_left`: a view
    of the bytes when the three columns have one width (the common case, no copy), else the column read row by row
    (the same values either way)."""
    if fmt.format in _SAME_WIDTHS and sys.byteorder == "little":
        return table.cast("H" if fmt.size == 6 else "I")[::3]
    return _Column(table, fmt)


_SAME_WIDTHS = frozenset({"<HHH", "<III"})


class _Column:
    """Column 0 of the rows in ``table`` read with ``fmt``, each value read when indexed (a sequence for
    :func:`bisect.bisect_left`)."""

    __slots__ = ("_fmt", "_table")

    def __init__(self, table: memoryview, fmt: struct.Struct) -> None:
        self._table, self._fmt = table, fmt

    def __len__(self) -> int:
        return len(self._table) // self._fmt.size

    def __getitem__(self, i: int) -> int:
        if not 0 <= i < len(self):
            raise IndexError(i)
        value: int = self._fmt.unpack_from(self._table, self._fmt.size * i)[0]
        return value


_U16, _U32, _U32_PAIR = struct.Struct("<H"), struct.Struct("<I"), struct.Struct("<II")
_TABLES_HEADER = struct.Struct("<6xB1xQQ")
"""HeapSizes, Valid and Sorted of a ``#~`` header (II.24.2.6)."""


@functools.lru_cache(maxsize=_MASKS)
def _present(valid: int) -> tuple[tuple[int, ...], struct.Struct, Callable[[tuple[int, ...]], tuple[int, ...]]]:
    """Where each of the 64 tables' row count is among the counts the Valid mask ``valid`` says follow (the
    number of counts for an absent table, whose count is then the 0 appended to them), the Struct of those
    counts, and what spreads them (with that 0 appended) over the 64 tables, in one call. NOTE: cached (:data:`_MASKS`):
    spreading the counts over the 64 tables one by one was a tenth of reading the tables."""
    present = [i for i in range(64) if valid >> i & 1]
    where = {t: k for k, t in enumerate(present)}
    spread = tuple(where.get(t, len(present)) for t in range(64))
    return spread, struct.Struct(f"<{len(present)}I"), operator.itemgetter(*spread)


def _rows(valid: int, counts: tuple[int, ...]) -> list[int]:
    """The row counts of the 64 tables, from the ``counts`` of those the Valid mask ``valid`` says are present."""
    return list(_present(valid)[2]((*counts, 0)))


_NARROW_LAYOUTS = tuple(_layout(heap_sizes, _NARROW, 0) for heap_sizes in range(8))
"""The layouts of assemblies whose tables all have fewer than :data:`_SMALL_TABLES` rows, by HeapSizes bits 0-2."""


def _placed(rows: list[int], heap_sizes: int, tables_at: int) -> tuple[tuple[struct.Struct, ...], list[int]]:
    """The row Structs of tables 0x00-0x23 and where each table starts (table 0x24 where AssemblyRef ends), for row
    counts ``rows`` (all 64 tables), HeapSizes ``heap_sizes`` and the first table at ``tables_at``."""
    if max(rows) < _SMALL_TABLES:
        formats, sizes = _NARROW_LAYOUTS[heap_sizes & 7]
    else:
        # NOTE: a coded index is 4 bytes from 2^11 rows at least (5 tag bits) and a table index from 2^16: only the
        # tables of 2^11 rows or more (a few, in the largest assemblies) can widen one; they are looked at alone
        coded = list(_NARROW)
        big = 0
        for t in [t for t, count in enumerate(rows) if count >= _SMALL_TABLES]:
            n = rows[t]
            for kind, limit in _CODED_BY_TABLE.get(t, ()):
                if n >= limit:
                    coded[kind] = 4
            if n >= 1 << 16 and t <= _ASSEMBLYREF:
                big |= 1 << t
        formats, sizes = _layout(heap_sizes & 7, tuple(coded), big)
    return formats, list(itertools.accumulate(map(operator.mul, sizes, rows), initial=tables_at))


def _cut(offset: int, size: int, n: int) -> tuple[int, int]:
    """A stream at ``offset``, ``size`` bytes long, cut to a region of ``n`` bytes: a stream that runs past the
    region is cut to it (reads inside it are checked)."""
    rest = n - offset
    return offset, size if size < rest else max(0, rest)


class _Tables:
    """The ``#~`` stream of one metadata region, with its heaps: rows read on demand."""

    __slots__ = ("_blob", "_data", "_formats", "_offsets", "_sorted", "_strings", "rows")

    def __init__(self, data: bytes, rows: list[int], sorted_mask: int, heap_sizes: int, tables_at: int,
                 strings: tuple[int, int], blob: tuple[int, int]) -> None:
        self._data = data
        self.rows = rows
        self._sorted = sorted_mask
        self._strings = strings
        self._blob = blob
        self._formats, self._offsets = _placed(rows, heap_sizes, tables_at)

    @classmethod
    def parse(cls, data: bytes) -> _Tables | None:
        """The tables of metadata region ``data``; None when it has no ``#~``/``#-`` stream.

        Raises:
            MetadataError: a bad signature, or a stream or table header outside the region.
        """
        n = len(data)
        if n < 16 or data[:4] != b"BSJB":
            raise MetadataError("no BSJB metadata signature")
        (length,) = _U32.unpack_from(data, 12)
        at = 16 + length
        if length > 255 or at + 4 > n:
            raise MetadataError(f"metadata version string length {length} is out of range")
        (count,) = _U16.unpack_from(data, at + 2)
        at += 4
        if count == 5 and not at & 3 and at + _PLAIN_STREAMS.size <= n:
            # NOTE: the five stream headers compilers write, in their order, read in one call (what the loop below
            # finds in them, in a third of the time: this runs for every assembly inspect reads)
            (t_at, t_size, t_name, s_at, s_size, s_name, _, _, us_name, _, _, guid_name, b_at, b_size,
             b_name) = _PLAIN_STREAMS.unpack_from(data, at)
            if (t_name, s_name, us_name, guid_name, b_name) == _PLAIN_STREAM_NAMES:
                return cls._header(data, _cut(t_at, t_size, n), _cut(s_at, s_size, n), _cut(b_at, b_size, n))
        streams: dict[bytes, tuple[int, int]] = {}
        find = data.find
        for _ in range(count):
            if at + 8 > n:
                raise MetadataError("stream headers run past the metadata")
            offset, size = _U32_PAIR.unpack_from(data, at)
            end = find(b"\0", at + 8, min(n, at + 40))
            if end < 0:
                raise MetadataError("unterminated stream name")
            streams[data[at + 8 : end]] = _cut(offset, size, n)
            at = (end + 4) & ~3
        table_stream = streams.get(b"#~") or streams.get(b"#-")
        if table_stream is None:
            return None
        return cls._header(data, table_stream, streams.get(b"#Strings", (0, 0)), streams.get(b"#Blob", (0, 0)))

    @classmethod
    def _header(cls, data: bytes, stream: tuple[int, int], strings: tuple[int, int],
                blob: tuple[int, int]) -> _Tables:
        """Read the ``#~`` header (II.24.2.6) and check every table up to AssemblyRef fits the stream."""
        start, size = stream
        if size < 24:
            raise MetadataError("#~ stream is too small for its header")
        heap_sizes, valid, sorted_mask = _TABLES_HEADER.unpack_from(data, start)
        counts = _present(valid)[1]
        at = start + 24
        if at + counts.size > start + size:
            raise MetadataError("#~ row counts run past the stream")
        rows = _rows(valid, counts.unpack_from(data, at))
        at += counts.size + (4 if heap_sizes & 0x40 else 0)  # NOTE: 0x40: an extra dword (#- streams)
        tables = cls(data, rows, sorted_mask, heap_sizes, at, strings, blob)
        last = _ASSEMBLYREF
        if tables._offsets[last] + tables._formats[last].size * rows[last] > start + size:
            raise MetadataError("metadata tables run past the #~ stream")
        return tables

    def row(self, table: int, index: int) -> tuple[int, ...]:
        """Row ``index`` (1-based, as in metadata tokens) of ``table``, one int per column.

        Raises:
            MetadataError: the index is not a row of the table.
        """
        if 0 < index <= self.rows[table]:
            fmt = self._formats[table]
            return fmt.unpack_from(self._data, self._offsets[table] + fmt.size * (index - 1))
        raise MetadataError(f"row {index} of table {table:#04x} does not exist")

    def iter_rows(self, table: int) -> Iterator[tuple[int, ...]]:
        """Every row of ``table`` in order."""
        fmt, start = self._formats[table], self._offsets[table]
        return fmt.iter_unpack(self._data[start : start + fmt.size * self.rows[table]])

    def raw_string(self, index: int) -> bytes:
        """The #Strings entry at ``index`` (II.24.2.3), undecoded."""
        start, size = self._strings
        if index >= size:
            raise MetadataError(f"#Strings index {index:#x} is past the heap ({size:#x} bytes)")
        end = self._data.find(b"\0", start + index, start + size)
        return self._data[start + index : end if end >= 0 else start + size]

    def occurrences(self, text: bytes) -> frozenset[int] | None:
        """#Strings indexes at which the string ``text`` is found (as a whole string or a tail);
        None past :data:`_MAX_OCCURRENCES` (a hostile heap of copies: the caller then compares
        in place, rather than holding millions of indexes)."""
        start, size = self._strings
        needle, end = text + b"\0", start + size
        at = self._data.find(needle, start, end)
        if at < 0:
            return _NOWHERE  # NOTE: the usual answer for one of the two names: no set built
        found: set[int] = set()
        while at >= 0:
            if len(found) >= _MAX_OCCURRENCES:
                return None
            found.add(at - start)
            at = self._data.find(needle, at + 1, end)
        return frozenset(found)

    def string_is(self, index: int, text: bytes) -> bool:
        """The #Strings entry at ``index`` is ``text`` (compared in place, nothing decoded)."""
        start, size = self._strings
        return index < size and self._data.startswith(text + b"\0", start + index, start + size)

    def string(self, index: int) -> str:
        """The #Strings entry at ``index``, decoded (UTF-8)."""
        return self.raw_string(index).decode("utf-8", "replace")

    def blob(self, index: int) -> bytes:
        """The #Blob entry at ``index`` without its compressed length (II.24.2.4)."""
        start, size = self._blob
        data, at = self._data, start + index
        if index >= size:
            raise MetadataError(f"#Blob index {index:#x} is past the heap ({size:#x} bytes)")
        first = data[at]
        if first < 0x80:
            length, at = first, at + 1
        elif first < 0xC0 and index + 2 <= size:
            length, at = (first & 0x3F) << 8 | data[at + 1], at + 2
        elif first < 0xE0 and index + 4 <= size:
            length, at = int.from_bytes(data[at : at + 4], "big") & 0x1FFFFFFF, at + 4
        else:
            raise MetadataError(f"bad #Blob length at {index:#x}")
        if at + length > start + size:
            raise MetadataError(f"#Blob entry at {index:#x} runs past the heap")
        return data[at : at + length]

    def assembly_attribute_types(self, *, backward: bool = False) -> Iterator[tuple[int, int, int]]:
        """(namespace, name, value) of each CustomAttribute row whose Parent is the Assembly row:
        the #Strings indexes of its type's namespace and name, and its #Blob value index.

        The table is sorted by Parent (II.22, "Sorted" mask), so a binary search finds the first
        such row and the walk stops at the first other Parent; an unsorted table is walked whole.
        ``backward``: the same rows, last first.
        The constructor (CustomAttributeType, II.24.2.6: 2 MethodDef, 3 MemberRef) is followed to
        a TypeDef or TypeRef (MemberRefParent 0 or 1); others are skipped. NOTE: rows are read
        with local Structs, not :meth:`row`: this loop runs for every attribute of every assembly.
        """
        data, rows, fmts, offs = self._data, self.rows, self._formats, self._offsets
        ca, ca_off, count = fmts[_CUSTOMATTRIBUTE], offs[_CUSTOMATTRIBUTE], rows[_CUSTOMATTRIBUTE]
        mr, mr_off, n_mr = fmts[_MEMBERREF], offs[_MEMBERREF], rows[_MEMBERREF]
        types = {_TYPEDEF: (fmts[_TYPEDEF], offs[_TYPEDEF], rows[_TYPEDEF]),
                 _TYPEREF: (fmts[_TYPEREF], offs[_TYPEREF], rows[_TYPEREF])}
        is_sorted = bool(self._sorted >> _CUSTOMATTRIBUTE & 1)
        ca_rows = memoryview(data)[ca_off : ca_off + ca.size * count]
        parents = _parents(ca_rows, ca)
        lo = bisect.bisect_left(parents, _HAS_CA_ASSEMBLY) if is_sorted else 0
        hi = count
        if backward and is_sorted:
            hi = lo
            while hi < count and parents[hi] == _HAS_CA_ASSEMBLY:
                hi += 1  # NOTE: the run of Assembly rows from lo: the rows the forward walk reads
        for i in range(hi - 1, lo - 1, -1) if backward else range(lo, hi):
            parent, ctor, value = ca.unpack_from(data, ca_off + ca.size * i)
            if parent != _HAS_CA_ASSEMBLY:
                if is_sorted:
                    return
                continue
            tag, index = ctor & 7, ctor >> 3
            if tag == 3 and 0 < index <= n_mr:
                owner = mr.unpack_from(data, mr_off + mr.size * (index - 1))[0]
                if owner & 7 > 1:
                    continue
                table, index = (_TYPEDEF if owner & 7 == 0 else _TYPEREF), owner >> 3
            elif tag == 2:
                table, index = _TYPEDEF, self.method_owner(index)
            else:
                continue
            fmt, off, n = types[table]
            if 0 < index <= n:
                row = fmt.unpack_from(data, off + fmt.size * (index - 1))
                yield row[2], row[1], value

    def method_owner(self, method: int) -> int:
        """The TypeDef row that owns MethodDef row ``method``: the last whose MethodList is not past
        it (II.22.37; through MethodPtr when an uncompressed stream has one). 0 when none."""
        if self.rows[_METHODPTR]:
            method = next((i for i, (m,) in enumerate(self.iter_rows(_METHODPTR), 1) if m == method), 0)
        lo, hi = 1, self.rows[_TYPEDEF] + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.row(_TYPEDEF, mid)[5] <= method:
                lo = mid + 1
            else:
                hi = mid
        return lo - 1
