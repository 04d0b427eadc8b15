"""The HTML report of a server where every site ships its own 32-bit copies (issue 25, third round).

A real-format applicationHost.config with N 64-bit pools, a site each with two applications, and in each
application's ``bin`` the real fixtures ``ManagedApp.dll`` (AnyCPU), the x86-only ``managed_x86.dll`` it references
and, as ``nativelib.dll``, the x86 native DLL it P/Invokes (``nativelib_x86.dll``): every copy is a cause of its own
(10 findings and 7 fixes a pool, as ``benchmarks/bench_pools.py --shape bin``). The page shows each kind of cause
once ("40 causes alike"), every cause a row of a table (plain rows; past PLAIN_ROWS built when opened), the fixes of
one kind once, one step
for the pool flips, one map card for the pools and one application row for inetmgr.exe's applications alike.
One pool's name carries a right-to-left override and one an ampersand and spaces: escaped as today.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from markupsafe import escape

from iisbitness.api import ScanOptions, scan
from iisbitness.formats import scan_html, scan_text
from iisbitness.formats.causes import view
from iisbitness.formats.table import printable
from iisbitness.report import Report
from tests.conftest import apphost, corpus_dir, make_image
from tests.html.cdp import Browser
from tests.html.rows import expand
from tests.html.test_many_pools import pools_and_sites

RLO = "\u202e"
ODD = f"Pool{RLO}txt.exe"
AMP = "Shop & Co 5"
BIN = {"ManagedApp.dll": "ManagedApp.dll", "managed_x86.dll": "managed_x86.dll", "nativelib.dll": "nativelib_x86.dll"}
KINDS = 5
"""managed-assembly-arch of managed_x86.dll and of ManagedApp.dll (w3wp.exe), native-library-arch of nativelib.dll,
iis-manager-32bit-assembly of managed_x86.dll and of ManagedApp.dll (inetmgr.exe)."""


def _name(i: int) -> str:
    return {3: ODD, 5: AMP}.get(i, f"Pool{i}")


def _report(root: Path, pools: int, name: Callable[[int], str] = _name) -> Report:
    names = [name(i) for i in range(pools)]
    pool_xml, sites = pools_and_sites(names)
    files: dict[str, str | Path | bytes] = {f"inetpub/site{i}/{folder}bin/{name}": fixture
                                            for i in range(pools) for folder in ("", "app1/")
                                            for name, fixture in BIN.items()}
    make_image(root, apphost(pool_xml, sites), files)
    return scan(root, ScanOptions(load_map=True))  # NOTE: as scan --format html does


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Report]:
    return {n: _report(tmp_path_factory.mktemp(f"bin{n}"), n) for n in (20, 40)}


def _groups(page: scan_html.Page) -> list[scan_html.CauseGroup]:
    return [e for e in page.causes if isinstance(e, scan_html.CauseGroup)]


def test_each_kind_of_cause_once_with_its_count(reports: dict[int, Report]) -> None:
    report = reports[40]
    v = view(report)
    assert len(report.findings) == 40 * 10 and len(v.causes) == 40 * 10  # every copy its own cause
    html = scan_html.render([report])
    assert html.count('<article class="cause ') == KINDS
    assert html.count('data-causes="80"') == KINDS and html.count("80 causes alike (80 findings)") == KINDS
    assert "managed_x86.dll in 80 applications, 40 pools" in html
    assert "<strong class=\"pool-count\">" not in html.split("Findings by cause")[1]  # no names list per group
    # one step for the 40 pool flips (the first in full, the others a list of one kind), one for IIS Manager
    page = scan_html._page(1, report)
    assert len(page.steps) == 2 and len(page.steps[0].numbers) == 40
    assert html.count('<li value="1" class="fix">') == 1 + 3  # the first flip: in the step and each w3wp.exe kind
    assert 'details class="run" id="s1-step-1-fixes-' in html
    # the map: one card for the 39 pools alike, one of its own for 'Shop & Co 5' (IIS refuses '&' in a pool name: its
    # card says so: the pool and its 2 applications), inetmgr.exe's 80 applications as one row with the others' names
    assert html.count('<article class="worker') == 3 and 'data-pools="39"' in html
    assert html.count('<p class="wrefused">') == 3 and 'data-pool="Shop &amp; Co 5"' in html
    assert html.count("and 79 more applications whose binaries are alike") == 1
    # names stay escaped
    assert RLO not in html and "Pool\\u202etxt.exe" in html and "Shop &amp; Co 5" in html


@pytest.mark.parametrize("plain_rows", [scan_html.PLAIN_ROWS, 0])
def test_every_cause_and_fix_is_reachable(reports: dict[int, Report], plain_rows: int,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Each cause is a row of its group's table (pools, application, binary, configuration, symptom, cause, fix
    numbers), each fix either in full or a row of a list of one kind: plain rows (40 causes, 19 fixes of a kind: at
    most :data:`scan_html.PLAIN_ROWS`), or, past it (forced to 0 here), the rows the script builds from the page's
    patterns and values (:func:`tests.html.rows.expand`, checked against the script in Chromium below)."""
    monkeypatch.setattr(scan_html, "PLAIN_ROWS", plain_rows)
    report = reports[20]
    v = view(report)
    page = scan_html._page(1, report)
    rows = {}
    for g in _groups(page):
        built = expand(page.members(g))
        assert len(built) == len(g.causes)
        for c, row in zip(g.causes, built, strict=True):
            f = c.first
            assert row[0] == (", ".join(c.pools) or "inetmgr.exe x64") and row[1] == ", ".join(c.places)
            assert row[2] == f"{f.binary} → {f.resolved}" and row[3] == ""  # a bin file is its configuration entry
            assert (row[5], row[6]) == ("\n".join(c.symptoms), "\n".join(c.causes))
            assert row[7] == " ".join(f"[{n}]" for n in c.fixes)
            rows[id(c)] = row
    assert len(rows) == len(v.causes)
    shown = {n for e in page.causes for n in (e.fixes if isinstance(e, scan_html.CauseGroup) else e[1].fixes)}
    assert shown == set(range(1, len(v.fixes) + 1))
    html = scan_html.render([report])
    listed: set[int] = set()
    for e in page.causes:
        assert isinstance(e, scan_html.CauseGroup)
        for entry in page.entries(e.fixes, f"cause-{e.numbers[0]}"):
            if isinstance(entry, scan_html.Run):
                for row in expand(page.run_rows(entry)):
                    fix = v.fix(int(row[0]))
                    assert (row[1], row[6], row[7]) == (fix.summary, "\n".join(fix.commands),
                                                        "\n".join(fix.powershell))
                    listed.add(int(row[0]))
            else:
                assert f'<span class="fixno">[{entry}]</span> {escape(printable(v.fix(entry).summary))}' in html
                listed.add(entry)
    assert listed == set(range(1, len(v.fixes) + 1))


def test_applications_without_causes_alike_keep_their_rows(tmp_path: Path) -> None:
    """A real server's pool of 29 applications on a drive the image lacks (each not checked, for its own reason):
    each keeps its row and reason in the map, as before; only applications loading a binary of causes alike are
    one row."""
    config = corpus_dir("iis-config") / "NCIOCPL__pubslocator__applicationHost.config"
    html = scan_html.render([scan(make_image(tmp_path, config), ScanOptions(load_map=True))])
    assert "more applications whose binaries are alike" not in html
    assert html.count("drive E: is not mapped; give: --drive E=/path/to/copy</span></li>") > 2 * 8


def test_rows_give_back_every_record() -> None:
    """Patterns and values (what the page holds) give back each row exactly, whatever the names hold."""
    records = [("8", f"Run pool '{n}' as 32-bit", f'appcmd set apppool "{n}"\nRestart-WebAppPool -Name \'{n}\'', "")
               for n in ("Pool1", "Pool10", "My Pool", "Pool''s", "<script>x</script>", ODD, "a\tb", "Pool1")]
    records += [("9", "", "", "note"), ("10", "—", "\u00a0", "")]
    table = scan_html.rows(records)
    assert expand(table) == records
    assert all(" " not in v and "\n" not in v for line in table.values.split("\n") for v in line.split(" ")[1:])
    assert len(table.patterns) < len(records)
    records.append(("11", "a\0b", "", "\0"))  # NOTE: fields are joined by NUL unless a text holds one
    assert expand(scan_html.rows(records)) == records


def test_the_page_grows_with_values_not_with_causes(reports: dict[int, Report],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables past :data:`scan_html.PLAIN_ROWS` (forced to 0 here: a server of thousands of pools): 20 more pools add
    200 causes and 140 fixes: under 1 KB a pool (about 560 bytes; before grouping causes alike, about 44 KB), under a
    quarter of what they add to the text report with every cause (``--verbose``; about 4.4 KB a pool without it before
    the text grouped causes alike too, now a pool table row, tests/scan/test_text_causes_alike.py). As plain rows
    they add about 13.5 KB a pool (tests/html/test_plain_rows.py)."""
    monkeypatch.setattr(scan_html, "PLAIN_ROWS", 0)
    size = {n: len(scan_html.render([r]).encode()) for n, r in reports.items()}
    every = scan_text.TextOptions(verbose=True)
    text = {n: len(scan_text.render(r, options=every).encode()) for n, r in reports.items()}
    per_pool = (size[40] - size[20]) / 20
    assert per_pool < 1000, per_pool
    assert size[40] - size[20] < (text[40] - text[20]) / 4, (size, text)
    brief = {n: len(scan_text.render(r).encode()) for n, r in reports.items()}
    assert brief[40] - brief[20] < 100 * 20, brief  # a pool table row a pool


OPEN = """(async () => {
  const group = document.querySelector('article.cause.alike');
  const members = group.querySelector('details.members');
  const before = members.querySelectorAll('tbody.built tr').length;
  members.querySelector('summary').click();
  const run = document.querySelector('details.run');
  run.querySelector('summary').click();
  await new Promise(r => setTimeout(r, 100));  // NOTE: 'toggle' is fired in a task of its own
  const seen = e => e.checkVisibility();
  const rows = [...members.querySelectorAll('tbody.built tr')];
  return {before, rows: rows.filter(seen).map(tr => [...tr.cells].map(td => td.textContent)),
          values: seen(members.querySelector('pre.values')), patterns: seen(members.querySelector('tbody.patterns')),
          fixes: [...run.querySelectorAll('tbody.built tr')].map(tr =>
            [tr.querySelector('.fixno').textContent, ...[...tr.querySelectorAll('td.cmd code')].map(c => c.textContent)]),
          buttons: run.querySelectorAll('tbody.built button.copy').length,
          count: document.getElementById('filter-count').textContent};
})()"""


def test_a_group_opens_to_its_causes(browser: Browser, reports: dict[int, Report], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables past :data:`scan_html.PLAIN_ROWS` (forced to 0 here) are built by the script when opened."""
    monkeypatch.setattr(scan_html, "PLAIN_ROWS", 0)
    report = reports[20]
    v = view(report)
    page = tmp_path / "bin.html"
    page.write_text(scan_html.render([report]), encoding="utf-8")
    browser.open(page.as_uri(), width=1366, height=768)
    first = browser.evaluate("document.querySelector('.steps > li.fix .cmd').getBoundingClientRect().bottom")
    assert first <= 768  # the first fix's commands on the first screen
    got = browser.evaluate(OPEN)
    assert got["before"] == 0 and not got["values"] and not got["patterns"]
    group = _groups(scan_html._page(1, report))[0]
    assert len(got["rows"]) == len(group.causes) == 40
    for c, cells in zip(group.causes, got["rows"], strict=True):
        f = c.first
        assert cells[0] == printable(", ".join(c.pools) + ", ".join(c.places)), cells
        assert cells[1].startswith(f"{f.binary} → {f.resolved}") and cells[3] == " ".join(f"[{n}]" for n in c.fixes)
        assert printable(c.symptoms[0]) in cells[2] and printable(c.causes[0]) in cells[2]
    assert any("Pool\\u202etxt.exe" in cells[0] for cells in got["rows"])
    assert any(cells[0] == "Shop & Co 5Site5/" for cells in got["rows"])  # text, not markup
    assert len(got["fixes"]) == 19 and got["buttons"] == 2 * 19
    for number, cmd, ps in got["fixes"]:
        fix = v.fix(int(number.strip("[]")))
        assert (cmd, ps) == ("\n".join(map(printable, fix.commands)), "\n".join(map(printable, fix.powershell)))
    assert got["count"] == f"{len(v.causes)} of {len(v.causes)} causes shown"
    assert browser.errors() == []
    # a phone's width, every list open and built: tables and commands scroll inside their block
    browser.open(page.as_uri(), width=390, height=844)
    browser.evaluate("""(async () => { document.querySelectorAll('details').forEach(d => { d.open = true; });
      await new Promise(r => setTimeout(r, 100)); })()""")
    assert browser.evaluate("document.querySelectorAll('tbody.built tr').length") > 200
    assert browser.evaluate("document.documentElement.scrollWidth") <= 390
    assert browser.errors() == []
    # printing builds every row of every table, past the first 500 too
    browser.open(page.as_uri(), width=1366, height=768)
    built = browser.evaluate("""(() => { window.dispatchEvent(new Event('beforeprint'));
      return [...document.querySelectorAll('.rows-box')].map(b => [b.querySelectorAll('tbody.built tr').length,
                                                                    Number(b.getAttribute('data-rows'))]); })()""")
    assert built and all(n == rows for n, rows in built), built


def test_without_javascript_the_patterns_and_values_show(browser: Browser, reports: dict[int, Report],
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table past :data:`scan_html.PLAIN_ROWS` (forced to 0 here) with scripts off: its patterns and values."""
    monkeypatch.setattr(scan_html, "PLAIN_ROWS", 0)
    page = tmp_path / "bin.html"
    page.write_text(scan_html.render([reports[20]]), encoding="utf-8")
    browser.call("Emulation.setScriptExecutionDisabled", {"value": True}, session=True)
    try:
        browser.open(page.as_uri(), width=1366, height=768)
        got = browser.evaluate("""(() => { const d = document.querySelector('details.members'); d.open = true;
          return [d.querySelector('pre.values').checkVisibility(), d.querySelector('tbody.patterns').checkVisibility(),
                  d.querySelector('.rows-hint').checkVisibility(), d.querySelectorAll('tbody.built tr').length,
                  d.querySelector('tbody.patterns var').textContent]; })()""")
    finally:
        browser.call("Emulation.setScriptExecutionDisabled", {"value": False}, session=True)
    assert got == [True, True, True, 0, "1"]
