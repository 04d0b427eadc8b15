"""From free text to signals: which knowledge-base entries the text shows, with evidence and confidence.

Shapes:
    ``match_text(text, kb) -> tuple[Signal, ...]``: every entry the text shows, one signal per
    (entry, how, evidence), ordered by line then entry id. Five ways in (:class:`Via`): a message pattern
    (HIGH; an entry's ``weak`` pattern MEDIUM), an error code in any spelling (see :mod:`.codes`), an event
    id after "event"/"event id" (MEDIUM, HIGH when a provider of the entry's family is named in the text), an
    HTTP status (HIGH after "HTTP"/"HTTP Error", MEDIUM as a bare ``500.32``-style sub-status).
    ``apply_overrides(signals, kb) -> tuple[Signal, ...]``: within one input, marks the signals of entries a
    seen entry overrides (``demoted_by``): a "runtime newer" message rules out the bitness reading of its
    BadImageFormatException, 0x8007000D that of the 500.19 around it, and a BadImageFormatException the
    "not a bitness problem" reading of the exception message that carries it; and the signals of
    entries whose ``specific_with`` code the same input shows (``promoted_by``): event 2214 with data
    ``c1 00 00 00`` is a filter of the other architecture.
    ``binaries_in(text) -> tuple[str, ...]``: Windows paths of .dll/.exe files named in the text.
    ``plain_text(text) -> str``: HTML/XML tags removed and entities decoded, line breaks kept; ``match_text``
    matches that too when it differs (an IIS detailed error page pasted as HTML).
    Event ids are read after "Event ID" and its localised Event Viewer labels ("Ereignis-ID", "イベント ID"),
    and from PowerShell's ``Get-WinEvent | Format-List`` records ("Id : 1000" beside "ProviderName : ...");
    an IIS log pasted with its ``#Fields:`` header gives its ``sc-win32-status`` and ``sc-status.sc-substatus``.

No errors are raised; text that shows nothing gives ``()``.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache

from iisbitness.explain.codes import CodeHit, Confidence, find_codes, has_code, hresult_from_win32
from iisbitness.explain.kb import CODE_CUE, Entry, EntryKind, KnowledgeBase, Specificity
from iisbitness.explain.spans import haystack, line_breaks

__all__ = ["Signal", "Via", "apply_overrides", "binaries_in", "cues_in", "line_of", "match_text", "plain_text",
           "with_cues"]


class Via(str, Enum):
    """How a signal was recognised."""

    TEXT = "text"
    CODE = "code"
    EVENT = "event"
    EVENT_ID = "event-id"
    HTTP = "http"


@dataclass(frozen=True, slots=True)
class Signal:
    """One piece of evidence that an entry applies."""

    entry_id: str
    confidence: Confidence
    via: Via
    evidence: str
    """The text matched (at most 200 characters), or for events ``Provider/ID``."""
    line: int | None
    """1-based line of the evidence in the input text; None for event-log signals."""
    code: int | None = None
    """The error code read, when ``via`` is CODE."""
    binary: str | None = None
    """A .dll/.exe path named in the evidence, if any."""
    detail: str | None = None
    """Extra reading, e.g. ``worker architecture: AMD64``."""
    demoted_by: str | None = None
    """Id of a not-bitness entry seen in the same input that rules out this signal's bitness reading."""
    promoted_by: int | None = None
    """A code of the entry's ``specific_with`` seen in the same input, making this evidence specific."""
    cues: frozenset[str] = frozenset()
    """The contexts (:class:`~iisbitness.explain.kb.Context` ids, and ``code``) the same input shows."""


_PATH = re.compile(r"""(?:[a-z]:\\|\\\\\?\\[a-z]:\\|%\w+%\\)[^'"<>|\r\n*?]*?\.(?:dll|exe)\b""", re.IGNORECASE)
_ARCH = re.compile(r"images\s+built\s+for\s+an?\s+(\w+)\s+processor\s+architecture"
                   r"|仅支持加载为\s*(\w+)\s*处理器架构", re.IGNORECASE)
"""The worker's architecture a 2274/2282 message names (English; zh-CN "仅支持加载为 x86 处理器架构")."""
_EVENT_ID = re.compile(
    r"(?:\bevent\s*(?:id)?|\bEventCode(?==)"
    # NOTE: the "Event ID:" label of Event Viewer's copied details on localised Windows (de, fr, es, pt, it, nl,
    # pl, ja, zh, ru) and Splunk's EventCode=
    r"|\bEreignis-ID|\bID\s+de\s+l.(?:é|e)v(?:é|e)nement|\bId(?:\.|entificador)?\s+(?:del|de)\s+evento"
    r"|\bIdentifica(?:ção|cao)\s+do\s+evento|\bID\s+(?:do\s+)?evento|\bGebeurtenis-id|\bIdentyfikator\s+zdarzenia"
    r"|イベント\s*ID|事件\s*ID|Код\s+события)"
    r"\s*[:#=：]?\s*(\d{3,5})\b", re.IGNORECASE)
_PS_EVENT_ID = re.compile(r"^[ \t]*Id[ \t]*:[ \t]*(\d{3,5})[ \t]*\r?$", re.MULTILINE)
"""The ``Id`` line of PowerShell's ``Get-WinEvent | Format-List`` ("Id           : 1000"): an event id only in a record
(the lines between two blank lines) that also has a ``ProviderName`` line (:data:`_PS_PROVIDER`); the ``Id`` of
``Get-Process | Format-List`` is a process id."""
_PS_PROVIDER = re.compile(r"^[ \t]*ProviderName[ \t]*:", re.MULTILINE)
_BLANK_LINE = re.compile(r"\n[ \t]*\r?\n")
_XML_EVENT_ID = re.compile(r"<EventID(?:\s[^<>]{0,200})?>\s*(\d{1,10})\s*</EventID>", re.IGNORECASE)
"""An event's XML pasted cut off before its ``</Event>`` (so not read as an event): its ``<EventID>``, written with
or without its qualifiers (``<EventID Qualifiers="49152">2280</EventID>``; a full 32-bit id is read as its low 16
bits, as an event log's is)."""
_XML_PROVIDER = re.compile(r"""<Provider\s[^<>]{0,300}?\bName=["']([^"'<>]{1,200})["']""", re.IGNORECASE)
"""The provider an event's XML names (``<Provider Name="Microsoft-Windows-IIS-W3SVC-WP" .../>``): a source, as a
``Source:`` line is, when the XML is pasted cut off and read as text."""
_HTTP = re.compile(
    r"(?:\bHTTP(?:/1\.[01])?(?:\s+Error|-Fehler|\s+エラー|\s*错误|\s*錯誤)?"
    # NOTE: IIS error pages with a language pack: "Erreur HTTP 500.19", "Error HTTP", "Errore HTTP", "Erro HTTP",
    # "Ошибка HTTP", "HTTP-Fehler", "HTTP エラー", "HTTP 错误"
    r"|\b(?:Erreur|Error|Errore|Erro|Fout)\s+HTTP|Ошибка\s+HTTP)"
    r"[\s:]*(\d{3}(?:\.\d{1,2})?)(?!\d|\.\d)", re.IGNORECASE)
"""NOTE: "HTTP Error 503. The service is unavailable." ends its status with a full stop (issue 23)."""
_SUBSTATUS = re.compile(r"(?<![\w.])(50[023]\.\d{1,2})(?![\d.])")
_WORKERS = ("w3wp.exe", "iisexpress.exe", "inetinfo.exe")
_MAX_EVIDENCE = 200


_TAG = re.compile(r"</?[A-Za-z!?][^<>]{0,2000}>")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,8});", re.IGNORECASE)


def plain_text(text: str) -> str:
    """``text`` without HTML/XML tags and with entities decoded (an IIS detailed error page pasted as HTML,
    ``&#39;`` around a path); line breaks stay where they were, so line numbers still hold."""
    if not _TAG.search(text) and not _ENTITY.search(text):
        return text
    stripped = _TAG.sub(lambda m: "\n" * m.group(0).count("\n") or " ", text)
    return html.unescape(stripped)


def binaries_in(text: str) -> tuple[str, ...]:
    """Windows .dll/.exe paths in ``text`` (drive, ``\\\\?\\`` or ``%var%`` rooted), workers last."""
    found = list(dict.fromkeys(m.group(0) for m in _PATH.finditer(text)))
    return tuple(sorted(found, key=lambda p: p.casefold().endswith(_WORKERS)))


def line_of(text: str, offset: int) -> int:
    """1-based line number of ``offset`` in ``text`` (a binary search over the text's line breaks, found once per
    text: counting them per signal made a large paste quadratic; kept by the text's identity, see
    :func:`~iisbitness.explain.spans.haystack`)."""
    return bisect.bisect_left(line_breaks(text), offset) + 1


def _clip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_EVIDENCE else flat[: _MAX_EVIDENCE - 1] + "…"


def _detail(evidence: str) -> str | None:
    m = _ARCH.search(evidence)
    return f"worker process architecture: {m.group(1) or m.group(2)}" if m else None


def _pattern_signals(text: str, entry: Entry) -> list[Signal]:
    out = []
    hay = haystack(text)
    for patterns, sure in ((entry.patterns, Confidence.HIGH), (entry.weak, Confidence.MEDIUM),
                           (entry.hints, Confidence.LOW)):
        for pattern in patterns:
            for m in hay.finditer(pattern):
                evidence = m.group(0)
                paths = binaries_in(evidence)
                out.append(Signal(entry.id, sure, Via.TEXT, _clip(evidence), line_of(text, m.start()),
                                  binary=paths[0] if paths else None, detail=_detail(evidence)))
    return out


def _code_signals(text: str, kb: KnowledgeBase, hits: list[CodeHit]) -> list[Signal]:
    out = []
    for hit in hits:
        for entry in kb.by_code(hit.code):
            out.append(Signal(entry.id, hit.confidence, Via.CODE, _clip(hit.text), line_of(text, hit.start),
                              code=hit.code, detail=f"read as {hit.form.value}"))
    return out


_SOURCE = re.compile(
    # NOTE: the "Source:" line of Event Viewer's copied details (en, de, fr, es, it, pt, nl, pl, ja, zh, ru), a
    # "Provider Name" line, PowerShell's "ProviderName :" (Get-WinEvent | Format-List), and Splunk's SourceName=
    r"^[ \t]*(?:Source|Provider(?:[ \t]*Name)?|SourceName|Quelle|Origine|Origen|Fonte|Bron|Źródło|ソース|来源|來源"
    r"|Источник)[ \t]*[:=：][ \t]*(\S+(?: \S+)*?)(?=[ \t]{2,}|[ \t]*$)", re.IGNORECASE | re.MULTILINE)
"""A source line's value ends at the line's end or at two spaces ("Source: W3SVC-WP  Event ID: 2281")."""


@lru_cache(maxsize=64)
def _provider_name(name: str) -> re.Pattern[str]:
    """A provider name as a whole word: a long one in any case, a short one (``WAS``) only in upper case."""
    pattern = re.escape(name) if len(name) > 5 else re.escape(name.upper())
    return re.compile(rf"(?<![\w-]){pattern}(?![\w-])", 0 if len(name) <= 5 else re.IGNORECASE)


def _named_families(text: str, kb: KnowledgeBase) -> tuple[set[str], bool]:
    """``(families, a source is named)``: the provider families of the sources the text names on a
    ``Source:`` line; without such a line, the families whose long provider names occur in the text
    (a short one such as ``WAS`` only as a whole upper-case word: "was" is English)."""
    hay = haystack(text)
    sources = [m.group(1).strip("'\"") for m in hay.finditer(_SOURCE)]
    sources += [m.group(1) for m in hay.finditer(_XML_PROVIDER)]
    if sources:
        # NOTE: each distinct source once: a whole Event Viewer export names the same few on every event
        return {f for f in (kb.family_of(src, text) for src in dict.fromkeys(sources)) if f is not None}, True
    found = set()
    for fam in kb.families:
        for name in fam.names:
            if hay.search(_provider_name(name)):
                found.add(fam.family)
    return found, False


def _in_ps_event(text: str, start: int, end: int) -> bool:
    """True when the record (lines between blank lines) around ``text[start:end]`` has a ``ProviderName`` line."""
    before = [m.end() for m in _BLANK_LINE.finditer(text, max(0, start - 2000), start)]
    after = _BLANK_LINE.search(text, end, end + 2000)
    return _PS_PROVIDER.search(text, before[-1] if before else max(0, start - 2000),
                               after.start() if after else min(len(text), end + 2000)) is not None


def _event_id_signals(text: str, kb: KnowledgeBase) -> list[Signal]:
    """An event id the text gives (``Event ID: 2282``): HIGH when the text names a source of the entry's
    provider family, MEDIUM when it names no source; nothing when it names only other sources (an
    Application Hang 1002 or an Application Error 1000 is not W3SVC 1002 (IIS 6) or ANCM 1000)."""
    out = []
    named, source_given = _named_families(text, kb)
    hay = haystack(text)
    found = [(m, int(m.group(1))) for m in hay.finditer(_EVENT_ID)]
    found += [(m, int(m.group(1)) & 0xFFFF) for m in hay.finditer(_XML_EVENT_ID)]
    found += [(m, int(m.group(1))) for m in hay.finditer(_PS_EVENT_ID) if _in_ps_event(text, m.start(), m.end())]
    for m, event_id in found:
        for entry in kb.entries:
            families = {k.family for k in entry.events if k.event_id == event_id}
            if not families or (source_given and not families & named):
                continue
            sure = Confidence.HIGH if families & named else Confidence.MEDIUM
            out.append(Signal(entry.id, sure, Via.EVENT_ID, _clip(m.group(0)), line_of(text, m.start())))
    return out


def _http_signals(text: str, kb: KnowledgeBase) -> list[Signal]:
    out = []
    hay = haystack(text)
    for regex, sure in ((_HTTP, Confidence.HIGH), (_SUBSTATUS, Confidence.MEDIUM)):
        for m in hay.finditer(regex):
            for entry in kb.by_http(m.group(1)):
                out.append(Signal(entry.id, sure, Via.HTTP, _clip(m.group(0)), line_of(text, m.start())))
    return out


_HTTPERR_POOL_DOWN = "appoffline"
"""HTTPERR's ``s-reason`` for a 503 because rapid-fail protection took the pool offline ("Error logging in
HTTP APIs", KB 820729); AppPoolTimer, AppShutdown, QueueFull and the others are not a load failure."""


def _w3c_signals(text: str, kb: KnowledgeBase) -> list[Signal]:
    """An IIS (W3C) log or an HTTP.sys HTTPERR log pasted with its ``#Fields:`` line, read by the columns' own
    names; without the header the bare numbers of a log line are never read.

    - ``sc-win32-status``: a Win32 error (HIGH), except 5 on a 401 (the first leg of a Windows
      authentication challenge logs ``401 2 5`` on every such request).
    - ``sc-status``/``sc-substatus``: an HTTP status; HIGH, but a 503 in a site's log only MEDIUM: when
      the pool is down HTTP.sys answers and logs in HTTPERR, so a 503 here came from the app or a module.
    - HTTPERR ``s-reason`` ``AppOffline`` (with its ``s-queuename``, the pool): the pool is down (HIGH)."""
    out: list[Signal] = []
    fields: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#Fields:"):
            fields = line[len("#Fields:"):].split()
            continue
        values = line.split()
        if not fields or line.startswith("#") or len(values) != len(fields):
            continue
        row = dict(zip(fields, values, strict=True))
        status, sub = row.get("sc-status", ""), row.get("sc-substatus", "")
        win32 = row.get("sc-win32-status", "0")
        if win32.isdigit() and int(win32) and not (status == "401" and win32 == "5"):
            code = hresult_from_win32(int(win32))
            out += [Signal(e.id, Confidence.HIGH, Via.CODE, f"sc-win32-status {win32}", number, code=code,
                           detail="read as the IIS log's sc-win32-status") for e in kb.by_code(code)]
        if "s-reason" in row:  # NOTE: HTTPERR: only the reason says why HTTP.sys answered
            if row["s-reason"].casefold() == _HTTPERR_POOL_DOWN and status == "503":
                pool = row.get("s-queuename", "-")
                out += [Signal(e.id, Confidence.HIGH, Via.HTTP, f"HTTPERR 503 AppOffline {pool}", number,
                               detail=f"application pool {pool} is offline") for e in kb.by_http("503")]
            continue
        if status.isdigit() and sub.isdigit():
            entries = kb.by_http(f"{status}.{sub}") or (kb.by_http(status) if sub == "0" else ())
            sure = Confidence.MEDIUM if status == "503" else Confidence.HIGH
            out += [Signal(e.id, sure, Via.HTTP, f"sc-status {status}.{sub}", number) for e in entries]
    return out


def apply_overrides(signals: tuple[Signal, ...], kb: KnowledgeBase) -> tuple[Signal, ...]:
    """``signals`` of ONE input with ``demoted_by`` set where a seen entry overrides theirs (see module doc)."""
    claims: dict[str, list[str]] = {}
    for entry_id in dict.fromkeys(s.entry_id for s in signals):
        for target in kb.entry(entry_id).overrides:
            claims.setdefault(target, []).append(entry_id)
    # NOTE: an overridden entry overrides nothing ("runtime newer" beats BadImageFormatException, which then
    # no longer beats the exception message around it); a target keeps the first claim of an entry that is not
    # overridden itself ("Bad IL format" rules out the exception message around it even though the
    # BadImageFormatException it also beats claimed that message first)
    by = {target: source for target, sources in claims.items()
          for source in [next((src for src in sources if src not in claims), None)] if source is not None}
    codes = {s.code for s in signals if s.code is not None and s.confidence >= Confidence.MEDIUM}
    codes.update(c for s in signals for c in _worded_code(s, kb))
    out = []
    for s in signals:
        with_code = next((c for c in kb.entry(s.entry_id).specific_with if c in codes), None)
        if s.entry_id in by:
            s = replace(s, demoted_by=by[s.entry_id])
        if with_code is not None:
            s = replace(s, promoted_by=with_code)
        out.append(s)
    return tuple(out)


def _worded_code(signal: Signal, kb: KnowledgeBase) -> tuple[int, ...]:
    """The code ``signal`` shows in words: the exact system message of a code entry that is architecture-specific
    wherever it is seen ("%1 is not a valid Win32 application" is FormatMessage's text of 193, the same evidence as
    ``c1 00 00 00``), read at HIGH; () for anything else (a weak or localised-hint match, an entry whose wording is
    specific only in some contexts, "incorrect format")."""
    entry = kb.entry(signal.entry_id)
    if (signal.via is not Via.TEXT or signal.confidence < Confidence.HIGH or entry.kind is not EntryKind.CODE
            or len(entry.codes) != 1 or entry.specificity is not Specificity.SPECIFIC or entry.specific_in is not None):
        return ()
    return entry.codes


def _signals(text: str, kb: KnowledgeBase) -> list[Signal]:
    signals: list[Signal] = []
    for entry in kb.entries:
        signals.extend(_pattern_signals(text, entry))
    signals.extend(_code_signals(text, kb, find_codes(text)))
    signals.extend(_event_id_signals(text, kb))
    signals.extend(_http_signals(text, kb))
    if "#Fields:" in text:
        signals.extend(_w3c_signals(text, kb))
    return signals


def cues_in(text: str, kb: KnowledgeBase, events: tuple[tuple[str, int], ...] = ()) -> frozenset[str]:
    """The contexts ``text`` shows (a cue pattern of a :class:`~iisbitness.explain.kb.Context` matches, or one of
    ``events``, ``(family, event id)`` pairs, is one of the context's events, or a context it is ``shown_by`` is
    shown), and ``code`` when the text holds
    an error code read at medium confidence or more (any code, known to the knowledge base or not; an HTTP
    status is not one)."""
    hay = haystack(text)
    found = {c.id for c in kb.contexts
             if any(hay.search(p) for p in c.cues) or any((k.family, k.event_id) in events for k in c.events)}
    found |= {c.id for c in kb.contexts if not found.isdisjoint(c.shown_by)}  # NOTE: IIS 6 shows Windows 5.2
    # NOTE: an HTTP status after "Error" ("HTTP Error 503") is not an error code
    # NOTE: every hit find_codes gives is MEDIUM or HIGH: has_code stops at the first
    if has_code(text, (_HTTP, _SUBSTATUS)):
        found.add(CODE_CUE)
    return frozenset(found)


def with_cues(signals: tuple[Signal, ...], cues: frozenset[str]) -> tuple[Signal, ...]:
    """``signals`` of one input, each carrying that input's ``cues``."""
    return tuple(replace(s, cues=cues) for s in signals) if cues else signals


def match_text(text: str, kb: KnowledgeBase) -> tuple[Signal, ...]:
    """All signals in ``text`` (see the module docstring); duplicates of the same evidence are merged; each
    carries the cues of the whole text (:func:`cues_in`)."""
    signals = _signals(text, kb)
    plain = plain_text(text)
    if plain is not text:
        # NOTE: the raw text first (codes in <Binary>, attribute values), then what only the page's words show
        seen = {(s.entry_id, s.via, s.line) for s in signals}
        signals += [s for s in _signals(plain, kb) if (s.entry_id, s.via, s.line) not in seen]
    best: dict[tuple[str, Via, str], Signal] = {}
    for s in signals:
        key = (s.entry_id, s.via, s.evidence.casefold())
        if key not in best or s.confidence > best[key].confidence:
            best[key] = s
    ordered = tuple(sorted(best.values(), key=lambda s: (s.line or 0, s.entry_id, s.via.value, s.evidence)))
    if not ordered:
        return ()
    return with_cues(apply_overrides(ordered, kb), cues_in(plain if plain is not text else text, kb))
