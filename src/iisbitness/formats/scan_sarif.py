"""``--format sarif`` for scan: SARIF 2.1.0 (OASIS), for code-scanning dashboards and pipelines.

- One ``reportingDescriptor`` per rule that ran: id, summary, the rule's help text, and, when the
  caller says where the rule pages are published (``docs_url``), ``helpUri`` to ``<docs_url>/<id>.md``
  (none otherwise: a guessed address would be a dead link); ``defaultConfiguration.level`` from its severity.
- One ``result`` per finding: level from severity (error/warning/note, one function), message =
  symptom and cause, location = the configuration file and line (relative to the image, base id
  ``IMAGEROOT``), the binary as a ``relatedLocation``, the finding's stable ``key`` as a
  ``partialFingerprint`` (so dashboards follow a finding across scans), and every verified fix that
  is a text edit as a SARIF ``fix`` (``artifactChanges`` with whole-line ``replacements``). The
  commands of each alternative fix stay apart in ``properties.fixCommands`` (``number``, ``summary``,
  ``cmd``, ``powershell``); ``properties.commands`` (every fix's cmd.exe lines in one list) is kept for
  compatibility only: two alternatives there read as one script.
- A fix offered by more than one result whose side effects and commands run past :data:`STATED_ONCE` characters (a
  global module's preCondition fix names every pool) is stated once, in ``runs[].properties.fixes``; each result
  keeps it in its own ``fixes`` (description, ``artifactChanges``), its side effects' pools past :data:`NAMED`
  counted, with ``properties.statedIn``, a ``sarif:`` URI (SARIF 2.1.0 §3.10.3, a JSON pointer) to the full statement,
  ``fixCommands`` names it the same way, and the flat ``commands`` has a ``rem`` line saying where its lines are
  (:class:`_Once`): the log grows with the pools, not their square. Such a log says so: ``runs[].properties``
  ``fixesStatedOnce: true``. The fixes of results a baseline accepted (no number) are stated once the same way.
- Problems met reading the server as ``toolExecutionNotifications`` (bandit's idea), and each application the
  scan did not (fully) read (``Report.coverage``): level ``error`` when not checked, ``warning`` when partly,
  descriptor ``coverage/not-checked`` / ``coverage/partly-checked``. SARIF 2.1.0 Appendix I ("Detecting
  incomplete result sets"): an ``error`` notification means the results cannot be assumed complete, while
  ``executionSuccessful`` stays true: the tool ran to its end (false means it failed to start, exited with a
  failure code or crashed); a pipeline gates on coverage with ``--fail-on-incomplete``. Configuration IIS itself
  refuses (``Problem.refused``: a web.config answered with HTTP 500.19, a section of applicationHost.config IIS
  fails to read) is an ``error`` notification with descriptor ``config/refused-by-iis``. A scan that could not list
  a single application (``Report.checked_nothing``: ``<sites>`` in a file not read) exits 2, so there
  ``executionSuccessful`` is false.
- What the text and HTML say under the configuration line, as ``warning`` notifications: a web farm's shared
  configuration (descriptor ``config/shared-configuration``: every node using it runs a fix of this log; the binaries
  checked are this server's only), binaries whose architecture was inferred from their folder (``coverage/inferred``).
  A fix's verification is worded as the text's (:func:`~iisbitness.formats.causes.mark`: ``(not verified)``,
  ``(verified, but P then runs without X)``), with its security warning where it takes a security module out.
- Findings a baseline accepted (``--baseline``) as results with an ``external`` suppression.
- ``check-app --server``: the server's own findings in the worker that serves the application
  (:attr:`Report.server_findings`) as notifications at their level, descriptor ``check-app/server-finding``.

- Findings ``--select``/``--ignore`` left out (every rule runs; the selection only chooses what is reported): the
  run's ``properties.unreported`` (rule id -> how many) and a ``note`` notification, descriptor
  ``selection/unreported``, naming each rule; absent when nothing was left out.

No timestamps; keys sorted: the same scan gives the same bytes. Validated in the tests against the
official schema (``tests/fixtures/sarif/sarif-2.1.0.json``) and, when present, the SARIF Multitool.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, assert_never
from urllib.parse import quote

from iisbitness import __version__
from iisbitness.findings import Finding, Fix, Rule, Severity
from iisbitness.formats import indented_json
from iisbitness.formats.causes import (
    ReportView,
    arch_label,
    effect_lines,
    event_lines,
    fix_key,
    inferred_note,
    mark,
    security_warning,
    shared_config_words,
    view,
)
from iisbitness.model.source import Problem
from iisbitness.report import Coverage, CoverageStatus, Report
from iisbitness.rules import RULES

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT = "iisbitnessKey/v1"
IMAGE_BASE = "IMAGEROOT"
SOURCE_BASE = "SRCROOT"
"""check-app: paths relative to the folder it ran in (the repository), the base id code scanning maps."""


def rule_doc_url(rule_id: str, docs_url: str) -> str:
    """The rule's page under ``docs_url`` (where ``docs/rules/`` is published)."""
    return f"{docs_url.rstrip('/')}/{rule_id}.md"


def level(severity: Severity) -> str:
    """SARIF ``level`` of a severity."""
    if severity is Severity.ERROR:
        return "error"
    if severity is Severity.WARNING:
        return "warning"
    if severity is Severity.NOTE:
        return "note"
    assert_never(severity)


def _descriptor(r: Rule, docs_url: str | None, iisexpress: bool = False) -> dict[str, Any]:
    """The SARIF ``reportingDescriptor`` of ``r``, in IIS Express's terms (:meth:`Rule.title`) on its scan."""
    title, detail = r.title(iisexpress), r.detail(iisexpress)
    url = rule_doc_url(r.id, docs_url) if docs_url else None
    page = url or f"docs/rules/{r.id}.md"
    return {
        "id": r.id,
        "name": "".join(w.capitalize() for w in r.id.split("-")),
        "shortDescription": {"text": title},
        "fullDescription": {"text": f"{title}. {detail}".strip()},
        "help": {"text": f"{title}. {detail} See {page}".strip(),
                 "markdown": f"**{title}.** {detail}\n\nSee " + (f"[{r.id}]({url})." if url else f"`{page}`.")},
        **({"helpUri": url} if url else {}),
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {"tags": ["iis", "bitness"]},
    }


def _uri(file: str) -> dict[str, Any]:
    """An artifactLocation: relative to the image root, or an absolute file URI (``--config``): a drive letter
    stays as it is, ``file:///D:/x/web.config`` (RFC 8089, appendix E.2), not percent-encoded as ``D%3A``."""
    p = PurePosixPath(file.replace("\\", "/"))
    if file.startswith("/"):
        return {"uri": "file://" + quote(p.as_posix())}
    if len(file) > 2 and file[1] == ":" and file[0].isascii() and file[0].isalpha():
        return {"uri": "file:///" + file[:2] + quote(p.as_posix()[2:])}
    return {"uri": quote(p.as_posix()), "uriBaseId": IMAGE_BASE}


def _location(file: str, line: int | None, message: str | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _uri(file)}
    if line:
        physical["region"] = {"startLine": line}
    out: dict[str, Any] = {"physicalLocation": physical}
    if message:
        out["message"] = {"text": message}
    return out


STATED_ONCE = 2_000
"""A fix offered by more than one result whose side effects and commands together run longer than this many
characters is stated once for the run (:class:`_Once`), not in full in every result offering it (issue 25)."""
NAMED = 8
"""How many pools a result's line names of a fix stated once (the rest counted: ``... and 992 more pools``)."""


class _Once:
    """The fixes of a run stated once (:data:`STATED_ONCE`): ``runs[].properties.fixes`` holds each in full
    (``number``, ``summary``, ``verified``, ``sideEffects``, ``cmd``, ``powershell``); a result offering one keeps
    it in its own ``fixes[]`` (description, ``artifactChanges``: what SARIF viewers show and apply) with its side
    effects' pools counted past :data:`NAMED` and ``statedIn``, a ``sarif:`` URI (SARIF 2.1.0 §3.10.3: a JSON
    pointer into the same log) to the full statement; its ``fixCommands`` entry names it the same way instead of
    repeating its commands, and ``commands`` has in their place one cmd.exe comment (``rem``) naming the statement;
    the run's ``properties.fixesStatedOnce`` is true. Without such a fix the log is as before.

    NOTE: a global module's preCondition fix is offered by a finding in every pool, and its side effect and its
    commands name every pool: stated in each result, the log grew with the square of the pools (306 MB at 1,000)."""

    def __init__(self, report: Report, v: ReportView, run: int) -> None:
        self.v, self.run = v, run
        self._lines: dict[int, tuple[str, ...]] = {}
        self._short: dict[object, list[str]] = {}
        offered: Counter[object] = Counter()
        first: dict[object, Fix] = {}
        for f in (*report.findings, *report.suppressed):
            keys = {self._key(x): x for x in f.fixes}
            offered.update(keys.keys())
            for k, x in keys.items():
                first.setdefault(k, x)
        order = {k: i for i, k in enumerate(first)}
        # NOTE: numbered fixes first, in their numbers' order, then those only suppressed results offer (no number)
        big = sorted((k for k, n in offered.items() if n > 1 and sum(
            map(len, (*self.lines(first[k]), *first[k].commands, *first[k].powershell))) > STATED_ONCE),
            key=lambda k: (0, k, 0) if isinstance(k, int) else (1, 0, order[k]))
        self.index = {k: j for j, k in enumerate(big)}
        self._first = first

    def _key(self, fix: Fix) -> object:
        """Which fix ``fix`` is: its number as the report numbers its distinct fixes (the fixes of different findings
        that are the same fix share it; a cheap key, where a fix's own hash walks every side effect), else, for a fix
        only results a baseline accepted offer (``--baseline``: they have no number), what makes fixes the same fix
        (:func:`fix_key`: summary, commands, note, verification; not the side effects)."""
        n = self.v.number(fix)
        return n if n is not None else fix_key(fix)

    def lines(self, fix: Fix) -> tuple[str, ...]:
        """``effect_lines(fix)``, made once per fix object."""
        key = id(fix)
        if key not in self._lines:
            self._lines[key] = effect_lines(fix)
        return self._lines[key]

    def short(self, fix: Fix) -> list[str]:
        """The side effects of a fix stated once, as a result says them: pools past :data:`NAMED` counted, lines
        past it too (made once per fix: its side effects are as many as the pools)."""
        key = self._key(fix)
        if key not in self._short:
            lines = list(effect_lines(self._first[key], named=NAMED))
            self._short[key] = (lines if len(lines) <= NAMED else
                                lines[:NAMED] + [f"and {len(lines) - NAMED:,} more side effects"])
        return list(self._short[key])

    def where(self, fix: Fix) -> str | None:
        """The ``sarif:`` URI of ``fix``'s full statement, or None when results state it in full."""
        if not self.index:
            return None
        j = self.index.get(self._key(fix))
        return None if j is None else f"sarif:/runs/{self.run}/properties/fixes/{j}"

    def table(self) -> list[dict[str, Any]]:
        """``runs[].properties.fixes``: each fix stated once, in full."""
        return [{"number": self.v.number(x), "summary": x.summary, "verified": x.verified,
                 "sideEffects": list(self.lines(x)), "cmd": list(x.commands), "powershell": list(x.powershell),
                 **({"securityWarning": w} if (w := security_warning(x)) else {}),
                 **({"unverifiedBecause": why} if (why := _unverified(x)) else {})}
                for x in (self._first[k] for k in self.index)]


def _fix(fix: Fix, number: int | None, once: _Once) -> dict[str, Any] | None:
    if not fix.file_edits:
        return None
    where = once.where(fix)
    warning = security_warning(fix)
    return {
        # NOTE: verification as text and HTML word it (mark): "(verified, but ... then run without X)", "(not verified)"
        "description": {"text": f"[{number}] " * (number is not None) + fix.summary + mark(fix)
                        + (f" Warning: {warning}" if warning else "")},
        "properties": {"number": number, "verified": fix.verified,
                       # NOTE: only where a security module is taken out (added): other logs keep their keys
                       **({"securityWarning": warning} if warning else {}),
                       **({"sideEffects": list(once.lines(fix))} if where is None else
                          {"sideEffects": once.short(fix), "statedIn": where})},
        "artifactChanges": [
            {"artifactLocation": _uri(e.file),
             "replacements": [{"deletedRegion": {"startLine": r.start, "startColumn": 1,
                                                 "endLine": r.end, "endColumn": 1},
                               **({"insertedContent": {"text": r.text}} if r.text else {})}
                              for r in e.replacements]}
            for e in fix.file_edits],
    }


def _unverified(fix: Fix) -> str | None:
    """Why ``fix`` is not verified, as its note says it to JSON and HTML (the words after its ``Not verified: ``, final
    period dropped); None for a fix verified or advice, or whose note does not say (check-app's advice on the target
    pool has no note)."""
    if fix.verified is not False or not fix.note or (at := fix.note.find("Not verified: ")) < 0:
        return None
    return fix.note[at + len("Not verified: "):].rstrip(".")


def _fix_line(x: Fix, n: int | None, once: _Once) -> str:
    """A fix as ``properties.fixes`` says it: ``[N] summary (verified); also: side effect``, its verification as text and
    HTML word it (:func:`~iisbitness.formats.causes.mark`: ``(not verified)``, ``(verified, but P then runs without
    X)``), then its security warning (``; warning: X looks like a security module: ...``)."""
    where = once.where(x)
    lines = once.lines(x) if where is None else once.short(x)
    warning = security_warning(x)
    why = _unverified(x) if where is None else None
    return (f"[{n}] " * (n is not None) + x.summary + mark(x)
            + "".join(f"; also: {line}" for line in lines) + (f"; warning: {warning}" if warning else "")
            + (f"; not verified: {why}" if why else "") + (f"; in full: {where}" if where else ""))


def _commands(x: Fix, n: int | None, once: _Once) -> list[str]:
    """A fix's lines in a result's flat ``commands``: its cmd.exe lines, or for a fix stated once a cmd.exe comment
    (``rem``: cmd.exe runs nothing for it) naming where they are, so that the list never lacks a fix unsaid. The
    comment holds no ``<``, ``>`` or ``|`` (Microsoft Learn, "rem", Windows Commands: none allowed in a comment) and
    no ``%`` (no summary, no pool name: only the fix's number and the ``sarif:`` URI)."""
    where = once.where(x)
    if where is None or not x.commands:
        return list(x.commands)
    return [f"rem {f'[{n}]' if n is not None else 'a fix'} is stated once for the run: its commands are in {where}"]


def _fix_commands(x: Fix, n: int | None, once: _Once) -> dict[str, Any]:
    where = once.where(x)
    if where is not None:
        return {"number": n, "summary": x.summary, "statedIn": where}
    return {"number": n, "summary": x.summary, "cmd": list(x.commands), "powershell": list(x.powershell)}


def _result(f: Finding, rule_index: dict[str, int], v: ReportView, once: _Once,
            number: int | None = None, events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    related = []
    if f.resolved:
        arch = ", ".join(a.value for a in f.binary_arch) or "unknown architecture"
        related.append(_location(f.resolved, None, f"{f.binary} ({arch})") | {"id": 1})
    elif f.binary:
        # NOTE: an architecture inferred from the binary's folder said as the text's "[x86, inferred]" says it
        inferred = f"{arch_label(f.binary_arch, f.binary_target)}, inferred from its folder: " if f.arch_inferred else ""
        related.append({"id": 1, "message": {"text": f"{f.binary} ({inferred}not in {v.report.server.absent_from})"}})
    fixes = [x for x in (_fix(fx, v.number(fx), once) for fx in f.fixes) if x is not None]
    # NOTE: fix numbers as text and HTML show them ([N], `fix --fix N`); the finding's number is `fix --finding N`
    props = {k: value for k, value in {
        "findingNumber": number,
        "pool": f.pool, "site": f.site, "application": f.application, "process": f.process,
        "processArch": f.process_arch.value if f.process_arch else None,
        # NOTE: only where true (added): the text's "iisexpress.exe x86 assumed", JSON's process_arch_assumed
        "processArchAssumed": True if f.process_arch_assumed else None,
        "binaryArch": [a.value for a in f.binary_arch], "evidence": f.evidence.value,
        "fixes": [_fix_line(x, v.number(x), once) for x in f.fixes],
        # NOTE: kept flat as docs/sarif.md promised it (a fix stated once: a rem line naming where its lines are)
        "commands": [c for x in f.fixes for c in _commands(x, v.number(x), once)],
        "fixCommands": [_fix_commands(x, v.number(x), once) for x in f.fixes if x.commands or x.powershell],
        # NOTE: with --event-log only (added): the events that confirm this finding, with explain's verdict
        "observations": events,
    }.items() if value not in (None, [])}
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": {"text": f"{f.symptom} {f.cause}"},
        "locations": [_location(f.config.file, f.config.line)] if f.config else [],
        "partialFingerprints": {FINGERPRINT: "|".join(f.key)},
        "properties": props,
    }
    if f.rule in rule_index:
        out["ruleIndex"] = rule_index[f.rule]
    if related:
        out["relatedLocations"] = related
    if fixes:
        out["fixes"] = fixes
    return out


REFUSED = "config/refused-by-iis"
"""The ``descriptor.id`` of a notification for configuration IIS itself refuses (``Problem.refused``)."""


def _notification(p: Problem) -> dict[str, Any]:
    """A problem as a notification: ``error`` when fatal, or when IIS itself refuses the configuration (descriptor
    :data:`REFUSED`: SARIF 2.1.0 Appendix I, the results cannot be taken as complete for what it concerns), else
    ``warning``."""
    out: dict[str, Any] = {"level": "error" if p.fatal or p.refused else "warning", "message": {"text": p.message},
                           "locations": [_location(p.file, p.line)]}
    if p.refused:
        out["descriptor"] = {"id": REFUSED}
    return out


def _coverage_notification(c: Coverage) -> dict[str, Any]:
    """An application not (fully) checked: level ``error`` when not checked at all, so that a consumer following
    SARIF 2.1.0 Appendix I ("Detecting incomplete result sets") does not take the results as complete;
    ``warning`` when partly checked."""
    words = c.status.value.replace("-", " ")
    text = f"{c.application} was {words}: {'; '.join(c.reasons)}." + (f" Give: {c.remedy}." if c.remedy else "")
    out: dict[str, Any] = {"level": "error" if c.status is CoverageStatus.NOT_CHECKED else "warning",
                           "descriptor": {"id": f"coverage/{c.status.value}"}, "message": {"text": text},
                           "properties": {"application": c.application, "pool": c.pool, "status": c.status.value,
                                          "remedy": c.remedy}}
    if c.config is not None:
        out["locations"] = [_location(c.config.file, c.config.line)]
    return out


SHARED_CONFIG = "config/shared-configuration"
"""Descriptor id of the notification saying the configuration read is a web farm's shared configuration."""
INFERRED = "coverage/inferred"
"""Descriptor id of the notification naming binaries a worker loads that the image lacks, whose architecture was
inferred from their folder (:attr:`ServerSummary.inferred`, :attr:`ServerSummary.config_only`)."""


def _server_notifications(report: Report) -> list[dict[str, Any]]:
    """What the text and HTML say of the server under its configuration line, as notifications: a web farm's shared
    configuration (``warning``, :data:`SHARED_CONFIG`: every node that uses it runs a fix of this log, whose binaries
    were not read), and binaries whose architecture was inferred, not read (``warning``, :data:`INFERRED`: the results
    about them rest on their folder; the image holds configuration files only, or lacks some vendor binaries)."""
    s = report.server
    out: list[dict[str, Any]] = []
    if s.shared_config:
        out.append({"level": "warning", "descriptor": {"id": SHARED_CONFIG},
                    "message": {"text": shared_config_words(s.shared_config)},
                    "properties": {"sharedConfig": s.shared_config}})
    if s.config_only:
        where = s.absent_from[0].upper() + s.absent_from[1:]
        out.append({"level": "warning", "descriptor": {"id": INFERRED},
                    "message": {"text": f"{where} holds none of the binaries the configuration names: their "
                                        "architectures are inferred from their folders where Windows decides them "
                                        "(results with evidence 'inferred'); copy the files to check them."}})
    elif note := inferred_note(s):
        out.append({"level": "warning", "descriptor": {"id": INFERRED}, "message": {"text": note},
                    "properties": {"inferred": list(s.inferred)}})
    return out


SERVER_FINDING = "check-app/server-finding"
"""The ``descriptor.id`` of a notification for a finding of the server in the worker that serves the application
(``check-app --server``, :attr:`Report.server_findings`): not the build's, so not a result."""


def _server_finding_notification(f: Finding, accepted: bool) -> dict[str, Any]:
    """A server's own finding in the application's worker as a notification at the finding's level; no location
    (the server's applicationHost.config is not a file of the repository): ``properties`` name it (``config``:
    ``file:line``) and whether ``--ignore-server-findings`` accepted it."""
    fails = f.severity is Severity.ERROR and not f.binary_not_checked  # NOTE: Report.server_failing's test
    opening = ("The pool this application runs in already fails, whatever the build" if fails else
               "The pool this application runs in has a could-not-check finding of the server, not the build's"
               if f.binary_not_checked else "The pool this application runs in has a finding of the server, not the "
               "build's")
    text = f"{opening}: {f.rule} in {f.pool or f.process}: {f.symptom}"
    return {"level": level(f.severity), "descriptor": {"id": SERVER_FINDING}, "message": {"text": text},
            "properties": {"rule": f.rule, "pool": f.pool, "binary": f.binary, "accepted": accepted,
                           "config": str(f.config) if f.config else None}}


UNREPORTED = "selection/unreported"
"""Descriptor id of the notification saying how many findings ``--select``/``--ignore`` left out of the results."""


def _unreported_notification(report: Report) -> dict[str, Any]:
    """The findings ``--select``/``--ignore`` left out (``Report.unreported``), as one ``note`` notification naming
    each rule and its count: the results are complete for the rules selected, so not ``error`` (SARIF 2.1.0
    Appendix I), but a selection never reads as a clean server."""
    counts = Counter(report.unreported)
    n = len(report.unreported)
    each = ", ".join(f"{rule} ({k})" for rule, k in counts.items())
    return {"level": "note", "descriptor": {"id": UNREPORTED},
            "message": {"text": f"{n} more finding{'s' if n != 1 else ''} of rules not selected (--select/--ignore) "
                                f"are not among the results: {each}."}}


def _rebase(node: Any, base: str) -> Any:
    """``node`` with every ``uriBaseId`` :data:`IMAGE_BASE` made ``base``."""
    if isinstance(node, dict):
        return {k: base if k == "uriBaseId" and v == IMAGE_BASE else _rebase(v, base) for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v, base) for v in node]
    return node


def run_dict(report: Report, docs_url: str | None = None, source_root: Path | None = None,
             unusable: bool = False, index: int = 0) -> dict[str, Any]:
    """One SARIF ``run`` for one scanned server; ``docs_url``: where the rule pages are published (``helpUri``);
    ``source_root``: relative paths start there, base id ``SRCROOT`` (check-app in a repository), not the image;
    ``unusable``: the command exits 2 on this input all the same (check-app: the build's own configuration IIS
    refuses), so ``executionSuccessful`` is false, as when nothing was checked; ``index``: the run's place in the
    log's ``runs`` (the ``sarif:`` URIs of fixes stated once point into it)."""
    run, results = _run_parts(report, docs_url, source_root, unusable, index)
    run["results"] = list(results)
    return run


def _run_parts(report: Report, docs_url: str | None, source_root: Path | None, unusable: bool,
               index: int) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """:func:`run_dict` without its ``results``, and the results, each made when the iterator reaches it."""
    by_id: dict[str, Rule] = {r.id: r for r in RULES}
    rules = [by_id[i] for i in report.rules if i in by_id]
    rule_index: dict[str, int] = {r.id: i for i, r in enumerate(rules)}
    v = view(report)
    once = _Once(report, v, index)
    root = report.server.image
    bases: dict[str, Any] = {}
    if root.startswith("/"):
        bases[IMAGE_BASE] = {"uri": "file://" + quote(root.rstrip("/") + "/"),
                             "description": {"text": "The server image: the folder standing for C:\\"}}
    else:
        bases[IMAGE_BASE] = {"description": {"text": f"The server image ({root}): the folder standing for C:\\"}}
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "iisbitness", "version": __version__, "semanticVersion": __version__,
                            **({"informationUri": docs_url} if docs_url else {}),
                            "rules": [_descriptor(r, docs_url, report.server.kind == "iisexpress")
                                      for r in rules]}},
        "originalUriBaseIds": bases,
        "invocations": [{"executionSuccessful": not (unusable or report.checked_nothing()),
                         "toolExecutionNotifications": _server_notifications(report)
                         + [_notification(p) for p in report.problems]
                         + [_coverage_notification(c) for c in report.unchecked()]
                         + [_server_finding_notification(f, report.server_findings_accepted)
                            for f in report.server_findings]
                         + ([_unreported_notification(report)] if report.unreported else [])}],
        "columnKind": "unicodeCodePoints",
        "properties": {"server": {"kind": report.server.kind, "configFile": report.server.config_file,
                                  "osArch": report.server.os_arch.value,
                                  # NOTE: only for a web farm's shared configuration (added): other logs are as before
                                  **({"sharedConfig": report.server.shared_config}
                                     if report.server.shared_config else {})},
                       "coverage": report.coverage_words(),
                       # NOTE: only with a selection that left findings out: every other log is byte for byte as before
                       **({"unreported": dict(Counter(report.unreported))} if report.unreported else {}),
                       # NOTE: IIS Express only (added): which iisexpress.exe runs each project and how that was decided
                       # (assumed: Visual Studio's unrecorded default), as the text's projects block and JSON's iisexpress
                       **({"projects": [{"project": x.name, "site": x.site, "arch": x.arch.value, "process": x.process,
                                         "decidedBy": x.decided_by, "assumed": x.assumed, "reason": x.reason}
                                        for x in report.projects]} if report.server.kind == "iisexpress" else {}),
                       # NOTE: with --event-log only (added): what the text's and HTML's Event log list, line for line
                       **({"eventsRead": report.events_read,
                           "events": [{"time": e.time, "provider": e.provider, "eventId": e.event_id, "tag": e.tag,
                                       "bitness": e.bitness} for e in event_lines(report)]}
                          if report.events_read is not None else {}),
                       # NOTE: only when a fix is stated once (a large server): every other log is byte for byte as before
                       **({"fixes": once.table(), "fixesStatedOnce": True} if once.index else {})},
    }

    confirmed: dict[int, list[dict[str, Any]]] = {}
    for o in report.observations:
        if o.finding_index is not None:
            confirmed.setdefault(o.finding_index, []).append(
                {"time": o.time, "provider": o.provider, "eventId": o.event_id, "scope": o.scope, "reading": o.reading,
                 "confidence": o.confidence, "lead": o.lead})

    def results() -> Iterator[dict[str, Any]]:
        for i, f in enumerate(report.findings, 1):
            out = _result(f, rule_index, v, once, i, confirmed.get(i - 1))
            yield out if source_root is None else _rebase(out, SOURCE_BASE)
        for f in report.suppressed:
            out = _result(f, rule_index, v, once) | {"suppressions": [{"kind": "external", "status": "accepted",
                                                                       "justification": "accepted in the baseline"}]}
            yield out if source_root is None else _rebase(out, SOURCE_BASE)

    if source_root is None:
        return run, results()
    run = _rebase(run, SOURCE_BASE)
    run["originalUriBaseIds"] = {SOURCE_BASE: {
        "uri": source_root.resolve().as_uri().rstrip("/") + "/",
        "description": {"text": "The folder check-app ran in (the repository): paths of the build start there"}}}
    return dict(run), results()


_HOLE = "\ue000iisbitness results of run {}\ue000"
"""Where a run's results go in the log's text (:func:`write_many`): a string no log holds (private-use characters)."""
RESULTS_INDENT = 8
"""The indentation of a result in the log's text: the log, ``runs``, a run, ``results``, two spaces each."""


def write_many(reports: list[Report], write: Callable[[str], object], docs_url: str | None = None,
               source_root: Path | None = None, unusable: bool = False) -> None:
    """:func:`render_many`'s text handed to ``write`` in pieces, whose concatenation it is: the log around its
    results, and each result made, written and dropped in turn (issue 25: the whole log of 1,000 pools held as
    objects and as text at once took the rendering's peak to 1.1 GB). A piece never ends inside a JSON string.
    ``docs_url``, ``source_root``, ``unusable``: as :func:`run_dict`."""
    runs: list[dict[str, Any]] = []
    parts: list[Iterator[dict[str, Any]]] = []
    for i, r in enumerate(reports):
        run, results = _run_parts(r, docs_url, source_root, unusable, i)
        runs.append(run | {"results": _HOLE.format(i)})
        parts.append(results)
    text = indented_json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}) + "\n"
    holes = [indented_json.dumps(_HOLE.format(i)) for i in range(len(parts))]
    if any(text.count(h) != 1 for h in holes):  # NOTE: never seen; the log made whole all the same
        for run, results in zip(runs, parts, strict=True):
            run["results"] = list(results)
        write(indented_json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}) + "\n")
        return
    at = 0
    pad = "\n" + " " * RESULTS_INDENT
    for hole, results in zip(holes, parts, strict=True):
        j = text.index(hole, at)
        write(text[at:j])
        first = True
        for res in results:
            write(("[" if first else ",") + pad + indented_json.dumps(res).replace("\n", pad))
            first = False
        write("[]" if first else "\n" + " " * (RESULTS_INDENT - 2) + "]")
        at = j + len(hole)
    write(text[at:])


def render_many(reports: list[Report], docs_url: str | None = None, source_root: Path | None = None,
                unusable: bool = False) -> str:
    """A SARIF log with one run per scanned server, as indented JSON with sorted keys (``docs_url``,
    ``source_root``, ``unusable``: as :func:`run_dict`); :func:`write_many` writes the same text in pieces."""
    pieces: list[str] = []
    write_many(reports, pieces.append, docs_url, source_root, unusable)
    return "".join(pieces)


def render(report: Report) -> str:
    """A SARIF log of one scan."""
    return render_many([report])
