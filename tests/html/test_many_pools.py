"""The HTML report of a shared-hosting server (issue 25): pools grouped by cause, lists on demand.

A real-format applicationHost.config with N 64-bit pools, two applications each, and two global modules whose
images are the real x86 fixture ``module_x86.dll`` (N x 2 findings, two causes, a pool flip per pool): the page
shows each cause once with a count of its pools, their names in a closed ``<details>``; the flips after the first
are listed once on the page (not once per cause and step); identical workers are one card. The page grows with
its distinct fixes, not pools x findings. Without JavaScript every fix and command is still in the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from markupsafe import escape

from iisbitness.api import ScanOptions, scan
from iisbitness.formats import scan_html, scan_text
from iisbitness.formats.causes import view
from iisbitness.formats.table import printable
from iisbitness.report import Report
from tests.conftest import apphost, make_image, site
from tests.html.cdp import Browser
from tests.html.rows import expand

MODULES = 2
RLO = "\u202e"
ODD = f"Pool{RLO}txt.exe"
"""One pool's name carries a right-to-left override: shown escaped in the grouped lists too."""


def _shown(text: str) -> str:
    """``text`` as the page shows it: control characters and overrides escaped, then HTML-escaped."""
    return str(escape(printable(text)))


def _name(i: int) -> str:
    return ODD if i == 3 else f"Pool{i}"


def pools_and_sites(names: list[str]) -> tuple[str, str]:
    """``(<applicationPools> items, <sites> items)``: a 64-bit pool per name, each with a site ``Site{i}`` whose root
    and ``/app1`` run in it (folders ``C:\\inetpub\\site{i}`` and its ``app1``); names XML-escaped."""
    pool_xml = "\n".join(f'<add name="{escape(n)}" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="false" />'
                         for n in names)
    app = ('<application path="/app1" applicationPool="{pool}"><virtualDirectory path="/" '
           'physicalPath="C:\\inetpub\\site{i}\\app1" /></application>')
    sites = "\n".join(site(f"Site{i}", i + 1, str(escape(n)), f"C:\\inetpub\\site{i}",
                           app.format(pool=escape(n), i=i)) for i, n in enumerate(names))
    return pool_xml, sites


def _report(root: Path, pools: int, folders: bool = True, name: Callable[[int], str] = _name) -> Report:
    names = [name(i) for i in range(pools)]
    pool_xml, sites = pools_and_sites(names)
    # NOTE: authentication modules: a preCondition would serve the sites without them, so it ranks after the flips
    # (verify._order), which stay the first step; a module that is not one never ran in these 64-bit workers, and its
    # preCondition would rank first (ran False takes nothing from the sites)
    modules = "\n".join(f'<add name="VendorAuth{k}" image="C:\\Vendor\\module{k}_x86.dll" />'
                        for k in range(MODULES))
    files: dict[str, str | Path | bytes] = {f"Vendor/module{k}_x86.dll": "module_x86.dll" for k in range(MODULES)}
    if folders:
        files.update({f"inetpub/site{i}/app1/default.htm": "<p>site</p>" for i in range(pools)})
    make_image(root, apphost(pool_xml, sites, f"<globalModules>{modules}</globalModules>"), files)
    return scan(root, ScanOptions(load_map=True))  # NOTE: as scan --format html does


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Report]:
    return {n: _report(tmp_path_factory.mktemp(f"pools{n}"), n) for n in (40, 80)}


def test_each_cause_once_with_its_pools_on_demand(reports: dict[int, Report]) -> None:
    report = reports[80]
    v = view(report)
    assert len(v.causes) == MODULES and len(report.findings) == 80 * MODULES
    html = scan_html.render([report])
    assert html.count('class="cause cause-') == MODULES
    # the pools of a cause: a count, the names in a closed <details>, not 80 names in a row
    assert html.count('<strong class="pool-count">80 pools</strong>') == MODULES
    names = re.findall(r'<details class="pool-list"><summary>show the 80 pools</summary><p class="names">([^<]*)</p>',
                       html)
    assert len(names) == MODULES and all(n.startswith("Pool0, Pool1, Pool10, ") for n in names)
    assert "<strong>Pool17</strong>" not in html
    # one card for the 80 workers that look the same, its pools on demand
    assert html.count('<article class="worker') == 1 and 'data-pools="80"' in html
    assert "<li>Pool17: Site17/, Site17/app1</li>" in html
    # names stay escaped in the grouped lists
    assert RLO not in html and "Pool\\u202etxt.exe" in html


def test_pools_alike_whose_applications_were_not_checked_say_so(tmp_path: Path) -> None:
    """The coverage banner names every application not checked (each its own folder), and the one card of the
    pools alike tags them too."""
    report = _report(tmp_path, 12, folders=False)
    assert len(report.unchecked()) == 24
    html = scan_html.render([report])
    assert 'data-pools="12"' in html and "Not checked</h3>" in html
    card = html[html.index('data-pools="12"'):html.index("</article>", html.index('data-pools="12"'))]
    assert "As in Pool0: the applications of each pool here load binaries alike" in card
    assert card.count('<span class="sev sev-warning gap-tag">not checked</span>') == 2  # Site0/ and Site0/app1


@pytest.mark.parametrize("plain_rows", [scan_html.PLAIN_ROWS, 0])
def test_every_fix_and_command_is_on_the_page_once(reports: dict[int, Report], plain_rows: int,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fix's number, summary and commands are on the page: in full, or (the 79 pool flips after the first, one
    per pool, offered by both causes and the first step) once, as a row of a table of fixes of one kind: a plain
    row (79 rows: at most :data:`scan_html.PLAIN_ROWS`), or past it (forced to 0 here) its pattern and each fix's
    values in the HTML, built by the script when opened (:func:`tests.html.rows.expand` builds them as it does;
    tests/html/test_causes_alike.py checks the script's rows against the fixes)."""
    monkeypatch.setattr(scan_html, "PLAIN_ROWS", plain_rows)
    report = reports[80]
    v = view(report)
    html = scan_html.render([report])
    page = scan_html._page(1, report)
    run = next(e for e in page.entries(page.steps[0].numbers, "step-1") if isinstance(e, scan_html.Run))
    built = {int(row[0]): row for row in expand(page.run_rows(run))}
    for numbered in v.fixes:
        fix = numbered.fix
        if numbered.number in built:
            row = built[numbered.number]
            assert (row[1], row[6].split("\n"), row[7].split("\n")) == (fix.summary, list(fix.commands),
                                                                          list(fix.powershell))
            continue
        assert f'<span class="fixno">[{numbered.number}]</span> {_shown(fix.summary)}' in html, numbered.number
        for command in (*fix.commands, *fix.powershell):
            assert _shown(command) in html, command
    flips = [n.number for n in v.fixes if n.fix.label == "run the pool as 32-bit"]
    assert len(flips) == 80 and sorted(built) == flips[1:]
    assert html.count('<details class="run" id="s1-step-1-fixes-2">') == 1
    assert html.count('<a href="#s1-step-1-fixes-2">listed above</a>') == MODULES  # each cause links to the list
    if plain_rows:  # the flip of Pool17: its commands in a plain row, once
        fix = next(n.fix for n in v.fixes if n.fix.summary.startswith("Run application pool 'Pool17' "))
        assert html.count("<code>" + "\n".join(_shown(c) for c in fix.commands) + "</code>") == 1
        assert '<pre class="values">' not in html and 'data-rows="79"' in html
    else:  # its number, pool and site, once
        assert html.count("\n0 10 Pool17 Site17\n") == 1
    assert html.count('<li value="1" class="fix">') == 1 + MODULES  # the first flip: in the step and each cause


def test_the_page_grows_with_distinct_fixes_not_pools_times_findings(reports: dict[int, Report]) -> None:
    """40 more pools add 40 pool flips and 40 names to each cause's lists: under 1 KB a pool here (about 780 bytes;
    the page before grouping added about 5 KB a pool), within three times what they add to the text report (about
    390 bytes a pool: the same fixes and commands, without markup)."""
    size = {n: len(scan_html.render([r]).encode()) for n, r in reports.items()}
    text = {n: len(scan_text.render(r).encode()) for n, r in reports.items()}
    per_pool = (size[80] - size[40]) / 40
    assert per_pool < 1000, per_pool
    assert size[80] - size[40] < 3 * (text[80] - text[40]), (size, text)



OPEN = """(async () => {
  const seen = e => e.checkVisibility();
  const group = document.querySelector('article.cause details.pool-list');
  const names = group.querySelector('.names');
  const before = seen(names);
  group.querySelector('summary').click();
  const run = document.querySelector('details.run');
  const rowBefore = run.querySelectorAll('tbody.plain tr').length;
  const buttonsBefore = run.querySelectorAll('button.copy').length;
  const rowSeenBefore = seen(run.querySelector('tbody.plain tr'));
  run.querySelector('summary').click();
  const card = document.querySelector('article.worker details.pool-list');
  card.querySelector('summary').click();
  await new Promise(r => setTimeout(r, 100));  // NOTE: 'toggle' is fired in a task of its own
  const row = run.querySelector('tbody.plain tr:nth-child(16)');
  return {before, after: seen(names), text: names.textContent, rowBefore, row: seen(row) ? row.textContent : null,
          buttonsBefore, rowSeenBefore,
          buttons: run.querySelectorAll('button.copy').length,
          pools: [...card.querySelectorAll('li')].filter(seen).map(li => li.textContent)};
})()"""


def test_opening_a_group_shows_its_pools(browser: Browser, reports: dict[int, Report], tmp_path: Path) -> None:
    page = tmp_path / "pools.html"
    page.write_text(scan_html.render([reports[80]]), encoding="utf-8")
    browser.open(page.as_uri(), width=1366, height=768)
    # the first screen still shows the summary and the first fix with its commands
    first = browser.evaluate("""(() => ({summary: document.querySelector('dl.summary').getBoundingClientRect().bottom,
      commands: document.querySelector('.steps > li.fix .cmd').getBoundingClientRect().bottom}))()""")
    assert first["summary"] <= 768 and first["commands"] <= 768, first
    got = browser.evaluate(OPEN)
    assert got["before"] is False and got["after"] is True  # closed until opened
    assert "Pool17" in got["text"] and "Pool\\u202etxt.exe" in got["text"] and got["text"].count(", ") == 79
    # 79 rows: plain rows, in the page (not laid out) before the run is opened, with their copy buttons
    assert got["rowBefore"] == 79 and not got["rowSeenBefore"]
    assert got["row"] is not None and "Run application pool 'Pool" in got["row"]
    assert got["buttonsBefore"] == got["buttons"] == 2 * 79
    assert len(got["pools"]) == 80 and "Pool17: Site17/, Site17/app1" in got["pools"]
    assert browser.errors() == []
    # a phone's width, every list open: the long commands and tables scroll inside their block
    browser.open(page.as_uri(), width=390, height=844)
    browser.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    assert browser.evaluate("document.documentElement.scrollWidth") <= 390
