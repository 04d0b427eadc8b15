"""The explain knowledge base: ``knowledge.toml`` loaded into frozen dataclasses.

Shapes:
    ``load_kb(path=None) -> KnowledgeBase`` (the shipped file when ``path`` is None; cached).
    ``KnowledgeBase.entries``: ``tuple[Entry, ...]`` in file order; ``entry(id)``, ``by_code(hresult)``,
    ``by_event(family, event_id)``, ``family_of(provider, text)``, ``rules[rule_id] -> RuleInfo``.

Specificity (issue 15): every entry states how specific its evidence is to architecture
(:class:`Specificity`); :attr:`Specificity.cap` is the highest confidence a bitness cause may get from it.

Pasted text (issue 23): every literal space of a pattern matches any run of whitespace, line breaks included
(:func:`flexible_spaces`), so a message hard-wrapped inside a paste still matches. ``KnowledgeBase.contexts``
(:class:`Context`) are cues a whole input can show (an ASP.NET Core Module log, IIS 6, an architecture
named): they reorder an entry's causes (the context's rules first) and can drop an entry's usual
not-bitness reading (``usual_unless``).

Errors:
    :class:`KnowledgeBaseError` (an :class:`~iisbitness.errors.IisBitnessError`) when the file is not valid
    TOML, a field has the wrong type, a regular expression does not compile, an id repeats, or a cause names
    a rule id that is not in :data:`SCAN_RULE_IDS`. The shipped file is checked by the tests.

The knowledge itself is data: see ``knowledge.toml``'s header for the fields and the facts sheet
(shared/domain/iis-bitness-facts.md, section H and D6) for the sources.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NewType

from iisbitness.errors import IisBitnessError
from iisbitness.explain.codes import Confidence

__all__ = [
    "ARCH_CUE",
    "IMAGE_RULES",
    "NEWER_WINDOWS_RULE",
    "SCAN_RULE_IDS",
    "Cause",
    "Context",
    "Entry",
    "EntryKind",
    "EventKey",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "ProviderFamily",
    "RuleId",
    "RuleInfo",
    "Source",
    "Specificity",
    "Step",
    "cause_cap",
    "flexible_spaces",
    "load_kb",
    "parse_kb",
    "ruled_out",
    "unlikely_in",
]

RuleId = NewType("RuleId", str)
"""A permanent kebab-case ``iisbitness scan`` rule id."""

SCAN_RULE_IDS: tuple[str, ...] = (
    "global-module-arch", "isapi-filter-arch", "isapi-extension-arch", "managed-assembly-arch",
    "iis-manager-32bit-assembly", "pool-arch-conflict", "binary-missing", "iis6-isolation-wow64",
    "iis6-filter-arch", "iis6-extension-arch", "aspnetcore-inprocess-arch", "aspnetcore-multiple-inprocess",
    "aspnetcore-runtime-missing", "native-library-arch", "com-inproc-arch", "gac-assembly-arch", "pool-undefined",
    "isapi-not-allowed", "compression-scheme-arch", "handler-module-skipped", "iis6-os-version",
)
"""The scan rule ids a cause may name (issue 5; the scan engineer owns the rules themselves): every scan rule but
``binary-invalid`` (a damaged file has no symptom of its own). Written out rather than read from
:data:`iisbitness.rules.RULES` (which would load every rule, the load plan and the PE reader into ``explain``);
``tests/explain/test_kb.py`` checks that it names exactly those."""

NEWER_WINDOWS_RULE = RuleId("iis6-os-version")
"""The scan rule of an image built for a newer Windows than the one loading it (Windows XP / Server 2003 refuse a 6.0
image with the same error 193 as one of the other architecture): where an entry's causes list it (it holds in the
input's contexts), 193 does not show an architecture problem by itself, and its image rules get HIGH only from an
input that names an architecture too (the ``arch`` context; :func:`iisbitness.explain.report.build_report`)."""

ARCH_CUE = "arch"
"""The context of an input that names an architecture (x86, x64, 32-bit, WOW64 ...)."""

IMAGE_RULES: frozenset[str] = frozenset({
    "global-module-arch", "isapi-filter-arch", "isapi-extension-arch", "managed-assembly-arch",
    "iis-manager-32bit-assembly", "pool-arch-conflict", "iis6-isolation-wow64", "iis6-filter-arch",
    "iis6-extension-arch", "aspnetcore-inprocess-arch", "native-library-arch", "com-inproc-arch", "gac-assembly-arch",
    "compression-scheme-arch",
})
"""The scan rules whose situation is an image of the other architecture than the process that loads it: the only
causes architecture-specific evidence (193 / 0x800700C1, "incorrect format", 500.32, "only supports loading images
built for ...") can make HIGH (see :func:`cause_cap`). The others are not about an image's architecture:
``binary-missing`` (a file absent from the process's view fails with 126 ERROR_MOD_NOT_FOUND, 2 or 3, never 193:
facts sheet H), ``aspnetcore-runtime-missing`` (no runtime of the pool's architecture: 500.31, "could not find
dotnet.exe"), ``aspnetcore-multiple-inprocess`` (500.34/500.35: hosting models), ``pool-undefined``,
``isapi-not-allowed``, ``handler-module-skipped``."""

_FLAGS = re.IGNORECASE

CODE_CUE = "code"
"""The built-in cue of an input that shows an error code (HRESULT, Win32 error) at medium confidence or more."""


def flexible_spaces(pattern: str) -> str:
    """``pattern`` with each run of literal spaces outside a character class made ``\\s+`` (``\\s*`` when the
    run is optional, ``' ?'`` or ``' *'``): a message wrapped at any column by a mail client, a forum or a
    terminal still matches. Escapes and character classes are copied as they are."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            if pattern[i + 1:i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1:i + 2] == "]":  # NOTE: a ] right after [ or [^ is a literal
                out.append("]")
                i += 1
            i += 1
            continue
        if ch == " ":
            j = i
            while j < len(pattern) and pattern[j] == " ":
                j += 1
            if pattern[j:j + 1] in ("?", "*"):
                out.append("\\s*")
                j += 1
            else:
                out.append("\\s+")
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class KnowledgeBaseError(IisBitnessError):
    """``knowledge.toml`` is malformed; the message names the entry and field."""


class EntryKind(str, Enum):
    """What kind of signal an entry recognises."""

    CODE = "code"
    MESSAGE = "message"
    EVENT = "event"
    HTTP = "http"


class Specificity(str, Enum):
    """How specific an entry's evidence is to a bitness (architecture) problem; caps cause confidence.

    ``specific``: the evidence itself says "wrong architecture" (193 / 0x800700C1, BadImageFormatException's
    "incorrect format", HTTP 500.32, "only supports loading images built for a ... processor architecture",
    "%1 is not a valid Win32 application") or names its first cause's situation exactly (500.35): up to HIGH,
    for the causes that are an image of the other architecture only (:func:`cause_cap`; 500.35's own cause at most
    MEDIUM: two in-process apps in one pool is not an architecture problem).
    ``suggestive``: bitness is one of a few usual causes (0x8007007E, class not registered, 500.31): MEDIUM.
    ``generic``: a failure with many causes, bitness one of them (500.30, 503, WAS 5002, ANCM 1007): MEDIUM,
    and the entry says what to read next.
    ``not-bitness``: the evidence names another problem (0x8007000D malformed configuration, 0x80070005
    access denied ...): LOW, and the entry says what it is.
    """

    SPECIFIC = "specific"
    SUGGESTIVE = "suggestive"
    GENERIC = "generic"
    NOT_BITNESS = "not-bitness"

    @property
    def cap(self) -> Confidence:
        """The highest confidence a bitness cause may get from evidence of this specificity."""
        if self is Specificity.SPECIFIC:
            return Confidence.HIGH
        return Confidence.LOW if self is Specificity.NOT_BITNESS else Confidence.MEDIUM

    @property
    def order(self) -> int:
        """Sort key, most specific first (0)."""
        return list(Specificity).index(self)


def cause_cap(rule: str, specificity: Specificity, by_code: bool = False) -> Confidence:
    """The highest confidence a cause naming scan rule ``rule`` may get from evidence of ``specificity``: HIGH only
    for an image rule (:data:`IMAGE_RULES`) on architecture-specific evidence; any other rule at most MEDIUM
    (500.35 names its situation exactly, but that situation is not an image of the wrong architecture), and LOW
    when ``by_code``: the evidence was made specific by an architecture code the same input shows (an event's data
    193: the file was found and its image refused, so it is not missing, KB 895976), except
    :data:`NEWER_WINDOWS_RULE`, whose refusal is that same 193 (MEDIUM)."""
    cap = specificity.cap
    if rule in IMAGE_RULES:
        return cap
    if rule == NEWER_WINDOWS_RULE:
        # NOTE: Windows 5.x refuses an image built for 6.0 with that same 193: the code shows it as much as it shows
        # an architecture, so an event's data 193 does not make it LOW (it stays MEDIUM: not an image's architecture)
        return min(cap, Confidence.MEDIUM)
    if by_code and specificity is Specificity.SPECIFIC:
        return Confidence.LOW
    return min(cap, Confidence.MEDIUM)


@dataclass(frozen=True, slots=True)
class Cause:
    """One ranked bitness situation behind a signal."""

    rule: RuleId
    """The scan rule that detects the situation."""
    why: str
    """How the situation produces the signal."""
    context: str | None = None
    """A :class:`Context` id: the cause holds only in an input that shows that context (error 193 is a COM
    server of the other bitness only inside a COM activation); None: always."""

    def holds(self, cues: AbstractSet[str]) -> bool:
        """Whether the cause holds in an input showing the contexts ``cues`` (:attr:`context`)."""
        return self.context is None or self.context in cues


@dataclass(frozen=True, slots=True)
class Step:
    """A next step: a check to run by hand or a command."""

    how: str
    """What the step does, in words."""
    command: str
    """The command line (cmd, PowerShell or iisbitness); placeholders in CAPITALS (POOL, SITE, APP)."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where a fact comes from."""

    key: str
    """Facts-sheet key (``S7``) or a key listed in docs/explain.md (``X1``)."""
    ref: str
    """Human reference: KB number, URL or repository path."""


@dataclass(frozen=True, slots=True)
class EventKey:
    """An event-log trigger: provider family and event id."""

    family: str
    event_id: int


@dataclass(frozen=True, slots=True)
class ProviderFamily:
    """Providers grouped under one family id (``w3svc-wp``, ``was``, ``ancm`` ...)."""

    family: str
    names: frozenset[str]
    """Casefolded exact names."""
    prefixes: tuple[str, ...]
    """Casefolded name prefixes."""
    requires: tuple[str, ...]
    """Casefolded words one of which the event text must contain (empty: none needed)."""

    def matches(self, provider: str, text: str) -> bool:
        """True if ``provider`` belongs here and ``text`` satisfies :attr:`requires`."""
        name = provider.casefold()
        if name not in self.names and not any(name.startswith(p) for p in self.prefixes):
            return False
        folded = text.casefold()
        return not self.requires or any(word in folded for word in self.requires)


@dataclass(frozen=True, slots=True)
class Context:
    """A cue a whole input can show, and what it changes (issue 23).

    An ANCM log (hostfxr, ``aspnetcorev2.dll``) around error 193 points at the in-process app, not at an ISAPI
    extension; IIS 6 cues (W3SVC 1039/1009/1037, inetinfo.exe, Windows Server 2003, the metabase) at the IIS 6
    rules; an architecture named in the text keeps the bitness reading of a runtime that is "not found"."""

    id: str
    title: str
    cues: tuple[re.Pattern[str], ...]
    """Patterns any of which shows the context in a text."""
    events: tuple[EventKey, ...]
    """Events whose provider family and id show the context (W3SVC 1039 is IIS 6)."""
    prefer: tuple[RuleId, ...]
    """Rules an entry's causes list first in this context (among them the entry's own order holds)."""
    server: bool = False
    """A fact about the whole server (IIS 6): shown by one event of a log, it holds for every event of it."""
    shown_by: tuple[str, ...] = ()
    """Other contexts (ids) that show this one too: IIS 6 shows Windows 5.2 (IIS 6 runs on Windows Server 2003 and
    Windows XP x64 alone), so an IIS 6 input shows the ``nt5`` context (:func:`iisbitness.explain.match.cues_in`)."""
    rules_out: tuple[RuleId, ...] = ()
    """Rules that cannot cause what an input showing this context shows (IIS 7+'s global modules and WAS say the
    server is not IIS 6; IIS 6 has no global modules, per-pool bitness or ASP.NET Core Module): their causes are
    capped at LOW there, unless a context that prefers them is shown too, or one that rules out this context's own
    preferred rules (:func:`ruled_out`)."""
    unlikely: tuple[RuleId, ...] = ()
    """Rules whose situation an input showing this context makes unlikely, though not impossible: their causes are
    capped at MEDIUM there, whatever other context is shown (:func:`unlikely_in`). An ASP.NET Core app has no ASP.NET
    ``bin`` or GAC (``managed-assembly-arch``); an IIS Manager dialog shows a file IIS Manager (inetmgr.exe) could not
    load, not one a worker could not: the same file may load in the site's pool."""


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a scan rule finds and how to check it by hand."""

    id: RuleId
    summary: str
    checks: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class SpecificIn:
    """Where an entry's :attr:`Entry.specificity` holds, and what it is elsewhere (knowledge.toml's ``specific_in``
    table): "An attempt was made to load a program with an incorrect format" is architecture-specific only where an
    image is loaded; ERROR_BAD_FORMAT is also what native code returns for data it cannot parse (tjanczuk/iisnode: a
    response from node.exe that is not HTTP)."""

    contexts: tuple[str, ...]
    """:class:`Context` ids one of which the input must show for the entry's specificity to hold (at least one)."""
    elsewhere: Specificity
    """Specificity in an input that shows none of :attr:`contexts`."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One recognisable signal (see knowledge.toml's header for each field)."""

    id: str
    kind: EntryKind
    title: str
    meaning: str
    codes: tuple[int, ...]
    patterns: tuple[re.Pattern[str], ...]
    weak: tuple[re.Pattern[str], ...]
    events: tuple[EventKey, ...]
    http: tuple[str, ...]
    template: str | None
    binary_param: int | None
    pool_param: int | None
    causes: tuple[Cause, ...]
    steps: tuple[Step, ...]
    sources: tuple[Source, ...]
    unconfirmed: str | None
    specificity: Specificity = Specificity.GENERIC
    """How specific the evidence is to architecture (see :class:`Specificity`)."""
    code_specificity: Specificity | None = None
    """Specificity when only the entry's code was seen, none of its wording (0x8007000B alone); None: same."""
    specific_in: SpecificIn | None = None
    """The contexts one of which the input must show for :attr:`specificity` to hold, and the specificity elsewhere;
    None: it always holds."""
    not_bitness: str | None = None
    """For ``not-bitness`` entries: what the problem is instead, one line."""
    read_next: tuple[Step, ...] = ()
    """What to read next to tell the causes apart (the ANCM stdout log, the exception)."""
    specific_with: tuple[int, ...] = ()
    """Codes that make this entry's evidence ``specific`` when seen in the same input (the event's data:
    2214/2280 with ``c1 00 00 00``, ANCM 1010 with ErrorCode 0x800700c1)."""
    hints: tuple[re.Pattern[str], ...] = ()
    """Patterns that are LOW evidence (a truncated "Could not load file or assembly 'Oracle.DataAccess'" names
    an assembly built for one architecture only, but not why it failed)."""
    text_events: tuple[EventKey, ...] = ()
    """Event ids the provider logs many messages under (ANCM 1027, its general error): an event of such an id
    counts for the entry, as an event signal, only when its text matches the entry's patterns."""
    usual_unless: tuple[str, ...] = ()
    """For an entry that is not ``not-bitness`` but has a ``not_bitness`` line (its usual reading: 500.30's
    start-up exception, 500.19's unknown element): cues (:class:`Context` ids, or ``code``) of the same input
    that drop that reading (a 500.19 that shows its HRESULT, a 500.31 whose text names an architecture)."""
    overrides: tuple[str, ...] = ()
    """Entry ids whose reading this entry's evidence rules out when both are seen in one input: a "runtime
    newer" BadImageFormatException is a CLR-version problem (bitness causes drop to LOW); a
    BadImageFormatException inside an exception message is not "not bitness" (the not-bitness line is
    dropped)."""

    @property
    def usual(self) -> bool:
        """True when the entry has a usual not-bitness reading though bitness is one of its causes."""
        return self.specificity is not Specificity.NOT_BITNESS and self.not_bitness is not None


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """All entries, provider families and rule descriptions."""

    entries: tuple[Entry, ...]
    families: tuple[ProviderFamily, ...]
    rules: dict[str, RuleInfo]
    contexts: tuple[Context, ...] = ()

    def entry(self, entry_id: str) -> Entry:
        """The entry with this id; ``KeyError`` if none."""
        for item in self.entries:
            if item.id == entry_id:
                return item
        raise KeyError(entry_id)

    def by_code(self, code: int) -> tuple[Entry, ...]:
        """Entries listing this HRESULT / NTSTATUS (unsigned 32-bit)."""
        return tuple(e for e in self.entries if code in e.codes)

    def by_event(self, family: str, event_id: int) -> tuple[Entry, ...]:
        """Entries triggered by this event of this provider family."""
        key = EventKey(family, event_id)
        return tuple(e for e in self.entries if key in e.events)

    def by_text_event(self, family: str, event_id: int) -> tuple[Entry, ...]:
        """Entries this event of this provider family counts for only when its text matches them
        (:attr:`Entry.text_events`)."""
        key = EventKey(family, event_id)
        return tuple(e for e in self.entries if key in e.text_events)

    def by_http(self, status: str) -> tuple[Entry, ...]:
        """Entries for an HTTP status such as ``"500.32"`` or ``"503"``."""
        return tuple(e for e in self.entries if status in e.http)

    def family_of(self, provider: str, text: str = "") -> str | None:
        """The family id of ``provider`` (given the event ``text``), or None if it is not an IIS-family source."""
        for fam in self.families:
            if fam.matches(provider, text):
                return fam.family
        return None

    @property
    def event_ids(self) -> frozenset[int]:
        """Every event id any entry is triggered by."""
        return frozenset(k.event_id for e in self.entries for k in e.events)

    @property
    def codes(self) -> frozenset[int]:
        """Every code any entry lists."""
        return frozenset(c for e in self.entries for c in e.codes)


def _str(table: dict[str, object], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise KnowledgeBaseError(f"{where}: '{key}' must be a string")
    return value


def _list(table: dict[str, object], key: str, where: str) -> list[object]:
    value = table.get(key, [])
    if not isinstance(value, list):
        raise KnowledgeBaseError(f"{where}: '{key}' must be an array")
    return value


def _strings(table: dict[str, object], key: str, where: str) -> tuple[str, ...]:
    items = _list(table, key, where)
    if not all(isinstance(i, str) for i in items):
        raise KnowledgeBaseError(f"{where}: '{key}' must hold strings")
    return tuple(str(i) for i in items)


def _tables(table: dict[str, object], key: str, where: str) -> list[dict[str, object]]:
    items = _list(table, key, where)
    if not all(isinstance(i, dict) for i in items):
        raise KnowledgeBaseError(f"{where}: '{key}' must hold tables")
    return [i for i in items if isinstance(i, dict)]


def _regexes(table: dict[str, object], key: str, where: str) -> tuple[re.Pattern[str], ...]:
    out = []
    for text in _strings(table, key, where):
        try:
            out.append(re.compile(flexible_spaces(text), _FLAGS))
        except re.error as e:
            raise KnowledgeBaseError(f"{where}: bad regular expression {text!r}: {e}") from e
    return tuple(out)


def _int_or_none(table: dict[str, object], key: str, where: str) -> int | None:
    value = table.get(key)
    if value is not None and not isinstance(value, int):
        raise KnowledgeBaseError(f"{where}: '{key}' must be an integer")
    return value


def _steps(table: dict[str, object], key: str, where: str) -> tuple[Step, ...]:
    return tuple(Step(_str(t, "how", where), _str(t, "command", where)) for t in _tables(table, key, where))


def _specific_in(table: dict[str, object], where: str) -> SpecificIn | None:
    """The entry's ``specific_in = { contexts = [...], elsewhere = "..." }`` table, both keys required; None when
    absent. Its context ids are checked against the knowledge base's contexts by :func:`parse_kb`."""
    if "elsewhere" in table:
        raise KnowledgeBaseError(f"{where}: 'elsewhere' belongs in the 'specific_in' table")
    if "specific_in" not in table:
        return None
    t = table["specific_in"]
    if not isinstance(t, dict) or set(t) != {"contexts", "elsewhere"}:
        raise KnowledgeBaseError(f"{where}: 'specific_in' needs 'elsewhere' and 'contexts' (a table of both, and "
                                 "nothing else)")
    contexts = _strings(t, "contexts", where)
    if not contexts:
        raise KnowledgeBaseError(f"{where}: 'specific_in' needs at least one of its 'contexts'")
    return SpecificIn(contexts, _specificity(t, "elsewhere", where))


def _event_key(text: str, where: str) -> EventKey:
    family, _, number = text.partition(":")
    if not family or not number.isdigit():
        raise KnowledgeBaseError(f"{where}: event trigger {text!r} is not 'family:id'")
    return EventKey(family, int(number))


def _code(text: str, where: str) -> int:
    try:
        return int(text, 16) & 0xFFFFFFFF
    except ValueError as e:
        raise KnowledgeBaseError(f"{where}: code {text!r} is not hexadecimal") from e


def _specificity(table: dict[str, object], key: str, where: str) -> Specificity:
    try:
        return Specificity(_str(table, key, where))
    except ValueError as e:
        raise KnowledgeBaseError(f"{where}: unknown {key} {table.get(key)!r}") from e


def _event_keys(table: dict[str, object], key: str, where: str, families: set[str]) -> tuple[EventKey, ...]:
    """The ``"family:id"`` strings of ``table[key]`` as :class:`EventKey`; a family not among ``families`` is a
    :class:`KnowledgeBaseError` naming ``where``."""
    keys = tuple(_event_key(t, where) for t in _strings(table, key, where))
    unknown = {k.family for k in keys} - families
    if unknown:
        raise KnowledgeBaseError(f"{where}: unknown provider family {sorted(unknown)}")
    return keys


def _entry(table: dict[str, object], families: set[str]) -> Entry:
    entry_id = _str(table, "id", "entry")
    where = f"entry {entry_id!r}"
    try:
        kind = EntryKind(_str(table, "kind", where))
    except ValueError as e:
        raise KnowledgeBaseError(f"{where}: unknown kind") from e
    causes = []
    for t in _tables(table, "causes", where):
        rule = _str(t, "rule", where)
        if rule not in SCAN_RULE_IDS:
            raise KnowledgeBaseError(f"{where}: cause names unknown scan rule {rule!r}")
        context = t.get("context")
        if context is not None and not isinstance(context, str):
            raise KnowledgeBaseError(f"{where}: a cause's 'context' must be a string")
        causes.append(Cause(RuleId(rule), _str(t, "why", where), context))
    events = _event_keys(table, "events", where, families)
    text_events = _event_keys(table, "text_events", where, families)
    unconfirmed = table.get("unconfirmed")
    if "specificity" not in table:
        raise KnowledgeBaseError(f"{where}: 'specificity' is required")
    specificity = _specificity(table, "specificity", where)
    not_bitness = _str(table, "not_bitness", where) if "not_bitness" in table else None
    if specificity is Specificity.NOT_BITNESS and not not_bitness:
        raise KnowledgeBaseError(f"{where}: a not-bitness entry needs a 'not_bitness' line")
    if specificity is not Specificity.NOT_BITNESS and not causes:
        raise KnowledgeBaseError(f"{where}: 'causes' is required unless specificity is not-bitness")
    return Entry(
        id=entry_id, kind=kind, title=_str(table, "title", where), meaning=_str(table, "meaning", where),
        codes=tuple(_code(c, where) for c in _strings(table, "codes", where)),
        patterns=_regexes(table, "patterns", where), weak=_regexes(table, "weak", where), events=events,
        http=_strings(table, "http", where),
        template=_str(table, "template", where) if "template" in table else None,
        binary_param=_int_or_none(table, "binary_param", where),
        pool_param=_int_or_none(table, "pool_param", where),
        causes=tuple(causes), steps=_steps(table, "steps", where),
        sources=tuple(Source(_str(t, "key", where), _str(t, "ref", where))
                      for t in _tables(table, "sources", where)),
        unconfirmed=unconfirmed if isinstance(unconfirmed, str) else None,
        specificity=specificity,
        code_specificity=_specificity(table, "code_specificity", where) if "code_specificity" in table else None,
        specific_in=_specific_in(table, where),
        not_bitness=not_bitness, read_next=_steps(table, "read_next", where),
        overrides=_strings(table, "overrides", where),
        specific_with=tuple(_code(c, where) for c in _strings(table, "specific_with", where)),
        hints=_regexes(table, "hints", where), text_events=text_events,
        usual_unless=_strings(table, "usual_unless", where),
    )


def _context(table: dict[str, object], families: set[str]) -> Context:
    context_id = _str(table, "id", "context")
    where = f"context {context_id!r}"
    events = _event_keys(table, "events", where, families)
    prefer = _strings(table, "prefer", where)
    bad = sorted(set(prefer) - set(SCAN_RULE_IDS))
    if bad:
        raise KnowledgeBaseError(f"{where}: prefers unknown scan rules {bad}")
    rules_out = _strings(table, "rules_out", where) if "rules_out" in table else ()
    bad = sorted(set(rules_out) - set(SCAN_RULE_IDS))
    if bad:
        raise KnowledgeBaseError(f"{where}: rules out unknown scan rules {bad}")
    unlikely = _strings(table, "unlikely", where)
    bad = sorted(set(unlikely) - set(SCAN_RULE_IDS))
    if bad:
        raise KnowledgeBaseError(f"{where}: finds unknown scan rules unlikely {bad}")
    server = table.get("server", False)
    if not isinstance(server, bool):
        raise KnowledgeBaseError(f"{where}: 'server' must be true or false")
    return Context(context_id, _str(table, "title", where), _regexes(table, "cues", where), events,
                   tuple(RuleId(r) for r in prefer), server, _strings(table, "shown_by", where),
                   tuple(RuleId(r) for r in rules_out), tuple(RuleId(r) for r in unlikely))


def ruled_out(cues: AbstractSet[str], contexts: Sequence[Context]) -> frozenset[str]:
    """The scan rules the contexts shown in an input (``cues``: context ids) rule out (:attr:`Context.rules_out`),
    less those a shown context prefers; a shown context whose own preferred rules another shown context rules out
    rules out nothing: a text that names both an IIS 7+ global module and IIS 6 rules out neither generation's
    rules, the evidence being mixed."""
    shown = [c for c in contexts if c.id in cues]
    contested = {r for c in shown for r in c.rules_out}
    out = {r for c in shown if contested.isdisjoint(c.prefer) for r in c.rules_out}
    return frozenset(out - {r for c in shown for r in c.prefer})


def unlikely_in(cues: AbstractSet[str], contexts: Sequence[Context]) -> frozenset[str]:
    """The scan rules the contexts shown in an input (``cues``: context ids) make unlikely (:attr:`Context.unlikely`):
    at most MEDIUM there. Unlike :func:`ruled_out`, a shown context that prefers such a rule does not lift it: an
    IIS Manager dialog quoting "Could not load file or assembly" shows an assembly load too, and that load is still
    IIS Manager's, not the worker's."""
    return frozenset(r for c in contexts if c.id in cues for r in c.unlikely)


def parse_kb(text: str, origin: str = "knowledge.toml") -> KnowledgeBase:
    """Parse knowledge-base TOML ``text``; raises :class:`KnowledgeBaseError` naming ``origin``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise KnowledgeBaseError(f"{origin}: {e}") from e
    families = tuple(
        ProviderFamily(
            family=_str(t, "family", "provider"),
            names=frozenset(n.casefold() for n in _strings(t, "names", "provider")),
            prefixes=tuple(p.casefold() for p in _strings(t, "prefixes", "provider")),
            requires=tuple(r.casefold() for r in _strings(t, "requires", "provider")),
        )
        for t in _tables(data, "provider", origin)
    )
    rules_table = data.get("rules", {})
    if not isinstance(rules_table, dict):
        raise KnowledgeBaseError(f"{origin}: 'rules' must be a table")
    rules = {}
    for rule_id, t in rules_table.items():
        if rule_id not in SCAN_RULE_IDS or not isinstance(t, dict):
            raise KnowledgeBaseError(f"{origin}: [rules.{rule_id}] is not a known scan rule table")
        rules[rule_id] = RuleInfo(RuleId(rule_id), _str(t, "summary", rule_id), _steps(t, "checks", rule_id))
    entries = tuple(_entry(t, {f.family for f in families}) for t in _tables(data, "entry", origin))
    contexts = tuple(_context(t, {f.family for f in families}) for t in _tables(data, "context", origin))
    cues = {c.id for c in contexts} | {CODE_CUE}
    for context in contexts:
        if set(context.shown_by) - cues:
            raise KnowledgeBaseError(f"{origin}: context {context.id!r}: 'shown_by' names unknown contexts "
                                     f"{sorted(set(context.shown_by) - cues)}")
    for item in entries:
        if set(item.usual_unless) - cues:
            raise KnowledgeBaseError(f"{origin}: entry {item.id!r}: usual_unless names unknown cues "
                                     f"{sorted(set(item.usual_unless) - cues)}")
    for item in entries:
        if item.specific_in is not None and set(item.specific_in.contexts) - cues:
            raise KnowledgeBaseError(f"{origin}: entry {item.id!r}: 'specific_in' names known contexts only, not "
                                     f"{sorted(set(item.specific_in.contexts) - cues)}")
        unknown_contexts = sorted({c.context for c in item.causes if c.context is not None} - cues)
        if unknown_contexts:
            raise KnowledgeBaseError(f"{origin}: entry {item.id!r}: a cause names unknown contexts {unknown_contexts}")
    ids = [e.id for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise KnowledgeBaseError(f"{origin}: duplicate entry ids {duplicates}")
    for item in entries:
        unknown_ids = sorted(set(item.overrides) - set(ids))
        if unknown_ids:
            raise KnowledgeBaseError(f"{origin}: entry {item.id!r} overrides unknown entries {unknown_ids}")
    return KnowledgeBase(entries=entries, families=families, rules=rules, contexts=contexts)


@lru_cache(maxsize=4)
def load_kb(path: Path | None = None) -> KnowledgeBase:
    """Load ``path`` (default: the shipped ``knowledge.toml``); cached per path.

    Raises:
        KnowledgeBaseError: the file cannot be read or is malformed.
    """
    try:
        if path is None:
            text = resources.files("iisbitness.explain").joinpath("knowledge.toml").read_text("utf-8")
            return parse_kb(text)
        return parse_kb(path.read_text("utf-8"), str(path))
    except OSError as e:
        raise KnowledgeBaseError(f"{path or 'knowledge.toml'}: cannot read: {e.strerror}") from e
