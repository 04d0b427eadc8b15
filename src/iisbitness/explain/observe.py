"""Join a scan report with event logs (``scan --event-log``): predicted and observed side by side.

Each event that confirms a finding (same rule family and same binary or pool, see
:mod:`iisbitness.explain.correlate`) becomes an :class:`iisbitness.report.Observation` pointing at
that finding (``scope`` ``binary`` when it names only a binary that several pools' findings share: it
shows one worker failing, not which); bitness-related events no finding explains are listed with
``finding_index`` None (with ``possible``, the findings it names but does not confirm: generic evidence such as
WAS 5002 naming a pool; with ``unreported_rule``, the rule of a finding ``--select``/``--ignore`` left out that
it confirms); events the knowledge base reads as another problem go to ``Report.other_events`` (each
observation carries the event's verdict, the one ``explain`` shows: :func:`iisbitness.explain.report.event_verdict`);
``Report.events_read`` says how many events were read, relevant or not.
Parts of a damaged log that cannot be read become report problems; the rest is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from iisbitness.explain.correlate import FindingKey, correlate
from iisbitness.explain.events import Event, read_events
from iisbitness.explain.report import EventVerdict
from iisbitness.model.source import Problem
from iisbitness.report import Observation, Report


def _observation(event: Event, verdict: EventVerdict | None, index: int | None, scope: str = "finding",
                 possible: tuple[int, ...] = (), unreported: str = "") -> Observation:
    reading, sure, lead = (verdict.reading, verdict.confidence.label, verdict.lead) if verdict else ("bitness", "low", "")
    return Observation(event.time or "", event.source_name, event.event_id, event.message, index, scope,
                       reading, sure, lead, verdict is not None and verdict.usual, possible, unreported)


def observe(report: Report, logs: Sequence[Path]) -> Report:
    """``report`` with observations from ``logs`` (.evtx or exported event XML).

    Raises:
        EventLogError (an IisBitnessError): a log file cannot be opened at all.
    """
    reads = [read_events(p) for p in logs]
    events = [e for r in reads for e in r.events]
    # NOTE: matched against every finding, the ones --select/--ignore left out too: an event one of them explains
    # is said to explain "a finding of a rule not selected", never "no finding explains it" (index past findings)
    keys = [FindingKey(f.rule, f.binary, f.pool) for f in report.findings + report.unreported_findings]
    shown = len(report.findings)
    result = correlate(keys, events)
    verdict_of = {id(e): v for e, v in result.verdicts}  # NOTE: one look-up per event, not a search of all
    seen: list[Observation] = []
    # NOTE: an event that names a binary but no pool, linked to the findings of several pools (one global module,
    # seven pools), shows the binary failing in one worker: it does not confirm each pool's finding
    pools_of: dict[int, set[str]] = {}
    for obs in result.observed:
        for link in obs.links:
            if link.on == "binary" and obs.finding.pool:
                pools_of.setdefault(id(link.event), set()).add(obs.finding.pool.casefold())
    for obs in result.observed:
        index = keys.index(obs.finding)
        if index >= shown:
            seen.extend(_observation(link.event, verdict_of.get(id(link.event)), None, unreported=obs.finding.rule_id)
                        for link in obs.links)
            continue
        seen.extend(_observation(link.event, verdict_of.get(id(link.event)), index,
                                 "binary" if len(pools_of.get(id(link.event), ())) > 1 and link.on == "binary"
                                 else "finding") for link in obs.links)
    seen.extend(_observation(e, verdict_of.get(id(e)), None) for e in result.unexplained)
    # NOTE: an event that names a finding's pool or binary but does not confirm it (WAS 5002: generic) is still a
    # bitness-related event: said, with the findings it may stand for, never left out
    confirming = {id(link.event) for obs in result.observed for link in obs.links}
    maybe: dict[int, tuple[Event, list[int]]] = {}
    for obs in result.possible:
        for link in obs.links:
            verdict = verdict_of.get(id(link.event))
            if id(link.event) not in confirming and verdict is not None and verdict.bitness:
                maybe.setdefault(id(link.event), (link.event, []))[1].extend(
                    i for i in (keys.index(obs.finding),) if i < shown)
    seen.extend(_observation(e, verdict_of.get(id(e)), None, possible=tuple(dict.fromkeys(found)))
                for e, found in maybe.values())
    others = [_observation(e, verdict_of.get(id(e)), None) for e in result.not_bitness]
    problems = [Problem(p.path, None, p.message) for r in reads for p in r.problems]

    def order(o: Observation) -> tuple[str, str, int, int]:
        return o.time, o.provider, o.event_id, o.finding_index or -1

    return replace(report, observations=tuple(sorted(dict.fromkeys(seen), key=order)),
                   other_events=tuple(sorted(dict.fromkeys(others), key=order)),
                   problems=report.problems + tuple(problems), events_read=len(events))
