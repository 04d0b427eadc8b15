"""The explain document: signals grouped by entry, causes ranked across entries, events listed.

Shapes:
    ``match_event(event, kb) -> tuple[Signal, ...]``: signals of one event. Only events whose provider is
    in an IIS family of the knowledge base count (``W3SVC-WP``, ``WAS``, ``W3SVC``, the ANCM providers,
    ``ASP.NET x.y``, and crash reporters only when they name w3wp.exe); Sysmon or Security events naming
    w3wp.exe give nothing. Provider + id of an entry is HIGH; the event's text and data code add the
    entries their patterns and codes show.
    ``event_verdict(signals, kb) -> EventVerdict | None``: how one event reads (bitness or another problem, the
    leading explanation and its confidence, every rule's calibrated confidence): the one decision ``explain``'s
    event list and ``scan --event-log`` both show. ``EventMatches(kb).log(events)``: each event of one server's
    logs with its signals, the server-wide cues shared.
    ``build_report(texts, logs, kb) -> ExplainReport``: ``texts`` are (name, text) pairs, ``logs`` the
    :class:`~iisbitness.explain.events.EventLogRead` of each ``--event-log``, all of one server (as
    ``scan --event-log`` reads them: a server-wide cue one log shows holds for the events of all).

Calibration (issue 15): an explanation's *bitness confidence* is its recognition confidence capped by
the specificity of its evidence (:class:`~iisbitness.explain.kb.Specificity`: specific HIGH, suggestive and
generic MEDIUM, not-bitness LOW; a signal a not-bitness entry of the same input overrides counts as
not-bitness; 0x8007000B without its wording counts as suggestive). So only architecture-specific evidence
(193 / 0x800700C1, "incorrect format", 500.32, "only supports loading images built for ...") makes a
bitness cause HIGH.

Ranking: each explanation adds ``weight(bitness confidence) / rank`` to every cause it lists (HIGH 3,
MEDIUM 2, LOW 1, generic evidence at most 1; rank 1-based); rules are ordered by calibrated confidence,
then score, so a rule that several independent signals put first wins (the seed case: 8007041d +
"System error 193" + event 2274 rank ``iis6-isolation-wow64`` above ``isapi-filter-arch``).
Recognised not-bitness entries are causes too (:class:`OtherCause`), unless overridden in every input
that shows them (an exception message that is a BadImageFormatException is not "not bitness"). One order
runs over both (``rank``): HIGH bitness causes first, then the not-bitness explanations the input shows
(an exception message, a non-bitness HRESULT), then the remaining bitness causes. When the first is not a HIGH bitness
cause, the entries' ``read_next`` steps come before ``iisbitness scan`` in the next steps.
Nothing here raises.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from iisbitness.explain.codes import Confidence
from iisbitness.explain.events import Event, EventLogProblem, EventLogRead, events_from_xml
from iisbitness.explain.kb import (
    ARCH_CUE,
    IMAGE_RULES,
    NEWER_WINDOWS_RULE,
    Cause,
    Entry,
    EntryKind,
    KnowledgeBase,
    RuleId,
    Specificity,
    Step,
    cause_cap,
    ruled_out,
    unlikely_in,
)
from iisbitness.explain.match import Signal, Via, apply_overrides, cues_in, match_text, with_cues

__all__ = [
    "SCAN_STEPS",
    "SCHEMA",
    "EventHit",
    "EventMatches",
    "EventVerdict",
    "ExplainReport",
    "Explanation",
    "InputSummary",
    "OtherCause",
    "RankedCause",
    "build_report",
    "event_verdict",
    "match_event",
]

SCHEMA = "iisbitness/explain/1"
"""The JSON schema id (formats/schema/explain-1.json)."""

SCAN_STEPS: tuple[Step, ...] = (
    Step("on the server (read-only): scan the live configuration and binaries", "iisbitness scan"),
    Step("or on a copy of the server's C:\\ drive", "iisbitness scan IMAGE"),
)
"""The first next step, always."""

_WEIGHT = {Confidence.LOW: 1.0, Confidence.MEDIUM: 2.0, Confidence.HIGH: 3.0}
_GENERIC_WEIGHT = 1.0
"""Weight of generic evidence: a failure with many causes adds less to a rule than a suggestive one."""
_TOP_CAUSES_WITH_CHECKS = 3
_CAPPED = {Confidence.MEDIUM: Specificity.SUGGESTIVE, Confidence.LOW: Specificity.NOT_BITNESS}
"""The specificity a cause is reported with when :func:`~iisbitness.explain.kb.cause_cap` lowered its confidence:
specific evidence that does not show this rule's situation as an architecture problem."""


@dataclass(frozen=True, slots=True)
class Explanation:
    """One recognised entry with the signals that show it."""

    entry: Entry
    confidence: Confidence
    """The highest confidence among :attr:`signals`: how sure the entry is *recognised*."""
    signals: tuple[Signal, ...]
    specificity: Specificity = Specificity.GENERIC
    """The most specific reading among :attr:`signals` (see :func:`signal_specificity`)."""
    bitness_confidence: Confidence = Confidence.LOW
    """What this explanation lends its bitness causes: recognition capped by specificity."""
    ordered: tuple[Cause, ...] | None = None
    """:attr:`causes` in the order its inputs' contexts give them (:func:`in_context`), as the ranking reads them;
    set by :func:`build_report`; None: not ordered yet (the entry's order)."""

    @property
    def cues(self) -> frozenset[str]:
        """The contexts (ids) the signals' inputs show, all together."""
        return frozenset().union(*(s.cues for s in self.signals))

    @property
    def causes(self) -> tuple[Cause, ...]:
        """The entry's causes that hold in this input: a cause tied to a context (:attr:`Cause.context`) only when
        one of the signals' inputs shows it; in the order the contexts shown give them once :attr:`ordered` is set
        (a BadImageFormatException in an ASP.NET Core Module log lists the in-process app first), else the entry's."""
        return self.ordered if self.ordered is not None else self.causes_shown(self.cues)

    def causes_shown(self, cues: frozenset[str]) -> tuple[Cause, ...]:
        """:attr:`causes` where ``cues`` (this explanation's :attr:`cues`, gathered once by the caller) are shown."""
        return tuple(c for c in self.entry.causes if c.holds(cues))


@dataclass(frozen=True, slots=True)
class RankedCause:
    """A scan rule ranked across every explanation."""

    rule: RuleId
    score: float
    confidence: Confidence
    """Highest confidence of the explanations listing it."""
    supported_by: tuple[str, ...]
    """Entry ids listing this rule, best first."""
    why: tuple[str, ...]
    """The entries' reasons, same order."""
    specificity: Specificity = Specificity.GENERIC
    """The most specific evidence supporting it."""
    rank: int = 0
    """1-based position in the one order over causes and :class:`OtherCause` (see the module doc)."""


@dataclass(frozen=True, slots=True)
class OtherCause:
    """A recognised not-bitness explanation: what the problem is instead."""

    entry_id: str
    what: str
    """The entry's ``not_bitness`` line."""
    score: float
    confidence: Confidence
    """How sure the entry is recognised."""
    read_next: tuple[Step, ...]
    rank: int = 0
    """1-based position in the one order over causes and other causes."""
    usual: bool = False
    """True for the usual reading of generic evidence (500.30's start-up exception), which leaves bitness
    possible; False for evidence that names another problem (0x8007000D)."""


@dataclass(frozen=True, slots=True)
class EventVerdict:
    """How one event reads, the one decision ``explain`` and ``scan --event-log`` both show (:func:`event_verdict`)."""

    bitness: bool
    """True when the event's leading explanation is a bitness cause; False when it is another problem."""
    confidence: Confidence
    """The leading explanation's confidence: a bitness cause's calibrated confidence, or how surely the other
    problem is recognised."""
    lead: str
    """The scan rule id (bitness) or the not-bitness entry id (``app-exception``) that leads."""
    rules: tuple[tuple[str, Confidence], ...]
    """Every scan rule the event points at with its calibrated confidence, best first (what a finding's link to
    the event carries in ``scan --event-log``)."""
    usual: bool = False
    """With ``bitness`` False: the other problem is only the evidence's usual reading (an ASP.NET Core Module that
    failed to load: a missing dependency as often as its bitness), so bitness stays possible."""

    @property
    def reading(self) -> str:
        """``"bitness"`` or ``"not-bitness"`` (the JSON and text label)."""
        return "bitness" if self.bitness else "not-bitness"


@dataclass(frozen=True, slots=True)
class EventHit:
    """An event the knowledge base recognises, what it shows and how it reads."""

    origin: str
    """The file it came from."""
    event: Event
    signals: tuple[Signal, ...]
    verdict: EventVerdict | None = None
    """How the event reads on its own (None only when no explanation of it leads: every reading overridden)."""


@dataclass(frozen=True, slots=True)
class InputSummary:
    """One input: a text (argument / stdin) or an event-log file."""

    kind: str
    """``"text"`` or ``"event-log"``."""
    name: str
    events_read: int | None = None
    format: str | None = None


@dataclass(frozen=True, slots=True)
class ExplainReport:
    """The one document text and JSON formats read."""

    inputs: tuple[InputSummary, ...]
    explanations: tuple[Explanation, ...]
    causes: tuple[RankedCause, ...]
    events: tuple[EventHit, ...]
    problems: tuple[EventLogProblem, ...]
    next_steps: tuple[Step, ...]
    rules: dict[str, str]
    """Summary of every rule named in :attr:`causes`."""
    others: tuple[OtherCause, ...] = ()
    """Not-bitness explanations, ranked (their ``rank`` interleaves with :attr:`causes`)."""

    @property
    def leading(self) -> RankedCause | OtherCause | None:
        """The best explanation overall (``rank`` 1), or None when nothing was recognised."""
        items: list[RankedCause | OtherCause] = [*self.causes, *self.others]
        return min(items, key=lambda c: c.rank, default=None)

    @property
    def bitness_likely(self) -> bool:
        """True when the leading explanation is a bitness cause of HIGH confidence."""
        lead = self.leading
        return isinstance(lead, RankedCause) and lead.confidence is Confidence.HIGH

    @property
    def recognised(self) -> bool:
        """True if anything was recognised (exit 0), else exit 1."""
        return bool(self.explanations)


def match_event(event: Event, kb: KnowledgeBase) -> tuple[Signal, ...]:
    """Signals of one event (see the module docstring)."""
    text = event.text
    family = kb.family_of(event.source_name, text) or kb.family_of(event.provider, text)
    if family is None:
        return ()
    label = f"{event.source_name}/{event.event_id}"
    signals = [Signal(e.id, Confidence.HIGH, Via.EVENT, label, None, binary=event.binary)
               for e in kb.by_event(family, event.event_id)]
    # NOTE: a general event id (ANCM 1027) counts for an entry only with its text (issue 23)
    signals += [Signal(e.id, Confidence.HIGH, Via.EVENT, label, None, binary=event.binary)
                for e in kb.by_text_event(family, event.event_id) if any(p.search(text) for p in e.patterns)]
    if event.error_code is not None:
        signals += [Signal(e.id, Confidence.HIGH, Via.CODE, f"{label} data", None, code=event.error_code,
                           binary=event.binary, detail="event binary data")
                    for e in kb.by_code(event.error_code)]
    for s in match_text(text, kb):
        entry = kb.entry(s.entry_id)
        if entry.events and family not in {k.family for k in entry.events}:
            continue  # NOTE: W3SVC 1009 (IIS 6) shares WAS 5009's wording; the text is not that event
        if not any(x.entry_id == s.entry_id for x in signals):
            signals.append(Signal(s.entry_id, s.confidence, s.via, s.evidence, None, s.code,
                                  s.binary or event.binary, s.detail))
    return with_cues(apply_overrides(tuple(signals), kb), cues_in(text, kb, ((family, event.event_id),)))


class EventMatches:
    """:func:`match_event` with one knowledge base, once per distinct event content (a log repeats the same failure at
    every request or recycle: thousands of events that differ only in time and record number). The one cache of event
    matches: :func:`build_report` and :func:`iisbitness.explain.correlate.correlate` (which asks again per event and
    rule family) each keep one for their call.

    Shape: ``EventMatches(kb)(event) -> tuple[Signal, ...]``, as ``match_event(event, kb)``."""

    __slots__ = ("_seen", "_verdicts", "kb")

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._seen: dict[tuple[object, ...], tuple[Signal, ...]] = {}
        self._verdicts: dict[tuple[Signal, ...], EventVerdict | None] = {}

    def verdict(self, signals: tuple[Signal, ...]) -> EventVerdict | None:
        """:func:`event_verdict` of one event's ``signals``, once per distinct signals."""
        if signals not in self._verdicts:
            self._verdicts[signals] = event_verdict(signals, self.kb)
        return self._verdicts[signals]

    def log(self, events: Sequence[Event]) -> list[tuple[Event, tuple[Signal, ...]]]:
        """Each of ``events`` (the logs of ONE server) with its signals; a server-wide cue one event shows (W3SVC
        1009: IIS 6) is given to every event's signals, as ``explain`` and ``scan --event-log`` both read a log."""
        server_wide = {c.id for c in self.kb.contexts if c.server}
        found = [(event, self(event)) for event in events]
        shared = frozenset().union(*(s.cues & server_wide for _, signals in found for s in signals))
        if not shared:
            return found
        return [(event, tuple(replace(s, cues=s.cues | shared) for s in signals)) for event, signals in found]

    def __call__(self, event: Event) -> tuple[Signal, ...]:
        key = (event.provider, event.event_source, event.event_id, event.error_code, event.binary, event.text)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = match_event(event, self.kb)
        return found


def signal_specificity(signal: Signal, entry: Entry) -> Specificity:
    """How specific ``signal`` (of ``entry``) is: not-bitness when overridden in its input, specific when its
    input shows one of the entry's ``specific_with`` codes, the entry's ``code_specificity`` when it was read
    from the code alone, its ``specific_in.elsewhere`` when its input shows none of ``specific_in.contexts`` (the
    "incorrect format" wording outside an image load), else the entry's specificity."""
    if signal.demoted_by is not None:
        return Specificity.NOT_BITNESS
    if signal.promoted_by is not None:
        return Specificity.SPECIFIC
    if signal.via is Via.CODE and entry.code_specificity is not None:
        return entry.code_specificity
    if entry.specific_in is not None and not signal.cues & set(entry.specific_in.contexts):
        return entry.specific_in.elsewhere
    return entry.specificity


def _explanation(entry: Entry, group: Sequence[Signal]) -> Explanation:
    specs = [signal_specificity(s, entry) for s in group]
    bitness = max(min(s.confidence, spec.cap) for s, spec in zip(group, specs, strict=True))
    return Explanation(entry, max(s.confidence for s in group), tuple(group),
                       min(specs, key=lambda sp: sp.order), bitness)


def _explanations(signals: Sequence[Signal], kb: KnowledgeBase) -> tuple[Explanation, ...]:
    grouped: dict[str, list[Signal]] = {}
    for s in signals:
        grouped.setdefault(s.entry_id, []).append(s)
    out = [_explanation(kb.entry(i), group) for i, group in grouped.items()]
    order = {e.id: n for n, e in enumerate(kb.entries)}
    return tuple(sorted(out, key=lambda x: (-x.bitness_confidence, x.specificity.order, -x.confidence,
                                            order[x.entry.id])))


def in_context(x: Explanation, kb: KnowledgeBase, cues: frozenset[str] | None = None) -> tuple[Cause, ...]:
    """``x``'s causes, the rules its inputs' contexts prefer first, in the entry's order (issue 23: 193 in an ASP.NET Core Module log
    is the in-process app, a filter that "only supports AMD64" on IIS 6 an IIS 6 filter), the rest in the
    entry's order. ``cues``: ``x``'s :attr:`~Explanation.cues` when the caller has them (gathered once)."""
    cues = x.cues if cues is None else cues
    causes = x.causes_shown(cues)
    # NOTE: one stable partition per context shown, in file order, so a later (narrower) context wins: IIS 6
    # puts the IIS 6 rules first in the entry's own order, IIS 5.0 isolation mode then its own rule before them
    for context in kb.contexts:
        if context.id in cues and context.prefer:
            causes = (*(c for c in causes if c.rule in context.prefer),
                      *(c for c in causes if c.rule not in context.prefer))
    return causes


def _rank(explanations: Sequence[Explanation], kb: KnowledgeBase) -> tuple[RankedCause, ...]:
    score: dict[str, float] = {}
    best: dict[str, Confidence] = {}
    spec: dict[str, Specificity] = {}
    support: dict[str, list[tuple[float, str, str]]] = {}
    for x in explanations:
        by_code = any(s.promoted_by is not None for s in x.signals)
        cues = x.cues  # NOTE: once, for the contexts that rule causes out and those that put them first
        out = ruled_out(cues, kb.contexts)
        doubted = unlikely_in(cues, kb.contexts)
        causes = in_context(x, kb, cues)
        # NOTE: 193 on Windows XP / Server 2003 is also an image built for a newer Windows (iis6-os-version listed):
        # the architecture reading is HIGH only where the input names an architecture, or where the event that logged
        # the 193 in its data is the one KB 895976 reads as a filter of the other bitness (by_code: a W3SVC 1039 or
        # 2268 with c1 00 00 00); that Windows 5.2 refuses such a DLL for its version is UNCONFIRMED (X45)
        unsure = ARCH_CUE not in cues and not by_code and any(c.rule == NEWER_WINDOWS_RULE for c in causes)
        for rank, cause in enumerate(causes, 1):
            # NOTE: 193 in a 2214's data makes the filter's architecture HIGH, not its absence (binary-missing);
            # an IIS 7+ input (a global module's 2280, WAS) makes the IIS 6 rules LOW; an ASP.NET Core input the
            # ASP.NET bin rule MEDIUM, an IIS Manager dialog the worker's rules MEDIUM
            sure = min(x.bitness_confidence, cause_cap(cause.rule, x.specificity, by_code),
                       Confidence.LOW if cause.rule in out else Confidence.HIGH,
                       Confidence.MEDIUM if cause.rule in doubted else Confidence.HIGH,
                       Confidence.MEDIUM if unsure and cause.rule in IMAGE_RULES else Confidence.HIGH)
            weight = _WEIGHT[sure]
            if x.specificity is Specificity.GENERIC:
                weight = min(weight, _GENERIC_WEIGHT)
            gain = weight / rank
            reading = x.specificity if sure >= x.bitness_confidence else _CAPPED[sure]
            score[cause.rule] = score.get(cause.rule, 0.0) + gain
            best[cause.rule] = max(best.get(cause.rule, Confidence.LOW), sure)
            spec[cause.rule] = min(spec.get(cause.rule, reading), reading, key=lambda sp: sp.order)
            support.setdefault(cause.rule, []).append((gain, x.entry.id, cause.why))
    ranked = sorted(score, key=lambda r: (-best[r], -round(score[r], 6), r))
    return tuple(
        RankedCause(RuleId(r), round(score[r], 3), best[r],
                    tuple(i for _, i, _ in sorted(support[r], key=lambda t: (-t[0], t[1]))),
                    tuple(w for _, _, w in sorted(support[r], key=lambda t: (-t[0], t[1]))), spec[r])
        for r in ranked
    )


def event_verdict(signals: Sequence[Signal], kb: KnowledgeBase) -> EventVerdict | None:
    """How one event reads from its ``signals`` (:func:`match_event`, with its log's server-wide cues): the leading
    explanation of the same order ``explain`` gives an input (:func:`build_report`: HIGH bitness causes, then
    not-bitness explanations, then the other bitness causes), so an ANCM 1007 whose exception message is the app's
    own reads "not bitness" wherever it is shown. None when nothing leads (no signals, or every reading
    overridden). ``explain``'s event list and ``scan --event-log`` (:mod:`~iisbitness.explain.correlate`) both take
    this decision."""
    explanations = _explanations(signals, kb)
    ranked = _rank(explanations, kb)
    causes, others = _order(ranked, _others(explanations, ranked))
    items: list[RankedCause | OtherCause] = [*causes, *others]
    lead = min(items, key=lambda c: c.rank, default=None)
    rules = tuple((c.rule, c.confidence) for c in ranked)
    if isinstance(lead, RankedCause):
        return EventVerdict(True, lead.confidence, lead.rule, rules)
    if isinstance(lead, OtherCause):
        return EventVerdict(False, lead.confidence, lead.entry_id, rules, lead.usual)
    return None


def _usual_holds(x: Explanation) -> bool:
    """``x``'s usual not-bitness reading applies: its evidence is not made specific, and some input showing it
    shows none of the cues that drop the reading (its HRESULT, an architecture named)."""
    return x.specificity is not Specificity.SPECIFIC and any(
        s.demoted_by is None and s.promoted_by is None and not set(x.entry.usual_unless) & s.cues
        for s in x.signals)


def _others(explanations: Sequence[Explanation], ranked: Sequence[RankedCause]) -> tuple[OtherCause, ...]:
    """The not-bitness readings shown beside the ``ranked`` causes: evidence that names another problem, and the usual
    reading of generic evidence (:func:`_usual_holds`) unless the same report reads one of that evidence's own bitness
    causes HIGH, which only architecture-specific evidence gives (a 500.30 whose stdout log shows a
    BadImageFormatException: the start-up exception is the app's architecture, not "usually not bitness")."""
    sure = {c.rule for c in ranked if c.confidence is Confidence.HIGH}
    shown = [x for x in explanations
             if (x.entry.specificity is Specificity.NOT_BITNESS and any(s.demoted_by is None for s in x.signals))
             or (x.entry.usual and _usual_holds(x) and sure.isdisjoint(c.rule for c in x.causes))]
    out = [(OtherCause(x.entry.id, x.entry.not_bitness or x.entry.title,
                       round(sum(_WEIGHT[s.confidence] for s in x.signals), 3), x.confidence, x.entry.read_next,
                       usual=x.entry.usual), x.entry.usual and x.entry.kind is EntryKind.HTTP)
           for x in shown]
    # NOTE: evidence that names another problem first; among usual readings, a message naming the failing
    # component before a bare HTTP status ("aspnetcorev2.dll failed to load" says more than the 503 around it)
    out.sort(key=lambda t: (t[0].usual, t[1], -t[0].confidence, -t[0].score, t[0].entry_id))
    return tuple(o for o, _ in out)


def _order(causes: Sequence[RankedCause],
           others: Sequence[OtherCause]) -> tuple[tuple[RankedCause, ...], tuple[OtherCause, ...]]:
    """Give ``rank``: HIGH bitness causes, then not-bitness explanations, then the other bitness causes."""
    sure = [c for c in causes if c.confidence is Confidence.HIGH]
    rest = [c for c in causes if c.confidence is not Confidence.HIGH]
    merged: list[RankedCause | OtherCause] = [*sure, *others, *rest]
    ranks = {id(item): n for n, item in enumerate(merged, 1)}
    return (tuple(replace(c, rank=ranks[id(c)]) for c in causes),
            tuple(replace(o, rank=ranks[id(o)]) for o in others))


_CLSID = re.compile(r"\bCLSID\W{0,4}(\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\})", re.IGNORECASE)
"""A COM class id as .NET and COM errors print it, after the word CLSID ("Retrieving the COM class factory for
component with CLSID {0006F03A-...} failed"); other GUIDs (an event provider's Guid="{...}") are not classes."""
_MAX_CLSIDS = 3


def _clsid_steps(text: str) -> tuple[Step, ...]:
    """For each COM class id ``text`` names (at most three): which DLL serves it in each registry view, and so in
    each bitness of worker (WOW64 keeps HKLM\\SOFTWARE\\Classes\\CLSID apart for 32-bit processes, facts E3).
    ``reg.exe``'s ``/reg:64`` and ``/reg:32`` pick the view from a prompt of either bitness (Microsoft's reg
    command reference); the commands paste as they are into cmd.exe and PowerShell."""
    found = list(dict.fromkeys(m.group(1).upper() for m in _CLSID.finditer(text)))[:_MAX_CLSIDS]
    return tuple(Step(f"see which DLL serves COM class {clsid} in {bits}-bit processes (the key missing: the class "
                      f"is not registered for them)",
                      f'reg query "HKLM\\SOFTWARE\\Classes\\CLSID\\{clsid}\\InprocServer32" /reg:{bits}')
                 for clsid in found for bits in (64, 32))


def _next_steps(explanations: Sequence[Explanation], causes: Sequence[RankedCause], others: Sequence[OtherCause],
                kb: KnowledgeBase, com_steps: tuple[Step, ...] = ()) -> tuple[Step, ...]:
    reading: list[Step] = [step for o in others for step in o.read_next]
    reading += [step for x in explanations if x.specificity is not Specificity.SPECIFIC
                for step in x.entry.read_next]
    steps: list[Step] = list(SCAN_STEPS)
    for cause in [c for c in causes if c.confidence > Confidence.LOW][:_TOP_CAUSES_WITH_CHECKS]:
        # NOTE: the class id the error names before the generic checks of the COM rule (issue: fix advice)
        steps.extend(com_steps if cause.rule == "com-inproc-arch" else ())
        info = kb.rules.get(cause.rule)
        steps.extend(info.checks if info else ())
    for x in explanations:
        steps.extend(x.entry.steps)
    sure = bool(causes) and causes[0].confidence is Confidence.HIGH
    ordered = steps + reading if sure else reading + steps
    first: dict[str, Step] = {}
    for step in ordered:
        first.setdefault(step.command, step)  # NOTE: one step per command, however many entries give it
    return tuple(first.values())


_EVENT_XML = re.compile(r"<(?:\w+:)?Event[\s>][\s\S]*?</(?:\w+:)?Event>")


def _pasted_events(name: str, text: str, kb: KnowledgeBase) -> tuple[str, EventLogRead | None]:
    """Event XML pasted into a text (Event Viewer's "Event Xml:" section, ``wevtutil qe /f:xml`` output): its
    events, read as an event log is, and the text around them with each event blanked (lines kept)."""
    if "</Event>" not in text and ":Event>" not in text:
        return text, None
    blocks = [m.group(0) for m in _EVENT_XML.finditer(text)]
    log = events_from_xml("".join(blocks), name, kb) if blocks else None
    if log is None or not log.events:
        return text, None
    return _EVENT_XML.sub(lambda m: "\n" * m.group(0).count("\n"), text), log


def build_report(texts: Sequence[tuple[str, str]], logs: Sequence[EventLogRead],
                 kb: KnowledgeBase) -> ExplainReport:
    """Match every text and event, group, rank (see the module docstring). Event XML inside a text is read as
    events (provider and id, data, binary), the rest of the text as text."""
    signals: list[Signal] = []
    inputs: list[InputSummary] = []
    com_steps = _clsid_steps("\n".join(text for _, text in texts))
    servers: list[list[EventLogRead]] = []
    for name, text in texts:
        rest, log = _pasted_events(name, text, kb)
        inputs.append(InputSummary("text", name, len(log.events) if log else None, log.format if log else None))
        signals.extend(match_text(rest, kb))
        servers += [[log]] if log else []
    for log in logs:
        inputs.append(InputSummary("event-log", log.path, len(log.events), log.format))
    # NOTE: the --event-log files are the logs of ONE server, as scan --event-log reads them (its Application and
    # System logs: W3SVC 1009 in one makes the W3SVC-WP 2274 of the other an IIS 6 filter); event XML pasted in a
    # text is its own
    servers += [list(logs)] if logs else []
    hits: list[EventHit] = []
    problems: list[EventLogProblem] = []
    matched = EventMatches(kb)
    for server in servers:
        for log in server:
            problems.extend(log.problems)
        origins = [log.path for log in server for _ in log.events]
        for origin, (event, found) in zip(origins, matched.log([e for log in server for e in log.events]),
                                          strict=True):
            if found:
                hits.append(EventHit(origin, event, found, matched.verdict(found)))
                signals.extend(found)
    explanations = tuple(replace(x, ordered=in_context(x, kb)) for x in _explanations(signals, kb))
    ranked = _rank(explanations, kb)
    causes, others = _order(ranked, _others(explanations, ranked))
    hits.sort(key=lambda h: (h.event.time or "", h.origin, h.event.record_id or 0))
    return ExplainReport(
        inputs=tuple(inputs), explanations=explanations, causes=causes, events=tuple(hits),
        problems=tuple(problems),
        next_steps=_next_steps(explanations, causes, others, kb, com_steps) if explanations else (),
        rules={c.rule: kb.rules[c.rule].summary for c in causes if c.rule in kb.rules}, others=others,
    )
