"""Join scan findings with event-log events: which findings the log shows happening, which events no
finding explains. Pure: no I/O.

API (for ``iisbitness scan --event-log``, wired by the scan command)::

    correlate(findings: Iterable[FindingKey | tuple[str, str | None, str | None]],
              events: Iterable[Event], kb: KnowledgeBase | None = None) -> Correlation

    FindingKey(rule_id, binary, pool)       binary as configured (env vars allowed), pool name; either may be None
    Correlation.observed:    tuple[Observation, ...]   each finding CONFIRMED by >= 1 event, in input order
    Correlation.possible:    tuple[Observation, ...]   findings generic events name (not confirmed by them), and
                                                       confirmed findings a site-level event (2268) may stand for
    Correlation.unobserved:  tuple[FindingKey, ...]    findings no event confirms (not proof they are harmless)
    Correlation.unexplained: tuple[Event, ...]         bitness-related events no finding accounts for
    Correlation.not_bitness: tuple[Event, ...]         events read as another problem that confirm no finding
    Correlation.verdict(event) -> EventVerdict | None  how an event reads (the decision ``explain`` shows)
    Observation(finding, links: tuple[Link, ...]);  Link(event, on: "binary" | "pool" | "rule", confidence)

Matching rule: an event is bitness-related when its verdict (:func:`~iisbitness.explain.report.event_verdict`, the
one ``explain`` shows for it) is a bitness cause; an event the knowledge base reads as another problem (ANCM 1007
whose exception message is the app's own) is in ``not_bitness``, never ``unexplained``; one whose not-bitness
reading is only the usual one (``EventVerdict.usual``: "aspnetcorev2.dll failed to load") may still confirm a
finding on its own binary, and is in ``not_bitness`` when it confirms none. A bitness-related event's
*rule family* is the set of scan rules its entries list as causes. A finding is observed by an
event when the finding's rule is in that family **and** the event names the same binary (basename,
case-insensitive: ``%windir%\\...\\aspnet_filter.dll`` matches ``C:\\WINDOWS\\...\\aspnet_filter.dll``) or the
same pool (case-insensitive). Events naming neither (e.g. 2268, which names a site) cannot be tied to one
finding and stay unexplained unless another event confirms a finding whose rule the event's own entry (by
provider and id, not by the codes in its text) lists: then the event is *possible* for each such finding (a link
``on="rule"``, which never confirms), listed beside it, not dropped.

Calibration (issue 15, the same as ``explain``'s): a link carries the event's calibrated confidence for the
finding's rule (:attr:`~iisbitness.explain.report.EventVerdict.rules`). It *confirms* the finding when that is
HIGH (architecture-specific evidence: 2282, 2274, data ``c1 00 00 00``, ErrorCode 0x800700c1), or MEDIUM
and the event names the finding's very binary (the load failure of that file is observed, e.g. 2280 with
0x8007007E for a binary-missing finding). Generic events naming only the pool (WAS 5002/5009 without data)
or evidence a not-bitness reading overrides (LOW) never confirm. A confirmed finding lists all its links
(the generic ones are the same failure's consequences); a finding only generic events name is *possible*,
not observed, and those events are neither observed nor unexplained.
Non-bitness events (Sysmon, Security, app_offline recycles ...) are ignored. Nothing here raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from iisbitness.explain.codes import Confidence
from iisbitness.explain.events import Event
from iisbitness.explain.kb import KnowledgeBase, load_kb
from iisbitness.explain.match import Signal, Via
from iisbitness.explain.report import EventMatches, EventVerdict

__all__ = ["Correlation", "FindingKey", "Link", "Observation", "basename", "correlate"]


@dataclass(frozen=True, slots=True)
class FindingKey:
    """What correlation needs of a scan finding."""

    rule_id: str
    binary: str | None
    """The binary as configured (``%windir%\\...``) or resolved; None if the finding has none."""
    pool: str | None
    """The application pool name; None if the finding is not about one pool."""


@dataclass(frozen=True, slots=True)
class Link:
    """One event observing a finding, and on what it matched."""

    event: Event
    on: str
    """``"binary"`` or ``"pool"``; ``"rule"`` for an event that names neither, of a confirmed finding's rule (2268):
    it never confirms."""
    confidence: Confidence = Confidence.HIGH
    """The event's calibrated confidence for the finding's rule (as ``explain`` would give it)."""

    @property
    def confirms(self) -> bool:
        """HIGH, or MEDIUM on the finding's own binary (see the module docstring)."""
        if self.on == "rule":
            return False
        return self.confidence is Confidence.HIGH or (self.on == "binary" and self.confidence >= Confidence.MEDIUM)


@dataclass(frozen=True, slots=True)
class Observation:
    """A finding with the events that show it."""

    finding: FindingKey
    links: tuple[Link, ...]

    @property
    def confirmed(self) -> bool:
        """True if at least one link confirms the finding."""
        return any(link.confirms for link in self.links)


@dataclass(frozen=True, slots=True)
class Correlation:
    """Result of :func:`correlate`."""

    observed: tuple[Observation, ...]
    unobserved: tuple[FindingKey, ...]
    unexplained: tuple[Event, ...]
    possible: tuple[Observation, ...] = ()
    """Findings named only by events that do not confirm them (generic, or overridden)."""
    not_bitness: tuple[Event, ...] = ()
    """Recognised events whose verdict is another problem (not linked to findings, not unexplained)."""
    verdicts: tuple[tuple[Event, EventVerdict], ...] = ()
    """Every recognised event with its verdict, in input order (:meth:`verdict`)."""

    def verdict(self, event: Event) -> EventVerdict | None:
        """How ``event`` (one of those correlated) reads; None when the knowledge base does not recognise it."""
        return next((v for e, v in self.verdicts if e is event), None)


def basename(path: str) -> str:
    """Last component of a Windows or POSIX path, casefolded (``C:\\A\\B.DLL`` -> ``b.dll``)."""
    return path.replace("/", "\\").rstrip("\\").rsplit("\\", 1)[-1].casefold()


def _family(found: tuple[Signal, ...], kb: KnowledgeBase, *, own_only: bool = False) -> frozenset[str]:
    """Rules an event's entries list (``found``: its signals); ``own_only``: only entries of its provider/id, not
    codes or text."""
    signals = [s for s in found if not own_only or s.via is Via.EVENT]
    ids = {s.entry_id for s in signals}
    cues = frozenset().union(*(s.cues for s in signals))
    return frozenset(c.rule for e in kb.entries if e.id in ids for c in e.causes if c.holds(cues))


def _link(finding: FindingKey, event: Event) -> str | None:
    if finding.binary and event.binary and basename(finding.binary) == basename(event.binary):
        return "binary"
    if finding.pool and event.pool and finding.pool.casefold() == event.pool.casefold():
        return "pool"
    return None


def correlate(findings: Iterable[FindingKey | tuple[str, str | None, str | None]], events: Iterable[Event],
              kb: KnowledgeBase | None = None) -> Correlation:
    """Join scan findings and event-log events (see the module docstring for the matching).

    Args:
        findings: :class:`FindingKey` or ``(rule id, binary, pool)`` tuples. events: the events read, all of
            one server (a server-wide cue one shows, W3SVC 1009: IIS 6, holds for all).
        kb: the knowledge base (the shipped one when None).

    Returns:
        A :class:`Correlation`: findings an event confirms (``observed``), findings an event may stand for
        (``possible``), findings no event shows (``unobserved``), and the bitness-related events no finding
        explains. Raises nothing for unmatched input; :class:`~iisbitness.explain.kb.KnowledgeBaseError` if the
        shipped knowledge base cannot be loaded.
    """
    kb = kb or load_kb()
    keys = [f if isinstance(f, FindingKey) else FindingKey(*f) for f in findings]
    matched = EventMatches(kb)
    found = [(e, signals) for e, signals in matched.log(list(events)) if signals]
    verdicts = [(e, v) for e, signals in found if (v := matched.verdict(signals))]
    signals_of = {id(e): signals for e, signals in found}
    # NOTE: an event whose not-bitness reading is only its usual one (aspnetcorev2.dll failed to load: a missing
    # dependency as often as its bitness) can still confirm a finding on its own binary; it is never unexplained
    linkable = {id(e): v for e, v in verdicts if v.bitness or v.usual}
    related = [(e, fam) for e, v in verdicts if id(e) in linkable and (fam := _family(signals_of[id(e)], kb))]
    confidence = [dict(linkable[id(e)].rules) for e, _ in related]
    observed: list[Observation] = []
    possible: list[Observation] = []
    unobserved: list[FindingKey] = []
    used: set[int] = set()
    for key in keys:
        links = []
        indexes = []
        for index, (event, family) in enumerate(related):
            on = _link(key, event) if key.rule_id in family else None
            if on:
                links.append(Link(event, on, confidence[index].get(key.rule_id, Confidence.LOW)))
                indexes.append(index)
        seen = Observation(key, tuple(links))
        used.update(indexes)
        if seen.confirmed:
            observed.append(seen)
        else:
            unobserved.append(key)
            if links:
                possible.append(seen)
    linked_rules = {o.finding.rule_id for o in observed}
    # NOTE: an event naming neither binary nor pool (2268: "Could not load all ISAPI filters for site/service") whose
    # own entry lists the rule of a confirmed finding is that failure seen from the site: not unexplained, but never
    # left out either (it was, without a word): it may stand for each confirmed finding of those rules
    unplaced = {i: rules for i, (e, _) in enumerate(related)
                if i not in used and linkable[id(e)].bitness and e.binary is None and e.pool is None
                and (rules := _family(signals_of[id(e)], kb, own_only=True) & linked_rules)}
    for o in observed:
        site = tuple(Link(related[i][0], "rule", confidence[i].get(o.finding.rule_id, Confidence.LOW))
                      for i, rules in unplaced.items() if o.finding.rule_id in rules)
        if site:
            possible.append(Observation(o.finding, site))
    unexplained = tuple(
        e for i, (e, _) in enumerate(related) if i not in used and i not in unplaced and linkable[id(e)].bitness)
    confirming = {id(link.event) for o in observed for link in o.links}
    return Correlation(tuple(observed), tuple(unobserved), unexplained, tuple(possible),
                       tuple(e for e, v in verdicts if not v.bitness and id(e) not in confirming), tuple(verdicts))
