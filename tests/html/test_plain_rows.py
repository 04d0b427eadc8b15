"""Tables of at most ``PLAIN_ROWS`` rows are plain HTML rows (issue 25, third round: plain rows without a script).

Without JavaScript (a mail preview, a locked-down browser, a saved page opened with scripts off) nothing is missing
and every command pastes as it is, unless a table has more than :data:`scan_html.PLAIN_ROWS` rows: there the
patterns and values are shown (tests/html/test_causes_alike.py). Two real scans: the shared-hosting server of
tests/html/test_many_pools.py (two x86 global modules every pool loads: a pool flip per pool) with N + 1 and N + 2
pools, so that the flips after the first are a table of N rows and of N + 1; and the server of
tests/html/test_causes_alike.py (each site's own x86 copies in its ``bin``) with 20 pools: groups of 40 causes, plain.
Pools are named with a right-to-left override, ``<script>``, ``&`` and both quotes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from markupsafe import escape

from iisbitness.formats import scan_html
from iisbitness.formats.causes import view
from iisbitness.formats.table import printable
from iisbitness.report import Report
from tests.html import test_causes_alike, test_many_pools
from tests.html.cdp import Browser
from tests.html.rows import expand

N = scan_html.PLAIN_ROWS
RLO = "\u202e"
EVIL = "Pool<script>alert('x')</script>"
HOSTILE = {3: f"Pool{RLO}txt.exe", 4: EVIL, 5: 'Shop & "Co" 5', 6: "it's"}


def _name(i: int) -> str:
    return HOSTILE.get(i, f"Pool{i}")


def _shown(text: str) -> str:
    """``text`` as the page holds it: each line with control characters and overrides escaped, then HTML-escaped."""
    return "\n".join(str(escape(printable(line))) for line in text.split("\n"))


@pytest.fixture(scope="module")
def flips(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Report]:
    """The pool-flip server by the number of rows of its table of flips after the first: N and N + 1."""
    return {rows: test_many_pools._report(tmp_path_factory.mktemp(f"flips{rows}"), rows + 1, name=_name)
            for rows in (N, N + 1)}


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return test_causes_alike._report(tmp_path_factory.mktemp("copies"), 20, name=_name)


def _run(report: Report) -> tuple[scan_html.Page, scan_html.Run]:
    page = scan_html._page(1, report)
    run = next(e for e in page.entries(page.steps[0].numbers, f"step-{page.steps[0].numbers[0]}")
               if isinstance(e, scan_html.Run))
    return page, run


def test_n_rows_are_plain_and_n_plus_one_are_patterns(flips: dict[int, Report]) -> None:
    """At N rows every fix of the run is a plain row: its number, summary and commands as text, nothing for a script
    to build; at N + 1 the table is patterns and values (a line per row)."""
    report = flips[N]
    page, run = _run(report)
    assert len(run.numbers) == N
    html = scan_html.render([report])
    assert html.count(f'<div class="rows-plain run-wrap" data-rows="{N}">') == 1
    body = html[:html.index("<script>")]  # NOTE: the script's own text names what it builds
    assert 'class="rows-box' not in body and '<pre class="values">' not in body and "<var>" not in body
    v = view(report)
    for n in run.numbers:
        fix = v.fix(n)
        assert f'<span class="fixno">[{n}]</span> {_shown(fix.summary)}' in html, n
        assert html.count(f'<td class="cmd"><code>{_shown(chr(10).join(fix.commands))}</code></td>') == 1, n
        assert html.count(f'<td class="cmd ps1"><code>{_shown(chr(10).join(fix.powershell))}</code></td>') == 1, n
    assert not page.run_rows(run).values and expand(page.run_rows(run))[0][0] == str(run.numbers[0])

    longer = flips[N + 1]
    html = scan_html.render([longer])
    page, run = _run(longer)
    assert len(run.numbers) == N + 1
    assert html.count(f'<div class="rows-box run-wrap" data-rows="{N + 1}">') == 1
    assert '<tbody class="plain">' not in html and 'class="rows-plain' not in html
    table = page.run_rows(run)
    assert html.count('<pre class="values">') == 1 and len(table.values.split("\n")) == N + 1
    assert [int(row[0]) for row in expand(table)] == list(run.numbers)


def test_hostile_names_in_plain_rows_are_text(flips: dict[int, Report], copies: Report) -> None:
    """Pool names with a right-to-left override, ``<script>``, ``&`` and quotes, in plain rows of fixes and of
    causes alike: escaped as everywhere on the page (the override as ``\\u202e``), the page's own script the only
    one."""
    for report in (flips[N], copies):
        html = scan_html.render([report])
        assert html.count("<script") == 1 and RLO not in html and "alert('x')" not in html
        rows = html.split('<tbody class="plain">', 1)[1]
        assert "Pool&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in rows
        assert "Pool\\u202etxt.exe" in rows and "Shop &amp; &#34;Co&#34; 5" in rows and "it&#39;s" in rows
    html = scan_html.render([copies])
    members = [box.split("</details>", 1)[0] for box in html.split('<details class="members">')[1:]]
    assert len(members) == test_causes_alike.KINDS and all('data-rows="40"' in box for box in members)
    hit = [box for box in members if "<tr><td>Pool&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;<br>" in box]
    assert len(hit) == 3  # the three kinds of w3wp.exe causes; inetmgr.exe's two name the applications
    assert all(box.count("<br><small>Site4/</small>") == 1 for box in members)


SCRIPTS_OFF = """(() => {
  const d = document.querySelector('details.run');
  d.open = true;
  const sel = window.getSelection();
  const pasted = code => { sel.selectAllChildren(code); const t = sel.toString(); sel.removeAllRanges(); return t; };
  return {rows: [...d.querySelectorAll('tbody.plain tr')].map(tr => [tr.checkVisibility(),
            tr.querySelector('.fixno').textContent, ...[...tr.querySelectorAll('td.cmd code')].map(pasted),
            tr.cells[0].textContent]),
          hidden: [...d.querySelectorAll('pre.values, .rows-hint, var, tbody.built')].length,
          scripts: document.scripts.length, js: document.documentElement.classList.contains('js')};
})()"""


def test_without_javascript_every_command_pastes_as_it_is(browser: Browser, flips: dict[int, Report],
                                                          tmp_path: Path) -> None:
    """Scripts off, the run of N fixes opened: N rows shown, each command block selected and copied gives the fix's
    commands as they are (the override shown escaped, as everywhere: ``\\u202e``); hostile names are text. At N + 1
    the patterns and values are shown instead."""
    report = flips[N]
    v = view(report)
    path = tmp_path / "plain.html"
    path.write_text(scan_html.render([report]), encoding="utf-8")
    longer = tmp_path / "patterns.html"
    longer.write_text(scan_html.render([flips[N + 1]]), encoding="utf-8")
    browser.call("Emulation.setScriptExecutionDisabled", {"value": True}, session=True)
    try:
        browser.open(path.as_uri(), width=1366, height=768)
        got = browser.evaluate(SCRIPTS_OFF)
        browser.open(longer.as_uri(), width=1366, height=768)
        patterns = browser.evaluate("""(() => { const d = document.querySelector('details.run'); d.open = true;
          const shown = [...d.querySelectorAll('pre.values, tbody.patterns, .rows-hint')];
          return shown.map(e => e.checkVisibility()); })()""")
    finally:
        browser.call("Emulation.setScriptExecutionDisabled", {"value": False}, session=True)
    assert got["scripts"] == 1 and not got["js"] and got["hidden"] == 0
    assert len(got["rows"]) == N and all(row[0] for row in got["rows"])
    for _, number, cmd, ps, _text in got["rows"]:
        fix = v.fix(int(number.strip("[]")))
        assert cmd == "\n".join(map(printable, fix.commands)) and ps == "\n".join(map(printable, fix.powershell))
    texts = {row[4] for row in got["rows"]}
    assert any(EVIL in t for t in texts) and any("Pool\\u202etxt.exe" in t for t in texts)
    assert any("'Shop & \"Co\" 5'" in t for t in texts)
    assert patterns == [True, True, True]
    assert browser.errors() == []


SCRIPTS_ON = """(async () => {
  const d = document.querySelector('details.run');
  const buttons = d.querySelectorAll('button.copy').length;
  d.querySelector('summary').click();
  await new Promise(r => setTimeout(r, 100));
  const row = [...d.querySelectorAll('tbody.plain tr')].find(tr => tr.textContent.includes('alert('));
  let copied = null;
  if (navigator.clipboard) { navigator.clipboard.writeText = t => { copied = t; return Promise.resolve(); }; }
  const button = row.querySelector('td.cmd button.copy');
  button.click();
  await new Promise(r => setTimeout(r, 50));
  if (copied === null) { copied = window.getSelection().toString(); }
  return {buttons, rows: d.querySelectorAll('tbody.plain tr').length, copied, label: button.textContent,
          expected: row.querySelector('td.cmd code').textContent,
          built: d.querySelectorAll('tbody.built').length};
})()"""

FILTER = """(async () => {
  const count = () => document.getElementById('filter-count').textContent;
  const before = count();
  const rule = document.querySelector('#filters select[name=rule]');
  rule.value = 'native-library-arch';
  rule.dispatchEvent(new Event('change', {bubbles: true}));
  const ruled = count();
  rule.value = '';
  rule.dispatchEvent(new Event('change', {bubbles: true}));
  const members = document.querySelector('details.members');
  members.querySelector('summary').click();
  await new Promise(r => setTimeout(r, 100));
  const rows = [...members.querySelectorAll('tbody.plain tr')].filter(tr => tr.checkVisibility()).length;
  return {before, ruled, rows,
          boxes: [...document.querySelectorAll('.rows-plain')].map(b => [b.querySelectorAll('tbody.plain tr').length,
            Number(b.getAttribute('data-rows')), b.querySelectorAll('td.cmd').length,
            b.querySelectorAll('button.copy').length])};
})()"""


def test_copy_buttons_and_filter_counts_work_on_plain_rows(browser: Browser, flips: dict[int, Report],
                                                           copies: Report, tmp_path: Path) -> None:
    """With the script: every plain row's command block has its copy button from the start (nothing to build), and
    one copies that row's commands; the filter counts every cause of groups whose rows are plain."""
    path = tmp_path / "plain.html"
    path.write_text(scan_html.render([flips[N]]), encoding="utf-8")
    browser.open(path.as_uri(), width=1366, height=768)
    got = browser.evaluate(SCRIPTS_ON)
    assert got["buttons"] == 2 * N and got["rows"] == N and got["built"] == 0
    assert EVIL in got["expected"] and got["copied"] == got["expected"], got
    assert got["label"] in ("Copied", "Selected: press Ctrl+C")
    assert browser.errors() == []

    v = view(copies)
    path = tmp_path / "copies.html"
    path.write_text(scan_html.render([copies]), encoding="utf-8")
    browser.open(path.as_uri(), width=1366, height=768)
    got = browser.evaluate(FILTER)
    native = sum(1 for c in v.causes if c.first.rule == "native-library-arch")
    assert native == 40 and got["before"] == f"{len(v.causes)} of {len(v.causes)} causes shown"
    assert got["ruled"] == f"{native} of {len(v.causes)} causes shown"
    assert got["rows"] == 40
    assert got["boxes"] and all(rows == data and buttons == cmds for rows, data, cmds, buttons in got["boxes"])
    assert browser.errors() == []
