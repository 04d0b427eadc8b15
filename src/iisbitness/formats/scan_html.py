"""``--format html`` for scan and demo: one self-contained page (issue 14).

The first screen says what to do: the summary, then "What to do first" (:func:`first_steps`: one fix per
cause, worst cause first, each with its commands). Then the server as people picture it — pools, their
applications, and the binaries each worker loads, coloured by architecture with a label beside every
colour; per worker only the binaries that are not part of Windows or that do not fit are listed, the rest
behind "show all N" — then filters and every cause (:mod:`iisbitness.formats.causes`) with its symptom,
explanation, configuration file:line and fix commands in copyable blocks. On a server of thousands of pools the
page groups past :data:`MANY` (issue 25): a cause's pools, fixes of one kind (:class:`Run`), pools alike
(:class:`WorkerGroup`), causes alike (:class:`CauseGroup`: each site's own copy of one x86 DLL) and a worker's
applications alike show once with a count, their lists in closed ``<details>``; the tables of those lists (the fixes
of a run, the causes of a group) are :class:`Rows` (:func:`table`): plain HTML rows up to :data:`PLAIN_ROWS` rows,
past it patterns and a line of values per row that the script builds rows from when opened. CSS and JavaScript are
inlined from ``templates/`` and a Content-Security-Policy forbids any network access, so the file opens from disk
anywhere, and lets only the page's own script run (by its SHA-256), never an inline one. The script adds filters and
copy buttons, and builds the rows of tables past :data:`PLAIN_ROWS`. Without JavaScript everything is shown and
every command pastes as it is, unless a table has more than :data:`PLAIN_ROWS` rows: there its patterns and values
are shown.

Rendered with Jinja2 with autoescaping on: names from a scanned server (pools, sites, binaries)
are data, never markup; their control characters and bidirectional overrides are shown escaped. Reads only a :class:`Report`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import jinja2
import markupsafe

from iisbitness import __version__
from iisbitness.arch import Arch
from iisbitness.findings import Finding, Severity
from iisbitness.formats.causes import (
    MANY,
    Cause,
    CauseGroup,
    EventLine,
    ReportView,
    arch_label,
    cause_entries,
    closing_words,
    effect_lines,
    event_lines,
    file_name,
    inferred_note,
    past_many,
    removal,
    security_warning,
    shared_config_words,
    verification,
    view,
)
from iisbitness.formats.table import printable
from iisbitness.image.paths import WINDIR
from iisbitness.model.source import Problem
from iisbitness.report import LoadEntry, PoolSummary, Report, Verdict


def _visible(value: object) -> object:
    """Every value the template prints: control characters and bidirectional overrides from the server's names
    shown escaped (``\\u202e``), as the text report shows them (:func:`~iisbitness.formats.table.printable`), so
    that ``\u202egnp.exe`` does not show as "exe.png"; line breaks kept. Markup (the inlined script) is ours."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup) and not value.isprintable():
        return "\n".join(printable(line) for line in value.split("\n"))
    return value


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("iisbitness.formats", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    finalize=_visible,
)


@functools.cache
def _script() -> tuple[markupsafe.Markup, markupsafe.Markup]:
    """The page's script and its CSP source (``'sha256-...'``): the policy allows that script and no other, so an
    injected ``<script>`` or ``onclick`` would not run even if escaping ever failed (a second line of defence;
    CSP Level 2, hash-source: https://www.w3.org/TR/CSP2/#script-src-hash-usage)."""
    assert _ENV.loader is not None
    js, _, _ = _ENV.loader.get_source(_ENV, "scan.js")
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    return markupsafe.Markup(js), markupsafe.Markup(f"'sha256-{digest}'")


@dataclass(frozen=True, slots=True)
class BinaryNode:
    """A binary in the server map: what it is, which architectures load it, and whether it fits.

    Attributes:
        binary: path as configured. arch: ``x86``/``x64``/``arm64``/``AnyCPU``/``unknown``
        (:func:`arch_class` gives the CSS class). inferred: from its folder, not its headers.
        mismatch: what the finding says of it, e.g. ``managed-assembly-arch: does not fit w3wp.exe x64`` (only
        when its architecture is known and the process's is not among them), or None.
        anchor: the id of the cause explaining it. severity: of that cause.
        stock: a file of Windows (under its folder: IIS's own modules, the .NET Framework) that loads.
    """

    binary: str
    arch: str
    inferred: bool
    mismatch: str | None
    anchor: str
    severity: Severity
    rule: str
    stock: bool = False


@dataclass(frozen=True, slots=True)
class AppNode:
    """An application (``Site/app``) of a pool with the binaries its worker loads for it."""

    label: str
    binaries: tuple[BinaryNode, ...]


@dataclass(frozen=True, slots=True)
class WorkerNode:
    """A process in the map: a pool's w3wp.exe, or inetinfo.exe / inetmgr.exe / dllhost.exe.

    ``shared`` are binaries every application of the worker loads (global modules, filters);
    ``apps`` the applications with what they load.
    """

    title: str
    pool: PoolSummary | None
    arch: str
    process: str
    shared: tuple[BinaryNode, ...]
    apps: tuple[AppNode, ...]
    errors: int
    warnings: int

    @property
    def total(self) -> int:
        """How many binaries the worker loads (as listed)."""
        return len(self.shared) + sum(len(a.binaries) for a in self.apps)

    @property
    def stock(self) -> int:
        """How many of them are Windows's own and load: listed only under "show all"."""
        return sum(b.stock for b in self.shared) + sum(b.stock for a in self.apps for b in a.binaries)


def arch_class(label: str) -> str:
    """The CSS class for an architecture label: ``arch-x86``, ``arch-anycpu``, ``arch-none`` (``none: ARM64X``)..."""
    return "arch-" + label.lower().split(":", 1)[0].replace("/", "-")


def _node(f: Finding, anchor: str) -> BinaryNode:
    """The binary a finding names, labelled with what the data says: ``does not fit`` only when its architecture
    is known and the process's is not one of them (an unknown one says so; a finding about something else, such
    as ``isapi-not-allowed`` on a DLL that fits, names its rule alone)."""
    proc = f"{f.process} {f.process_arch.value}" if f.process and f.process_arch else (f.process or "its process")
    if not f.binary_arch and f.binary_target:
        label = f"{f.rule}: loads in no process of this server"
    elif not f.binary_arch:
        label = f"{f.rule}: architecture unknown"
    elif f.process_arch is not None and f.process_arch not in f.binary_arch:
        label = f"{f.rule}: does not fit {proc}"
    else:
        label = f.rule
    # NOTE: a file read in an IIS Express worker whose bitness is assumed is evidence "inferred" too; its own
    # architecture was read (the finding's text says which part is assumed)
    return BinaryNode(binary=f.binary or "", arch=arch_label(f.binary_arch, f.binary_target), inferred=f.arch_inferred,
                      mismatch=label, anchor=anchor, severity=f.severity, rule=f.rule)


_WINDOWS = ("%windir%\\", "%systemroot%\\", WINDIR.lower() + "\\")
"""Where Windows's own files are: the resolved path (:data:`~iisbitness.image.paths.WINDIR`), else as configured."""


def _plain(e: LoadEntry) -> BinaryNode:
    """A load no finding names: its architecture, and the verdict when it is not a plain load."""
    note = None if e.verdict is Verdict.LOADS else f"{e.verdict.value}: {e.reason}"
    stock = e.verdict is Verdict.LOADS and (e.windows_path or e.configured).lower().startswith(_WINDOWS)
    return BinaryNode(binary=e.configured or e.name, arch=arch_label(e.binary_arch), inferred=e.evidence == "inferred",
                      mismatch=note, anchor="", severity=Severity.NOTE, rule=e.verdict.value, stock=stock)


def _worker(title: str, pool: PoolSummary | None, arch: Arch | None, process: str,
            findings: list[tuple[Finding, str]], loads: Sequence[LoadEntry] | None) -> WorkerNode:
    """One worker of the map: every binary it loads when the report carries the load map (``scan --loads``,
    built for HTML), marking those a finding names; otherwise the binaries its findings name."""
    shared: dict[str, BinaryNode] = {}
    apps: dict[str, dict[str, BinaryNode]] = {label: {} for label in (pool.applications if pool else ())}
    named = {(f.binary or "").lower(): (f, anchor) for f, anchor in findings if f.binary}
    for e in loads or ():
        if e.verdict is Verdict.SKIPPED:
            continue  # NOTE: never loaded by this process; the load map (scan --loads) lists them with the reason
        hit = named.get(e.configured.lower())
        node = _node(*hit) if hit is not None else _plain(e)
        key = f"{e.configured.lower()}|{node.rule}"
        if e.site and e.application is not None:  # NOTE: a site's ISAPI filter loads at worker start: shared
            apps.setdefault(f"{e.site}{e.application or ''}", {}).setdefault(key, node)
        else:
            shared.setdefault(key, node)
    for f, anchor in findings:
        if not f.binary:
            continue
        key = f"{f.binary.lower()}|{f.rule}"
        nodes = apps.setdefault(f"{f.site}{f.application or ''}", {}) if f.site and f.application is not None else shared
        if key not in nodes:  # NOTE: most are in the load map already: no node built to be thrown away (issue 25)
            nodes[key] = _node(f, anchor)
    return WorkerNode(title=title, pool=pool, arch=arch.value if arch else "unknown", process=process,
                      shared=tuple(shared.values()),
                      apps=tuple(AppNode(label, tuple(b.values())) for label, b in apps.items()),
                      errors=sum(1 for f, _ in findings if f.severity is Severity.ERROR),
                      warnings=sum(1 for f, _ in findings if f.severity is Severity.WARNING))


def workers(v: ReportView, prefix: str, shown: Mapping[int, int] | None = None) -> tuple[WorkerNode, ...]:
    """The server map: each pool's worker (report order), then processes outside pools. A binary links to its cause's
    article: ``shown`` maps a cause (1-based) to the cause whose article shows it (:class:`CauseGroup`)."""
    shown = shown or {}
    anchors = {id(f): f"{prefix}-cause-{shown.get(i, i)}" for i, c in enumerate(v.causes, 1) for f in c.findings}
    rows = {(p.name.lower(), (p.site or "").lower()) for p in v.report.pools}
    first: dict[str, tuple[str, str]] = {}
    for p in v.report.pools:
        first.setdefault(p.name.lower(), (p.name.lower(), (p.site or "").lower()))

    def row(pool: str, site: str | None) -> tuple[str, str]:
        """The row of a pool's process: IIS Express's of the project's site (one ``iisexpress.exe`` per project, two
        projects of one pool being two rows), else the pool's first."""
        key = (pool.lower(), (site or "").lower())
        return key if key in rows else first.get(key[0], key)

    by_pool: dict[tuple[str, str], list[tuple[Finding, str]]] = {}
    outside: dict[tuple[str, Arch | None], list[tuple[Finding, str]]] = {}
    for f in v.report.findings:
        if f.pool:
            by_pool.setdefault(row(f.pool, f.process_site), []).append((f, anchors[id(f)]))
        else:
            outside.setdefault((f.process or "other", f.process_arch), []).append((f, anchors[id(f)]))
    loads = v.report.loads
    pool_loads: dict[tuple[str, str], list[LoadEntry]] = {}
    for e in loads or ():
        key = row(e.pool, e.process_site) if e.pool else (f"process:{e.process}", "")
        pool_loads.setdefault(key, []).append(e)
        if not e.pool:
            outside.setdefault((e.process, e.process_arch), [])
    out = [_worker(p.name, p, p.worker_arch, p.process, by_pool.get(row(p.name, p.site), []),
                   pool_loads.get(row(p.name, p.site), []) if loads is not None else None) for p in v.report.pools]
    out.extend(_worker(proc, None, arch, proc, fs,
                       pool_loads.get((f"process:{proc}", ""), []) if loads is not None else None)
               for (proc, arch), fs in sorted(outside.items(), key=lambda kv: kv[0][0]))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Step:
    """A step of "What to do first": fixes of one label (a pool flip for each pool the cause hits is one step), and
    the causes (1-based) it is the first choice for."""

    numbers: tuple[int, ...]
    causes: tuple[int, ...]


def first_steps(v: ReportView) -> tuple[Step, ...]:
    """One step per cause, worst cause first (the order of :attr:`ReportView.causes`): the first group of its fixes
    (:meth:`ReportView.fix_groups`, in the order the rules offer them: the fixes without side effects first) that
    re-analysis verified, else its first group; a cause whose fixes include a step already listed joins it. A group
    after which requests fail (a module handler mappings name taken out: HTTP 500.21, :attr:`SideEffect.handlers`)
    is the step only when every group does so: a verified fix is not a harmless one. Nor one that takes a security
    module or filter out of a worker (:attr:`Fix.removes_security`): it is the step only when every group that keeps
    requests working does so, even where the groups that keep it are not verified or are advice (an x64 build of the
    module), as the text ranks it and as ``fix`` takes it (only by ``--fix N``)."""
    steps: list[tuple[tuple[int, ...], list[int]]] = []
    step_of: dict[int, int] = {}  # NOTE: a fix number to the first step listing it: no walk of every step (issue 25)
    for i, c in enumerate(v.causes, 1):
        joined = min((step_of[n] for n in c.fixes if n in step_of), default=None)
        if joined is not None:
            steps[joined][1].append(i)
            continue
        groups = v.fix_groups(c)
        working = [g for g in groups if not any(v.fix(n).breaks_requests for n in g[2])] or groups
        safe = [g for g in working if not any(v.fix(n).removes_security for n in g[2])] or working
        group = next((g for g in safe if g[1]), safe[0] if safe else None)
        if group is not None:
            for n in group[2]:
                step_of.setdefault(n, len(steps))
            steps.append((group[2], [i]))
    return tuple(Step(ns, tuple(cs)) for ns, cs in steps)


LONG_TEXT = 1000
"""A side effect or note longer than this (one that names every pool of a big server) shows its first words, the
rest on demand."""


@dataclass(frozen=True, slots=True)
class Run:
    """More than :data:`MANY` fixes of one kind (a pool flip for each pool) after the first, which is shown in full.

    ``first`` is the number shown in full just before. ``numbers`` are listed once on the page, at their home (the
    first place they appear: a step of "What to do first", else a cause; ``home`` when this is it), behind a closed
    ``<details id=anchor>``; elsewhere a link leads there."""

    first: int
    numbers: tuple[int, ...]
    anchor: str
    home: bool

    @property
    def span(self) -> str:
        """The numbers as a label (:func:`span`)."""
        return span(self.numbers)


_TOKEN = re.compile(r"""([^\x00\s"'`\\/:;,()\[\]{}<>=|&*?!^%$@#~+]+)""")
"""A word of a row's text (a name, a number, a file name): anything between spaces, quotes and the punctuation of
paths and commands. Rows alike differ in some words only (``Pool17`` for ``Pool18``)."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """Rows of a :class:`Rows` table that differ only in some words: per field, its text as constant pieces (``str``)
    and slots (``int``: the 0-based place of the value in the row's line, after the pattern's number)."""

    fields: tuple[tuple[str | int, ...], ...]


PLAIN_ROWS = 300
"""A table of at most this many rows (a run of fixes of one kind, the causes of a :class:`CauseGroup`) is plain HTML
rows: real text, every command ready to paste, with scripts off too; only a longer one is patterns and values
(:func:`table`). Chosen from ``benchmarks/bench_html.py --plain-rows`` (benchmarks/README.md, "plain rows without
a script"): the worst server measured whose tables are just this long (150 pools, each application with its own x86
copies: five tables of 300 causes, the fixes of each kind) gives a 2.1 MB page, its first frame in Chromium in
0.4-0.5 s, a table opening in 0.2 s, as fast as one the script builds; at 500 rows, 3.5 MB and about 1 s."""


@dataclass(frozen=True, slots=True)
class Rows:
    """A table (a run of fixes of one kind, the causes of a :class:`CauseGroup`), in one of two forms (:func:`table`).

    Plain (``plain``, at most :data:`PLAIN_ROWS` rows): each of ``patterns`` is a row, every field its text (no slot),
    shown as HTML rows; ``values`` is empty. Otherwise (issue 25) few patterns and one line of values per row:
    ``values`` holds, row by row in order, the row's pattern number, then its values, separated by spaces (a value is
    a word, :data:`_TOKEN`: never a space). The page shows the patterns (slots as ``{1}``, ``{2}``) and the lines;
    its script builds the rows from them when the table is opened (``scan.js``: each slot replaced by its value as
    text). ``count``: how many rows."""

    patterns: tuple[Pattern, ...]
    values: str
    count: int
    plain: bool = False


def table(records: Sequence[Sequence[str]]) -> Rows:
    """``records`` (each a row of field texts) as the page holds them: plain rows up to :data:`PLAIN_ROWS`, patterns
    and values (:func:`rows`) past it."""
    if len(records) > PLAIN_ROWS:
        return rows(records)
    return Rows(tuple(Pattern(tuple((text,) if text else () for text in record)) for record in records), "",
                len(records), plain=True)


def rows(records: Sequence[Sequence[str]]) -> Rows:
    """``records`` (each a row of field texts, as many fields in each) as :class:`Rows`: rows whose fields split into
    the same punctuation share a pattern; words that differ between them are slots, one value for slots that hold the
    same word in every row of the pattern; the page's script (``scan.js``) builds the records back from them."""
    # NOTE: each record split once, its fields joined by NUL (a separator): one regex call a row, not one a field
    # (100,000 rows on a 10,000-pool server); where a text holds a NUL itself, each field is split alone
    nul = any("\0" in text for record in records for text in record)
    skeletons: dict[tuple[object, ...], list[int]] = {}
    words: list[list[str]] = []
    split = _TOKEN.split
    for i, record in enumerate(records):
        if nul:
            pieces = [split(text) for text in record]
            skeletons.setdefault(tuple(tuple(p[0::2]) for p in pieces), []).append(i)
            words.append([w for p in pieces for w in p[1::2]])
        else:
            parts = split("\0".join(record))
            skeletons.setdefault(tuple(parts[0::2]), []).append(i)
            words.append(parts[1::2])
    patterns: list[Pattern] = []
    lines: list[str] = [""] * len(records)
    for number, (skeleton, members) in enumerate(skeletons.items()):
        columns = list(zip(*(words[i] for i in members), strict=True))
        slot: dict[tuple[str, ...], int] = {}
        place: list[int | None] = []
        at: list[int] = []  # NOTE: where each slot's value is in a row's words
        for k, col in enumerate(columns):
            if col.count(col[0]) == len(col):
                place.append(None)
                continue
            place.append(slot.setdefault(col, len(slot)))
            if len(at) < len(slot):
                at.append(k)
        patterns.append(_pattern(skeleton, words[members[0]], place, nul))
        head = f"{number} "
        if len(at) > 1:
            get = operator.itemgetter(*at)
            for i in members:
                lines[i] = head + " ".join(get(words[i]))
        else:
            for i in members:
                lines[i] = head + words[i][at[0]] if at else str(number)
    return Rows(tuple(patterns), "\n".join(lines), len(records))


def _pattern(skeleton: tuple[object, ...], first: list[str], place: list[int | None], nul: bool) -> Pattern:
    """The pattern of rows split into ``skeleton`` (the separators around each word: of the fields joined by NUL, or,
    where ``nul``, of each field) whose words are ``first``'s where ``place`` is None, else a slot."""
    if nul:
        fields, k = [], 0
        for seps in skeleton:
            assert isinstance(seps, tuple)
            n = len(seps) - 1
            fields.append(_pieces(list(seps), first[k:k + n], place[k:k + n]))
            k += n
        return Pattern(tuple(fields))
    out: list[tuple[str | int, ...]] = [()]
    for x in _pieces([str(sep) for sep in skeleton], first, place):
        if isinstance(x, str) and "\0" in x:
            head, *rest = x.split("\0")
            out[-1] += (head,) if head else ()
            out += [(part,) if part else () for part in rest]
        else:
            out[-1] += (x,)
    return Pattern(tuple(out))


def _pieces(seps: list[str], words: list[str], place: list[int | None]) -> tuple[str | int, ...]:
    """Separators and words (constant, or slots) interleaved, adjacent constants merged, empty ones left out."""
    merged: list[str | int] = []
    for j, sep in enumerate(seps):
        if j:
            at = place[j - 1]
            x: str | int = words[j - 1] if at is None else at
            if isinstance(x, str) and merged and isinstance(merged[-1], str):
                merged[-1] += x
            else:
                merged.append(x)
        if sep and merged and isinstance(merged[-1], str):
            merged[-1] += sep
        elif sep:
            merged.append(sep)
    return tuple(merged)


@dataclass(frozen=True, slots=True)
class WorkerGroup:
    """More than :data:`MANY` pools whose workers load the same binaries with the same findings and settings, their
    applications binaries alike (:func:`_likeness`), shown once: the first pool's card, the pools, each with its
    applications, listed on demand. The paths each application loads, and why one was not checked, are in
    ``scan --loads`` and the page's Not checked list."""

    workers: tuple[WorkerNode, ...]
    show_apps: bool
    """Whether the card lists the first pool's applications: one of them loads a binary of its own or was not
    (fully) checked (its tag says so; every pool of the group has the same)."""

    @property
    def first(self) -> WorkerNode:
        """The first pool's worker: what every worker of the group loads."""
        return self.workers[0]


def _shape(b: BinaryNode, grouped: frozenset[str] = frozenset()) -> object:
    """A binary an application loads, as pools are compared: one a finding names as it is (its cause is the same
    only for the same binary), but by its file name, not its path, when its cause is one of causes alike
    (``grouped``: their article's anchor, :class:`CauseGroup`: each site's own copy in its ``bin``); another by
    its architecture and verdict, not its path (each site's own ``bin`` assemblies, the folder of an application
    not checked)."""
    if b.anchor in grouped:
        return (b.anchor, b.binary.replace("\\", "/").rsplit("/", 1)[-1].lower(), b.arch, b.inferred, b.mismatch,
                b.rule, b.severity)
    return b if b.anchor else (b.arch, b.inferred, b.rule, b.severity, b.stock)


def _likeness(w: WorkerNode, gaps: Mapping[str, tuple[str, ...]],
              grouped: frozenset[str] = frozenset(), refused: frozenset[str] = frozenset()) -> tuple[object, ...] | None:
    """What a pool's card shows besides its own name, its applications' names and the paths of what they load
    that no finding names, or that a finding of causes alike names (:func:`_shape`), and whether IIS refuses the pool
    (its name, lower case, in ``refused``: a card of its own); None outside pools."""
    if w.pool is None:
        return None
    p = w.pool
    return (w.arch, w.process, p.idle, p.defined, p.enable_32bit_app_on_win64, p.enable_32bit_from,
            p.managed_runtime_version, p.pipeline_mode, w.errors, w.warnings, w.shared,
            tuple((tuple(_shape(b, grouped) for b in a.binaries), gaps.get(a.label, ())) for a in w.apps),
            p.name.lower() in refused)


def map_entries(workers: Sequence[WorkerNode], gaps: Mapping[str, tuple[str, ...]],
                grouped: frozenset[str] = frozenset(),
                refused: frozenset[str] = frozenset()) -> tuple[WorkerNode | WorkerGroup, ...]:
    """The server map's cards in report order: a worker alone, or a :class:`WorkerGroup` where more than
    :data:`MANY` pools look the same (at the place of its first pool). ``grouped``: the anchors of
    :class:`CauseGroup` articles (:func:`_shape`); ``refused``: the names (lower case) of pools IIS refuses, never
    grouped with pools it takes."""
    def card(group: list[WorkerNode]) -> WorkerGroup:
        return WorkerGroup(tuple(group), any(a.binaries or gaps.get(a.label) for a in group[0].apps))

    cards = past_many(workers, [_likeness(w, gaps, grouped, refused) for w in workers], card)
    return tuple(cards)


def _runs(v: ReportView, numbers: Sequence[int]) -> dict[int, tuple[int, ...]]:
    """Fixes of one kind (label and verification) among ``numbers`` past :data:`MANY`, by their first number."""
    kinds: dict[tuple[str, bool | None], list[int]] = {}
    for n in numbers:
        fix = v.fix(n)
        kinds.setdefault((fix.label, fix.verified), []).append(n)
    return {ns[0]: tuple(ns) for ns in kinds.values() if len(ns) > MANY}


def span(numbers: Sequence[int]) -> str:
    """Fix numbers as a label: ``[2]–[900]`` when they follow one another, else ``[8], [15], … [69994]`` (fixes of one
    kind across :class:`CauseGroup` causes); ``[5]`` alone."""
    if len(numbers) == 1:
        return f"[{numbers[0]}]"
    if numbers[-1] - numbers[0] == len(numbers) - 1:
        return f"[{numbers[0]}]–[{numbers[-1]}]"
    return f"[{numbers[0]}], [{numbers[1]}], … [{numbers[-1]}]" if len(numbers) > 3 else ", ".join(
        f"[{n}]" for n in numbers)


def merge_steps(v: ReportView, steps: Sequence[Step], shown: Mapping[int, int]) -> tuple[Step, ...]:
    """``steps`` with more than :data:`MANY` steps alike as one (at the first's place): steps of fixes of the same
    kinds for causes of the same :class:`CauseGroup` s (``shown``: a cause to the first of its group), such as a pool
    flip for each pool whose bin holds its own x86 copies. A step for a cause shown alone is never merged."""
    keys = [(tuple((v.fix(n).label, v.fix(n).verified) for n in s.numbers),
             tuple(sorted({shown.get(i, -i) for i in s.causes}))) for s in steps]

    def merged(group: list[Step]) -> Step:
        return Step(tuple(dict.fromkeys(n for x in group for n in x.numbers)),
                    tuple(dict.fromkeys(i for x in group for i in x.causes)))

    return tuple(past_many(steps, keys, merged))


@dataclass(frozen=True, slots=True)
class Page:
    """One report as the template reads it."""

    prefix: str
    view: ReportView
    workers: tuple[WorkerNode, ...]
    rules: tuple[str, ...]
    steps: tuple[Step, ...] = ()
    events: tuple[EventLine, ...] = ()
    homes: Mapping[tuple[int, ...], str] = field(default_factory=dict)
    """Each :class:`Run`'s numbers to the place that lists them: ``step-N`` (N: the step's first fix), ``cause-N``."""
    gap_tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Each application (``Site/app``) not checked to its coverage statuses, for the map."""
    causes: tuple[tuple[int, Cause] | CauseGroup, ...] = ()
    """The causes as listed (:func:`cause_entries`)."""
    refused_pools: Mapping[str, tuple[Problem, ...]] = field(default_factory=dict)
    """Each pool name (lower case) IIS refuses to the refused problems about it (:attr:`Problem.pool`)."""
    shown: Mapping[int, int] = field(kw_only=True)
    """Each cause of a :class:`CauseGroup` (1-based) to the first of its group, whose anchor the article has:
    :func:`group_homes` of :attr:`causes`, which :func:`_page` works out first for the steps and the map (required:
    left empty, the group anchors would be lost)."""
    groups: Mapping[int, CauseGroup] = field(init=False)
    """Each :class:`CauseGroup` of :attr:`causes` by its first cause (1-based); derived from :attr:`causes`."""
    grouped: frozenset[str] = field(init=False)
    """The anchors of :class:`CauseGroup` articles; derived from :attr:`causes`."""

    def __post_init__(self) -> None:
        groups = {e.numbers[0]: e for e in self.causes if isinstance(e, CauseGroup)}
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "grouped", frozenset(f"{self.prefix}-cause-{k}" for k in groups))

    def entries(self, numbers: Sequence[int], place: str) -> list[int | Run]:
        """``numbers`` as shown at ``place``: each fix number, except that more than :data:`MANY` fixes of one kind
        after the first are one :class:`Run` (right after the first)."""
        runs = _runs(self.view, numbers)
        members = {n for ns in runs.values() for n in ns[1:]}
        out: list[int | Run] = []
        for n in numbers:
            if n in members:
                continue
            out.append(n)
            if n in runs:
                rest = runs[n][1:]
                home = self.homes.get(rest, place)
                out.append(Run(n, rest, f"{self.prefix}-{home}-fixes-{rest[0]}", home == place))
        return out

    def unchecked(self, w: WorkerNode) -> int:
        """How many of ``w``'s applications were not (fully) checked: its card says "no findings in what was read"
        for them, never a plain "no findings" (its applications' tags say what was not read)."""
        return sum(1 for a in w.apps if self.gap_tags.get(a.label))

    def refusals(self, w: WorkerNode) -> tuple[Problem, ...]:
        """The problems IIS refuses ``w``'s pool for (a name its ``applicationPoolName`` validator refuses): its card
        says so, never a plain "no findings"; () for a pool IIS takes and outside pools."""
        return self.refused_pools.get(w.pool.name.lower(), ()) if w.pool is not None else ()

    def server_fails(self, w: WorkerNode) -> bool:
        """check-app --server: ``w``'s pool already fails by the server's own findings
        (:meth:`Report.server_failing`: not a could-not-check warning): its card says so, never a plain "no findings"."""
        name = w.pool.name.lower() if w.pool is not None else None
        return any((f.pool or "").lower() == name for f in self.view.report.server_failing())

    def map(self) -> tuple[WorkerNode | WorkerGroup, ...]:
        """The server map's cards (:func:`map_entries`)."""
        return map_entries(self.workers, self.gap_tags, self.grouped, frozenset(self.refused_pools))

    def apps(self, w: WorkerNode, all_binaries: bool) -> list[tuple[AppNode, tuple[str, ...]]]:
        """``w``'s applications as its card lists them: each with the labels of the others alike it stands for (none
        but past :data:`MANY` applications that load a binary of causes alike, :class:`CauseGroup`, and binaries
        alike otherwise, :func:`_shape`, with the same coverage tags: ``inetmgr.exe`` reads every site's ``bin``), at
        the place of the first. Applications without such a binary are listed each with its own."""
        grouped = self.grouped
        keys = [(tuple(_shape(b, grouped) for b in a.binaries if all_binaries or not b.stock),
                 self.gap_tags.get(a.label, ())) if any(b.anchor in grouped for b in a.binaries) else None
                for a in w.apps]

        def row(group: list[tuple[AppNode, tuple[str, ...]]]) -> tuple[AppNode, tuple[str, ...]]:
            return group[0][0], tuple(x.label for x, _ in group[1:])

        return past_many([(a, ()) for a in w.apps], keys, row)

    def targets(self, causes: Sequence[int]) -> list[tuple[int, Cause | CauseGroup]]:
        """The articles a step links to for ``causes``: each cause, or its :class:`CauseGroup` once."""
        out: dict[int, Cause | CauseGroup] = {}
        for i in causes:
            home = self.shown.get(i, i)
            out.setdefault(home, self.groups[home] if home in self.groups else self.view.causes[i - 1])
        return list(out.items())

    def run_rows(self, run: Run) -> Rows:
        """The fixes of ``run`` as :class:`Rows` (:func:`table`): number, summary, what it takes out, security warning,
        side effects, note (where not that of the run's first fix), cmd.exe and PowerShell commands."""
        note = self.view.fix(run.first).note
        records = []
        for n in run.numbers:
            fix = self.view.fix(n)
            records.append((str(n), fix.summary, removal(fix), security_warning(fix), "\n".join(effect_lines(fix)),
                            fix.note if fix.note and fix.note != note else "", "\n".join(fix.commands),
                            "\n".join(fix.powershell)))
        return table(records)

    def members(self, group: CauseGroup) -> Rows:
        """The causes of ``group`` as :class:`Rows` (:func:`table`): pools, applications, binary (configured and
        resolved), configuration entry, chain, symptoms, causes, fix numbers, fixes ruled out."""
        records = []
        for c in group.causes:
            f = c.first
            where = ", ".join(c.pools) or ", ".join(f"{p} {a.value}" if a else p for p, a in c.processes)
            binary = f"{f.binary} → {f.resolved}" if f.binary and f.resolved else f.binary or ""
            config = (f"{c.config.file}:{c.config.line}" if c.config.line else c.config.file) if c.config else ""
            config = "" if config == f.resolved else config  # NOTE: a bin file is its own configuration entry
            records.append((where, ", ".join(c.places), binary, config, " → ".join(f.chain), "\n".join(c.symptoms),
                            "\n".join(c.causes), " ".join(f"[{n}]" for n in c.fixes),
                            "\n".join(f"{r.summary} — {r.reason}" for r in c.rejected)))
        return table(records)

    @property
    def report(self) -> Report:
        """The report shown."""
        return self.view.report

    @property
    def name(self) -> str:
        """A short name for the server: the image folder's name (``live`` for a live scan)."""
        return self.report.server.image.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or self.report.server.image

    def anchor(self, index: int) -> str:
        """The id of the article showing cause ``index`` (1-based): its own, or its :class:`CauseGroup`'s."""
        return f"{self.prefix}-cause-{self.shown.get(index, index)}"


def group_homes(causes: Sequence[tuple[int, Cause] | CauseGroup]) -> dict[int, int]:
    """Each cause of a :class:`CauseGroup` among ``causes`` (:func:`cause_entries`; 1-based) to the first cause of its
    group, whose article shows it; a cause listed alone is not in it."""
    return {k: e.numbers[0] for e in causes if isinstance(e, CauseGroup) for k in e.numbers}


def _page(i: int, report: Report) -> Page:
    v = view(report)
    prefix = f"s{i}"
    causes = cause_entries(v)
    shown = group_homes(causes)
    steps = merge_steps(v, first_steps(v), shown)
    homes: dict[tuple[int, ...], str] = {}
    places = [(f"step-{s.numbers[0]}", s.numbers) for s in steps]
    places += [(f"cause-{e.numbers[0]}", e.fixes) if isinstance(e, CauseGroup) else (f"cause-{e[0]}", e[1].fixes)
               for e in causes]
    for place, numbers in places:  # NOTE: page order: the steps, then the causes
        for ns in _runs(v, numbers).values():
            homes.setdefault(ns[1:], place)
    gap_tags: dict[str, list[str]] = {}
    for g in report.unchecked():
        gap_tags.setdefault(g.application, []).append(g.status.value.replace("-", " "))
    refused: dict[str, list[Problem]] = {}
    for pr in report.refusals():
        if pr.pool is not None:
            refused.setdefault(pr.pool.lower(), []).append(pr)
    return Page(prefix, v, workers(v, prefix, shown), tuple(sorted({c.first.rule for c in v.causes})), steps,
                event_lines(report), homes, {a: tuple(t) for a, t in gap_tags.items()}, causes,
                {k: tuple(ps) for k, ps in refused.items()}, shown=shown)


def render(reports: Sequence[Report]) -> str:
    """One HTML page for one or more reports (``demo`` scans two servers)."""
    pages = [_page(i, r) for i, r in enumerate(reports, 1)]
    template = _ENV.get_template("scan.html.j2")
    script, script_source = _script()
    return template.render(pages=pages, version=__version__, Severity=Severity, arch_class=arch_class,
                           arch_label=arch_label, causes_of=_causes_of,
                           security_warning=security_warning, effect_lines=effect_lines, script=script,
                           script_source=script_source, many=MANY, long_text=LONG_TEXT, fix_count=fix_count,
                           hidden_warnings=hidden_warnings, span=span, file_name=file_name,
                           inferred_note=inferred_note, verification=verification, closing_words=closing_words,
                           shared_config_words=shared_config_words)


def fix_count(entries: Sequence[int | Run]) -> int:
    """How many fixes ``entries`` hold (a :class:`Run` counts each of its fixes)."""
    return sum(len(e.numbers) if isinstance(e, Run) else 1 for e in entries)


def hidden_warnings(v: ReportView, entries: Sequence[int | Run]) -> list[tuple[str, str]]:
    """The security warnings of fixes behind "N more fixes", shown above it: ``("[5]", text)``, and each distinct
    text of a run once (``("[2]–[900]", text)``)."""
    out: list[tuple[str, str]] = []
    for e in entries:
        numbers = e.numbers if isinstance(e, Run) else (e,)
        label = e.span if isinstance(e, Run) else f"[{e}]"
        out += [(label, text) for text in dict.fromkeys(security_warning(v.fix(n)) for n in numbers) if text]
    return out


def _causes_of(page: Page) -> Sequence[tuple[int, Cause] | CauseGroup]:
    return page.causes
