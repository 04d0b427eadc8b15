"""Read Windows event logs: .evtx files and exported event XML, tolerant of damage.

API (used by ``iisbitness explain --event-log`` and by ``scan``'s correlation):

    read_events(path: str | os.PathLike[str], kb: KnowledgeBase | None = None) -> EventLogRead

    EventLogRead(path, format, events: tuple[Event, ...], problems: tuple[EventLogProblem, ...])
    Event(time, provider, event_source, event_id, level, computer, channel, record_id,
          data: tuple[EventData, ...], binary_data, error_code, message, binary, pool)

Formats:
    - ``.evtx`` (recognised by the ``ElfFile`` magic, not the name), read with the ``evtx`` package (Rust
      parser, pyevtx-rs): each record rendered as XML, then read like an export. Damage is data. The file
      header and every whole chunk are checked here, because the parser reads past damage without a word:
      header/chunk checksum mismatches, the dirty flag, a file shorter than its header's chunk count
      (truncated copy), chunks beyond the declared count (copied while in use: read too), a chunk without
      its signature. The parser raises per record or chunk it cannot render and then goes on; each becomes
      an :class:`EventLogProblem` naming the record or chunk. Records a chunk header lists that the parser
      neither returned nor reported are counted as lost. A warning from the library becomes a problem,
      never stderr output. Whatever parses is returned.
    - Event XML as ``wevtutil qe LOG /f:xml`` writes it (a bare sequence of ``<Event>`` elements, no root,
      with the ``http://schemas.microsoft.com/win/2004/08/events/event`` namespace) and as Event Viewer or
      Azure App Service export it (``<Events><Event>...``, namespace often absent, unnamed ``<Data>``).
      Malformed XML is re-read in lxml's recover mode, with a problem saying so.

Event fields:
    ``time`` is ISO 8601 UTC (``2017-03-22T14:11:22.460244Z``) or None; ``provider`` is Provider/@Name,
    ``event_source`` Provider/@EventSourceName (manifest providers such as ``Microsoft-Windows-IIS-W3SVC-WP``
    carry ``W3SVC-WP`` there). ``data`` keeps every <Data> (name or None, text) in order; the rendering of
    classic events as one <Data> holding ``<string>..</string>`` lines (python-evtx's ``evtx_dump``) is
    split back into strings. ``binary_data`` is the <Binary> hex; ``error_code`` its first little-endian
    DWORD as a code (``c1000000`` -> 0x800700C1). ``message`` is RenderingInfo/Message when the
    export carries it (the text Event Viewer showed, in the server's language), else the knowledge base's
    template for (family, id) filled with the insertion strings, else the strings joined with spaces (an .evtx
    holds no message texts: they live in the providers' message DLLs). An EventID written with its qualifiers
    (``3221227754``) is read as its low 16 bits (``2282``). ``binary`` is the .dll/.exe the event names
    (template parameter, else the first path in the text, worker EXEs last); ``pool`` the application pool
    (template parameter or a Data named AppPoolID/AppPoolName).

Errors:
    :class:`EventLogError` (an IisBitnessError) only when nothing can be read at all: the file is missing,
    unreadable, not a regular file (a folder, a FIFO, a device), empty, over its size limit, or neither EVTX
    nor XML, or the ``evtx`` package cannot be imported for an .evtx. The CLI turns it into exit 2 naming the file.

Limits (memory and time grow with the events a file holds, about 1.5 MB and 0.15 s per MB of .evtx):
    an .evtx over :data:`MAX_EVTX_BYTES` (256 MiB) and event XML over :data:`MAX_EVENT_XML_BYTES` (64 MiB, as
    configuration files) are refused unread, the message giving the ``wevtutil epl`` command that exports the
    recent days only. Below them, the file is read through one open descriptor: the header and chunk checks
    64 KiB at a time, and the ``evtx`` parser through a file object that ends at the size checked, so a log
    still being written cannot make it read more.

No public .evtx file carries IIS/WAS events (see shared/corpus/evtx/SOURCES.tsv); IIS events are tested from
XML exports. Sources: pyevtx-rs 0.14 (``PyEvtxParser(path, indent=False).records()``; a bad record raises
``RuntimeError("Failed to parse record number N: ...")`` and the iterator goes on; older releases drop bad
records silently), libyal libevtx's format description for the header and chunk checks.
"""

from __future__ import annotations

import bisect
import os
import re
import stat
import struct
import warnings
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from lxml import etree

from iisbitness.errors import IisBitnessError
from iisbitness.explain.codes import code_from_event_binary
from iisbitness.explain.kb import KnowledgeBase, load_kb
from iisbitness.explain.match import binaries_in

__all__ = [
    "Event",
    "EventData",
    "EventLogError",
    "EventLogProblem",
    "EventLogRead",
    "decode_bytes",
    "events_from_xml",
    "read_events",
]

MAX_EVTX_BYTES = 256 * 1024 * 1024
"""Largest .evtx read (bytes); a bigger one is refused with the command that exports fewer days."""
MAX_EVENT_XML_BYTES = 64 * 1024 * 1024
"""Largest exported event XML read (bytes), as configuration files (``config.xml.MAX_CONFIG_BYTES``)."""
_EXPORT_HINT = ("export the recent days only, e.g. the last 7: wevtutil epl Application recent.evtx "
                '/q:"*[System[TimeCreated[timediff(@SystemTime) <= 604800000]]]"')
"""``wevtutil epl <log> <file> /q:<XPath>`` (Microsoft Learn, "wevtutil"); ``timediff(@SystemTime)`` in
milliseconds (Microsoft Learn, "Consuming Events": XPath 1.0 limitations)."""

_EVTX_MAGIC = b"ElfFile\x00"
_CHUNK_MAGIC = b"ElfChnk\x00"
_CHUNK = 0x10000
_HEADER = 0x1000
_CHUNK_HEADER = 0x200
_MIN_RECORD = 28
"""Smallest record (24-byte header, size copy): bounds a sane chunk's record-id range."""
_MAX_RECORD_ERRORS = 1000
"""Parse errors after which a file is given up: a garbage file must not keep the reader busy."""
_LISTED = 20
"""Bad records listed one by one per file; the rest are counted in one problem."""
_FILE_HEADER = struct.Struct("<8sQQQIHHHH")
_RECORD_ERROR = re.compile(r"Failed to parse record number (\d+): (.*)", re.DOTALL)
_CHUNK_ERROR = re.compile(r"Failed to parse chunk number (\d+): (.*)", re.DOTALL)
_CHUNK_IDS_ERROR = re.compile(r"Failed to parse chunk containing record IDs (\d+)\.\.(\d+): (.*)", re.DOTALL)
_POOL_NAMES = ("apppoolid", "apppoolname", "apppool")
_STRING_ITEM = re.compile(r"<string>(.*?)</string>", re.DOTALL)


class EventLogError(IisBitnessError):
    """An event log file could not be read at all; the message names the file."""


@dataclass(frozen=True, slots=True)
class EventData:
    """One <Data> value of an event."""

    name: str | None
    """Data/@Name, None for classic unnamed insertion strings."""
    value: str


@dataclass(frozen=True, slots=True)
class Event:
    """One event record (see the module docstring for each field)."""

    time: str | None
    provider: str
    event_source: str | None
    event_id: int
    level: int | None
    computer: str | None
    channel: str | None
    record_id: int | None
    data: tuple[EventData, ...]
    binary_data: str | None
    error_code: int | None
    message: str
    binary: str | None
    pool: str | None

    @property
    def text(self) -> str:
        """Message plus every data value: what text patterns are matched against."""
        return "\n".join([self.message, *(d.value for d in self.data)])

    @property
    def source_name(self) -> str:
        """EventSourceName when present (``W3SVC-WP``), else the provider name."""
        return self.event_source or self.provider


@dataclass(frozen=True, slots=True)
class EventLogProblem:
    """Something in a log that could not be read; the rest was."""

    path: str
    message: str
    record: int | None = None
    """Record number (or 1-based position in an XML file) the problem is about, if one."""


@dataclass(frozen=True, slots=True)
class EventLogRead:
    """The result of reading one file."""

    path: str
    format: str
    """``"evtx"`` or ``"xml"``."""
    events: tuple[Event, ...]
    problems: tuple[EventLogProblem, ...]


def _local(tag: object) -> str:
    """``{namespace}Name`` or ``Name`` -> ``Name``; "" for comments and processing instructions."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _child(el: etree._Element, name: str) -> etree._Element | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _text(fields: dict[str, etree._Element], name: str) -> str | None:
    el = fields.get(name)
    return None if el is None else el.text


def _int(text: str | None) -> int | None:
    try:
        return int((text or "").strip())
    except ValueError:
        return None


def _iso(stamp: str | None) -> str | None:
    """``2017-03-22 14:11:22.460245+00:00`` (python-evtx) or ``...Z`` (exports) -> ``...T...Z``."""
    if not stamp:
        return None
    s = stamp.strip().replace(" ", "T", 1)
    return s[:-6] + "Z" if s.endswith("+00:00") else s


def _strings(values: list[EventData]) -> list[EventData]:
    """Undo python-evtx's one-<Data>-of-<string>-lines rendering of classic events."""
    if len(values) == 1 and values[0].name is None and values[0].value.lstrip().startswith("<string>"):
        return [EventData(None, v) for v in _STRING_ITEM.findall(values[0].value)]
    return values


def _fill(template: str, strings: list[str]) -> str | None:
    """The template with %n filled, or None when the event has fewer insertion strings than it needs."""
    needed = max((int(n) for n in re.findall(r"%(\d+)", template)), default=0)
    if needed > len(strings):
        return None
    return re.sub(r"%(\d+)", lambda m: strings[int(m.group(1)) - 1], template)


def _param(strings: list[str], index: int | None) -> str | None:
    return strings[index - 1] if index and index <= len(strings) and strings[index - 1] else None


def _rendered(el: etree._Element) -> str | None:
    """RenderingInfo/Message: the text Event Viewer showed (``wevtutil qe /f:RenderedXml``, Event Viewer's saved
    XML with display information), in the server's language; None when the export has none."""
    info = _child(el, "RenderingInfo")
    message = _child(info, "Message") if info is not None else None
    text = " ".join((message.text or "").split()) if message is not None else ""  # NOTE: one line, as Data is
    return text or None


def _event(el: etree._Element, kb: KnowledgeBase) -> Event:
    """One <Event> element to an :class:`Event`; raises ValueError without System/EventID."""
    system = _child(el, "System")
    if system is None:
        raise ValueError("no <System> element")
    fields: dict[str, etree._Element] = {}
    for c in system:  # NOTE: one pass instead of one search per field; the first of a name wins
        fields.setdefault(_local(c.tag), c)
    prov = fields.get("Provider")
    event_id = _int(_text(fields, "EventID"))
    if event_id is None:
        raise ValueError("no numeric <EventID>")
    # NOTE: some tools write a classic event's full id (Qualifiers << 16 | id: 3221227754 for 2282/49152)
    event_id &= 0xFFFF
    values: list[EventData] = []
    binary_hex = None
    for part in ("EventData", "UserData"):
        block = _child(el, part)
        # NOTE: "{*}Data" matches in any namespace or none, in document order, and skips other nodes in C.
        for d in block.iter("{*}Data", "{*}Binary") if block is not None else ():
            if _local(d.tag) == "Data":
                values.append(EventData(d.get("Name"), d.text or ""))
            elif (d.text or "").strip():
                binary_hex = (d.text or "").strip()
    values = _strings(values)
    strings = [v.value for v in values]
    provider = prov.get("Name", "") if prov is not None else ""
    source = prov.get("EventSourceName") if prov is not None else None
    joined = "\n".join(strings)
    family = kb.family_of(source or provider, joined) or (kb.family_of(provider, joined) if source else None)
    entries = kb.by_event(family, event_id) if family else ()
    template = next((e for e in entries if e.template), None)
    filled = _fill(template.template, strings) if template and template.template else None
    message = _rendered(el) or filled or " ".join(" ".join(s.split()) for s in strings if s.strip())
    binary = next((p for e in entries if (p := _param(strings, e.binary_param))), None)
    if binary is None:
        paths = binaries_in(joined)
        binary = paths[0] if paths else None
    pool = next((p for e in entries if (p := _param(strings, e.pool_param))), None) or next(
        (v.value for v in values if v.name and v.name.casefold() in _POOL_NAMES and v.value), None)
    created = fields.get("TimeCreated")
    return Event(
        time=_iso(created.get("SystemTime") if created is not None else None),
        provider=provider, event_source=source, event_id=event_id,
        level=_int(_text(fields, "Level")),
        computer=_text(fields, "Computer"),
        channel=_text(fields, "Channel"),
        record_id=_int(_text(fields, "EventRecordID")),
        data=tuple(values), binary_data=binary_hex,
        error_code=code_from_event_binary(binary_hex) if binary_hex else None,
        message=message, binary=binary, pool=pool,
    )


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
_RECOVER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, recover=True)


def events_from_xml(text: str, path: str = "<text>", kb: KnowledgeBase | None = None) -> EventLogRead:
    """Events from exported XML ``text`` (with or without an <Events> root or namespace); never raises."""
    kb = kb or load_kb()
    body = re.sub(r"^\s*(?:\ufeff)?<\?xml[^>]*\?>", "", text)
    problems: list[EventLogProblem] = []
    wrapped = f"<Events>{body}</Events>"
    try:
        root = etree.fromstring(wrapped.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as e:
        problems.append(EventLogProblem(path, f"XML is damaged ({e}); read what could be recovered"))
        root = etree.fromstring(wrapped.encode("utf-8"), _RECOVER)
    events: list[Event] = []
    elements = [] if root is None else [el for el in root.iter() if _local(el.tag) == "Event"]
    for position, el in enumerate(elements, 1):
        try:
            events.append(_event(el, kb))
        except ValueError as e:
            problems.append(EventLogProblem(path, f"event {position} skipped: {e}", position))
    return EventLogRead(path, "xml", tuple(events), tuple(problems))


@dataclass(frozen=True, slots=True)
class _ChunkRange:
    """The record ids a whole chunk's header says it holds."""

    index: int
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class _Layout:
    """What the file header and chunk headers say, checked here (the parser reports none of it)."""

    problems: tuple[EventLogProblem, ...]
    ranges: tuple[_ChunkRange, ...]
    """Chunks with a signature and a sane record-id range: what the parser must return or report."""
    unsigned: frozenset[int]
    """Chunks within the declared count that have no signature (already reported as lost)."""
    readable: bool
    """False when the file ends inside its header: there is nothing for the parser to read."""


def _check_chunks(path: str, fh: BinaryIO, present: int, declared: int,
                  no_crc: bool) -> tuple[list[EventLogProblem], list[_ChunkRange], set[int], bool, int]:
    """Signature, checksums and record-id range of each whole chunk.

    Returns problems, ranges, unsigned chunks, whether any checksum failed, and the number of chunks up to
    the last one with a signature.
    """
    problems: list[EventLogProblem] = []
    ranges: list[_ChunkRange] = []
    unsigned: set[int] = set()
    bad_crc, found = False, 0
    for index in range(present):
        chunk = fh.read(_CHUNK)
        if chunk[:8] != _CHUNK_MAGIC:
            if index < declared:  # NOTE: beyond the declared count, zeroed chunks are preallocated space
                unsigned.add(index)
                what = "no chunk signature" if chunk.strip(b"\0") else "all zero"
                problems.append(EventLogProblem(path, f"chunk {index}: {what} although the header counts it;"
                                                      " its events are lost"))
            continue
        found = index + 1
        first, last = struct.unpack_from("<QQ", chunk, 24)
        free, data_crc = struct.unpack_from("<II", chunk, 48)
        ok = (zlib.crc32(chunk[:120] + chunk[128:_CHUNK_HEADER]) == struct.unpack_from("<I", chunk, 124)[0]
              and _CHUNK_HEADER <= free <= _CHUNK and zlib.crc32(chunk[_CHUNK_HEADER:free]) == data_crc)
        bad_crc = bad_crc or not ok
        if not ok and not no_crc:
            problems.append(EventLogProblem(path, f"chunk {index}: checksum does not match; read anyway"))
        if first <= last < first + _CHUNK // _MIN_RECORD:
            ranges.append(_ChunkRange(index, first, last))
    return problems, ranges, unsigned, bad_crc, found


def _evtx_layout(path: str, fh: BinaryIO, size: int) -> _Layout:
    """Check the file header and every whole chunk.

    Layout (libyal libevtx, "Windows XML Event Log (EVTX)"): a 4 KiB file header (chunk count at 42, flags
    at 120: 0x1 dirty, 0x4 written without checksums; CRC32 of bytes 0-120 at 124), then 64 KiB chunks:
    ``ElfChnk``, first/last record id at 24/32, free-space offset at 48, CRC32 of the records at 52 and of
    header bytes 0-120 + 128-512 at 124.
    """
    head = fh.read(_HEADER)
    if len(head) < _HEADER:
        problem = EventLogProblem(path, f"truncated inside the file header ({len(head)} bytes); no events")
        return _Layout((problem,), (), frozenset(), readable=False)
    _, _, _, _, _, minor, major, _, declared = _FILE_HEADER.unpack_from(head)
    flags, checksum = struct.unpack_from("<II", head, 120)
    no_crc = bool(flags & 0x4)
    header_crc_ok = zlib.crc32(head[:120]) == checksum
    problems: list[EventLogProblem] = []
    if not header_crc_ok and not no_crc:
        problems.append(EventLogProblem(path, "file header checksum does not match (copied while in use?)"))
    if major != 3:
        problems.append(EventLogProblem(path, f"unknown EVTX format version {major}.{minor}; read anyway"))
    if flags & 0x1:
        problems.append(EventLogProblem(path, "file header is marked dirty (log was not closed cleanly)"))
    if flags & ~0x7:
        problems.append(EventLogProblem(path, f"file header has unknown flags {flags:#x}; read anyway"))
    present = max(0, (size - _HEADER) // _CHUNK)
    if present < declared:
        problems.append(EventLogProblem(
            path, f"truncated: the header declares {declared} chunks, only {present} whole chunks are present;"
            " events in the missing chunks are lost"))
    chunk_problems, ranges, unsigned, bad_chunk_crc, found = _check_chunks(path, fh, present, declared, no_crc)
    problems.extend(chunk_problems)
    if no_crc and (bad_chunk_crc or not header_crc_ok):
        problems.append(EventLogProblem(
            path, "checksums do not match, but the header says the log was written without them (flag 0x4);"
            " read anyway"))
    if found > declared:
        problems.append(EventLogProblem(
            path, f"{found} chunks found but the header declares {declared} (copied while in use?);"
            " the extra chunks were read too"))
    return _Layout(tuple(problems), tuple(ranges), frozenset(unsigned), readable=True)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:197] + "..."


def _library_problem(path: str, error: BaseException, layout: _Layout) -> tuple[EventLogProblem, int | None]:
    """A parse error of the ``evtx`` library as a problem, and the chunk it is about if it names one.

    The library says ``Failed to parse record number N: ...``, ``Failed to parse chunk number N: ...`` or
    ``Failed to parse chunk containing record IDs A..B: ...``.
    """
    text = " ".join(str(error).split())
    if m := _RECORD_ERROR.match(text):
        return EventLogProblem(path, f"record {m[1]} could not be parsed: {_short(m[2])}", int(m[1])), None
    chunk, why = None, text
    if m := _CHUNK_ERROR.match(text):
        chunk, why = int(m[1]), m[2]
    elif m := _CHUNK_IDS_ERROR.match(text):
        first, why = int(m[1]), m[3]
        chunk = next((r.index for r in layout.ranges if r.first == first), None)
    if chunk is None:
        return EventLogProblem(path, f"part of the file could not be parsed: {_short(text)}"), None
    return EventLogProblem(path, f"chunk {chunk} could not be parsed; its events are lost: {_short(why)}"), chunk


def _lost(path: str, layout: _Layout, seen: list[int], failed: set[int]) -> list[EventLogProblem]:
    """Records a chunk header lists that the parser neither returned nor reported: loss is never silent."""
    starts = [r.first for r in layout.ranges]
    counts: Counter[int] = Counter()
    for record_id in seen:
        at = bisect.bisect_right(starts, record_id) - 1
        if at >= 0 and record_id <= layout.ranges[at].last:
            counts[at] += 1
    return [EventLogProblem(path, f"chunk {r.index}: {missing} of its records {r.first}..{r.last} were not"
                                  " returned by the parser; they are lost")
            for at, r in enumerate(layout.ranges)
            if r.index not in failed and (missing := r.last - r.first + 1 - counts[at]) > 0]


@dataclass(slots=True)
class _Pass:
    """What one pass of the parser over a file gave."""

    events: list[Event]
    problems: list[EventLogProblem]
    seen: list[int]
    """Record ids met, parsed or not: :func:`_lost` counts the rest."""
    failed_chunks: set[int]
    unlisted: list[int]
    """Ids of bad records beyond the first :data:`_LISTED`, summarised in one problem."""

    def bad_record(self, problem: EventLogProblem) -> None:
        """One record the library could not render: listed while few, else counted."""
        if problem.record is None:
            self.problems.append(problem)
            return
        self.seen.append(problem.record)
        if sum(p.record is not None for p in self.problems) < _LISTED:
            self.problems.append(problem)
        else:
            self.unlisted.append(problem.record)


def _parse_records(path: str, kb: KnowledgeBase, layout: _Layout, records: Iterator[object]) -> _Pass:
    """Every record the ``evtx`` library renders; a problem for each record or chunk it cannot."""
    out = _Pass([], [], [], set(), [])
    errors = 0
    while errors < _MAX_RECORD_ERRORS:
        try:
            record = next(records)
        except StopIteration:
            break
        except OSError as e:
            out.problems.append(EventLogProblem(path, f"reading stopped: {_short(str(e))}"))
            break
        except Exception as e:  # noqa: BLE001 - the library raises RuntimeError per bad record, then goes on
            errors += 1
            problem, chunk = _library_problem(path, e, layout)
            out.bad_record(problem)
            if chunk is not None:
                out.failed_chunks.add(chunk)
            continue
        if not isinstance(record, dict):  # NOTE: the library promises dicts; anything else is its bug
            errors += 1
            out.problems.append(EventLogProblem(path, f"the evtx library returned a {type(record).__name__}"))
            continue
        record_id = int(record["event_record_id"])
        try:
            out.events.append(_event(etree.fromstring(str(record["data"]).encode("utf-8"), _PARSER), kb))
            out.seen.append(record_id)
        except (etree.XMLSyntaxError, ValueError) as e:
            errors += 1
            out.bad_record(EventLogProblem(path, f"record {record_id} skipped: {_short(str(e))}", record_id))
    else:
        out.problems.append(EventLogProblem(path, f"gave up after {_MAX_RECORD_ERRORS} unreadable records"))
    if out.unlisted:
        out.problems.append(EventLogProblem(
            path, f"{len(out.unlisted)} more record(s) could not be parsed (ids {min(out.unlisted)}.."
            f"{max(out.unlisted)})"))
    return out


class _Bounded:
    """A read-only file object over ``fh`` that ends at ``size`` bytes (what the ``evtx`` parser is given)."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self._fh = fh
        self._size = size

    def read(self, n: int = -1) -> bytes:
        left = max(0, self._size - self._fh.tell())
        return self._fh.read(left if n is None or n < 0 else min(n, left))

    def readinto(self, buffer: bytearray) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_END:
            return self._fh.seek(self._size + offset)
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True


def _read_evtx(path: str, fh: BinaryIO, size: int, kb: KnowledgeBase) -> EventLogRead:
    """An .evtx file already open as ``fh``, ``size`` bytes long as checked (never more is read)."""
    if size > MAX_EVTX_BYTES:
        raise EventLogError(f"{path}: .evtx of {size:,} bytes, over the {MAX_EVTX_BYTES:,}-byte limit; not read. "
                            f"On the server, {_EXPORT_HINT}")
    try:
        fh.seek(0)
        layout = _evtx_layout(path, fh, size)
    except OSError as e:
        raise EventLogError(f"{path}: cannot read: {e.strerror or e}") from e
    if not layout.readable:
        return EventLogRead(path, "evtx", (), layout.problems)
    try:
        from evtx import PyEvtxParser  # NOTE: lazy, so text-only explain does not load the native module
    except ImportError as e:
        raise EventLogError(f"{path}: cannot read .evtx: the 'evtx' package is not importable ({e})") from e
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fh.seek(0)
            # NOTE: indent=False renders an empty element as <Data></Data>, not as whitespace text.
            result = _parse_records(path, kb, layout,
                                    iter(PyEvtxParser(_Bounded(fh, size), indent=False).records()))
        except Exception as e:  # noqa: BLE001 - a file header the library cannot parse at all
            problem = EventLogProblem(path, f"EVTX structure could not be parsed: {_short(str(e))}")
            return EventLogRead(path, "evtx", (), (*layout.problems, problem))
    problems = list(layout.problems)
    # NOTE: a chunk without its signature is reported by the layout check already; the library says it again.
    problems.extend(p for p in result.problems if not (
        (m := re.match(r"chunk (\d+) could not", p.message)) and int(m[1]) in layout.unsigned))
    problems.extend(_lost(path, layout, result.seen, result.failed_chunks | layout.unsigned))
    problems.extend(EventLogProblem(path, f"the evtx library warned: {text}")
                    for text in dict.fromkeys(_short(str(w.message)) for w in caught))
    return EventLogRead(path, "evtx", tuple(result.events), tuple(problems))


def decode_bytes(raw: bytes) -> str:
    """Text of a file or of stdin as Windows writes it: UTF-16 with a BOM (Event Viewer's "Save selected events",
    Notepad's "Unicode"), UTF-16 without one (an ASCII character then NUL: PowerShell 5 redirection), UTF-8
    (BOM dropped), else the ANSI code page of Western servers (cp1252: "zulässige" saved by an older editor).
    Never raises."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16", "replace")
    if len(raw) >= 2 and raw[0] and not raw[1]:
        return raw.decode("utf-16-le", "replace")
    if len(raw) >= 2 and not raw[0] and raw[1]:
        return raw.decode("utf-16-be", "replace")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def read_events(path: str | os.PathLike[str], kb: KnowledgeBase | None = None) -> EventLogRead:
    """Read one event log file (see the module docstring).

    Raises:
        EventLogError: missing, unreadable, not a regular file, empty, over its size limit, or neither EVTX nor XML.
    """
    name = os.fspath(path)
    kb = kb or load_kb()
    try:
        st = os.stat(name)
    except FileNotFoundError:
        raise EventLogError(f"{name}: no such file") from None
    except (OSError, ValueError) as e:
        raise EventLogError(f"{name}: cannot read: {getattr(e, 'strerror', None) or e}") from e
    if not stat.S_ISREG(st.st_mode):
        raise EventLogError(f"{name}: not a regular file (a folder, a FIFO or a device); give an .evtx file "
                            "or exported event XML")
    try:
        with open(name, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(8)
            if head == _EVTX_MAGIC:
                return _read_evtx(name, fh, size, kb)
            if size > MAX_EVENT_XML_BYTES:
                raise EventLogError(f"{name}: {size:,} bytes, over the {MAX_EVENT_XML_BYTES:,}-byte limit for "
                                    f"exported event XML; not read. On the server, {_EXPORT_HINT} "
                                    "(or wevtutil qe with /c:N for the newest N events)")
            raw = head + fh.read(MAX_EVENT_XML_BYTES - len(head))
    except OSError as e:
        raise EventLogError(f"{name}: cannot read: {e.strerror or e}") from e
    text = decode_bytes(raw)
    if not text.strip():
        raise EventLogError(f"{name}: empty file")
    if "<Event" not in text[:4096]:
        raise EventLogError(f"{name}: neither an .evtx file nor exported event XML")
    return events_from_xml(text, name, kb)
