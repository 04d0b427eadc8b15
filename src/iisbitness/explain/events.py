"""Read Windows event logs: .evtx files and exported event XML, tolerant of damage.

API (used by ``iisbitness explain --event-log`` and by ``scan``'s correlation):

    read_events(path: str | os.PathLike[str], kb: KnowledgeBase | None = None) -> EventLogRead

    EventLogRead(path, format, events: tuple[Event, ...], problems: tuple[EventLogProblem, ...])
    Event(time, provider, event_source, event_id, level, computer, channel, record_id,
          data: tuple[EventData, ...], binary_data, error_code, message, binary, pool)

Formats:
    - ``.evtx`` (recognised by the ``ElfFile`` magic, not the name), read with python-evtx. Damage is data:
      header/chunk checksum mismatches, the dirty flag, a file shorter than its header's chunk count
      (truncated copy) or with more chunks than declared (copied while in use: the extra chunks are read
      too), and records that do not parse all become :class:`EventLogProblem`; whatever parses is returned.
    - Event XML as ``wevtutil qe LOG /f:xml`` writes it (a bare sequence of ``<Event>`` elements, no root,
      with the ``http://schemas.microsoft.com/win/2004/08/events/event`` namespace) and as Event Viewer or
      Azure App Service export it (``<Events><Event>...``, namespace often absent, unnamed ``<Data>``).
      Malformed XML is re-read in lxml's recover mode, with a problem saying so.

Event fields:
    ``time`` is ISO 8601 UTC (``2017-03-22T14:11:22.460245Z``) or None; ``provider`` is Provider/@Name,
    ``event_source`` Provider/@EventSourceName (manifest providers such as ``Microsoft-Windows-IIS-W3SVC-WP``
    carry ``W3SVC-WP`` there). ``data`` keeps every <Data> (name or None, text) in order; python-evtx's
    rendering of classic events as one <Data> holding ``<string>..</string>`` lines is split back into
    strings. ``binary_data`` is the <Binary> hex; ``error_code`` its first little-endian DWORD as a code
    (``c1000000`` -> 0x800700C1). ``message`` is the knowledge base's template for (family, id) filled with
    the insertion strings, else the strings joined with spaces (python-evtx cannot render message DLLs).
    ``binary`` is the .dll/.exe the event names (template parameter, else the first path in the text, worker
    EXEs last); ``pool`` the application pool (template parameter or a Data named AppPoolID/AppPoolName).

Errors:
    :class:`EventLogError` (an IisBitnessError) only when nothing can be read at all: the file is missing,
    unreadable, empty, or neither EVTX nor XML. The CLI turns it into exit 2 naming the file.

No public .evtx file carries IIS/WAS events (see shared/corpus/evtx/SOURCES.tsv); IIS events are tested from
XML exports. Sources: python-evtx 0.8 (``FileHeader.verify``, ``chunks(include_inactive=True)``).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from lxml import etree  # type: ignore[import-untyped]  # NOTE: no stubs installed

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
    "events_from_xml",
    "read_events",
]

_EVTX_MAGIC = b"ElfFile\x00"
_CHUNK = 0x10000
_HEADER = 0x1000
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
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child(el: etree._Element, name: str) -> etree._Element | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


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


def _event(el: etree._Element, kb: KnowledgeBase) -> Event:
    """One <Event> element to an :class:`Event`; raises ValueError without System/EventID."""
    system = _child(el, "System")
    if system is None:
        raise ValueError("no <System> element")
    prov = _child(system, "Provider")
    event_id = _int(getattr(_child(system, "EventID"), "text", None))
    if event_id is None:
        raise ValueError("no numeric <EventID>")
    values: list[EventData] = []
    binary_hex = None
    for part in ("EventData", "UserData"):
        block = _child(el, part)
        for d in block.iter() if block is not None else ():
            if _local(d.tag) == "Data":
                values.append(EventData(d.get("Name"), d.text or ""))
            elif _local(d.tag) == "Binary" and (d.text or "").strip():
                binary_hex = (d.text or "").strip()
    values = _strings(values)
    strings = [v.value for v in values]
    provider = prov.get("Name", "") if prov is not None else ""
    source = prov.get("EventSourceName") if prov is not None else None
    family = kb.family_of(source or provider, "\n".join(strings)) or kb.family_of(provider, "\n".join(strings))
    entries = kb.by_event(family, event_id) if family else ()
    template = next((e for e in entries if e.template), None)
    filled = _fill(template.template, strings) if template and template.template else None
    message = filled or " ".join(" ".join(s.split()) for s in strings if s.strip())
    binary = next((p for e in entries if (p := _param(strings, e.binary_param))), None)
    if binary is None:
        paths = binaries_in("\n".join(strings))
        binary = paths[0] if paths else None
    pool = next((p for e in entries if (p := _param(strings, e.pool_param))), None) or next(
        (v.value for v in values if v.name and v.name.casefold() in _POOL_NAMES and v.value), None)
    created = _child(system, "TimeCreated")
    return Event(
        time=_iso(created.get("SystemTime") if created is not None else None),
        provider=provider, event_source=source, event_id=event_id,
        level=_int(getattr(_child(system, "Level"), "text", None)),
        computer=getattr(_child(system, "Computer"), "text", None),
        channel=getattr(_child(system, "Channel"), "text", None),
        record_id=_int(getattr(_child(system, "EventRecordID"), "text", None)),
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


def _evtx_header_problems(path: str, size: int, header: object) -> list[EventLogProblem]:
    problems = []
    declared = int(header.chunk_count())  # type: ignore[attr-defined]
    present = max(0, (size - _HEADER) // _CHUNK)
    if not header.verify():  # type: ignore[attr-defined]
        problems.append(EventLogProblem(path, "file header checksum does not match (copied while in use?)"))
    if header.is_dirty():  # type: ignore[attr-defined]
        problems.append(EventLogProblem(path, "file header is marked dirty (log was not closed cleanly)"))
    if present < declared:
        problems.append(EventLogProblem(
            path, f"truncated: the header declares {declared} chunks, only {present} whole chunks are present;"
            " events in the missing chunks are lost"))
    return problems


def _read_chunk(path: str, index: int, chunk: object, kb: KnowledgeBase, events: list[Event]) -> list[EventLogProblem]:
    """Append the chunk's readable records to ``events``; problems for the rest."""
    failures: Counter[str] = Counter()
    records = iter(chunk.records())  # type: ignore[attr-defined]
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except Exception as e:  # noqa: BLE001 - a broken record chain ends the chunk
            failures[f"record chain broken: {type(e).__name__}"] += 1
            break
        try:
            el = etree.fromstring(record.xml().encode("utf-8"), _PARSER)
            events.append(_event(el, kb))
        except Exception as e:  # noqa: BLE001 - python-evtx raises many kinds; damage is data
            failures[type(e).__name__] += 1
    return [EventLogProblem(path, f"chunk {index}: {count} record(s) could not be parsed ({name})")
            for name, count in sorted(failures.items())]


def _read_evtx(path: str, kb: KnowledgeBase) -> EventLogRead:
    from Evtx.Evtx import Evtx  # type: ignore[import-untyped]  # NOTE: lazy, text-only explain skips it

    problems: list[EventLogProblem] = []
    events: list[Event] = []
    try:
        with Evtx(path) as log:
            header = log.get_file_header()
            problems.extend(_evtx_header_problems(path, os.path.getsize(path), header))
            declared = int(header.chunk_count())
            index = -1
            for index, chunk in enumerate(header.chunks(include_inactive=True)):
                if not chunk.check_magic():
                    index -= 1
                    break
                if not chunk.verify():
                    problems.append(EventLogProblem(path, f"chunk {index}: checksum does not match; read anyway"))
                problems.extend(_read_chunk(path, index, chunk, kb, events))
            if index + 1 > declared:
                problems.append(EventLogProblem(
                    path, f"{index + 1} chunks found but the header declares {declared} (copied while in use?);"
                    " the extra chunks were read too"))
    except OSError as e:
        raise EventLogError(f"{path}: cannot read: {e.strerror or e}") from e
    except Exception as e:  # noqa: BLE001 - a header python-evtx cannot parse at all
        problems.append(EventLogProblem(path, f"EVTX structure could not be parsed ({type(e).__name__}: {e})"))
    return EventLogRead(path, "evtx", tuple(events), tuple(problems))


def read_events(path: str | os.PathLike[str], kb: KnowledgeBase | None = None) -> EventLogRead:
    """Read one event log file (see the module docstring).

    Raises:
        EventLogError: missing, unreadable, empty, or neither EVTX nor XML.
    """
    name = os.fspath(path)
    kb = kb or load_kb()
    try:
        head = Path(name).read_bytes()[:8] if Path(name).is_file() else None
    except OSError as e:
        raise EventLogError(f"{name}: cannot read: {e.strerror or e}") from e
    if head is None:
        raise EventLogError(f"{name}: no such file")
    if head == _EVTX_MAGIC:
        return _read_evtx(name, kb)
    try:
        raw = Path(name).read_bytes()
    except OSError as e:
        raise EventLogError(f"{name}: cannot read: {e.strerror or e}") from e
    text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8", "replace")
    if not text.strip():
        raise EventLogError(f"{name}: empty file")
    if "<Event" not in text[:4096]:
        raise EventLogError(f"{name}: neither an .evtx file nor exported event XML")
    return events_from_xml(text, name, kb)
