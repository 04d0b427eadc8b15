"""The demo's HTML report in a real browser: headless Chromium over the DevTools protocol (issue 14).

Checks the DOM after the page's script ran (pools, causes, summary, filters), the colours as
computed (each architecture its own, each with a label), phone width, and that nothing was logged
as an error (exceptions, console.error, CSP violations: the page must not reach the network). A
screenshot is written to the test's tmp folder; ``IISBITNESS_SCREENSHOT=docs/img/demo-report.png``
writes the README's instead.

Skipped when Chromium is absent, except in CI (``CI=true``), where .ci/run installs Debian's
``chromium`` and a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from iisbitness.formats import scan_html
from tests.html.cdp import Browser
from tests.html.hostile import EVIL, hostile_report


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    folder = tmp_path_factory.mktemp("demo-html")
    out = folder / "demo.html"
    assert CliRunner().invoke(main, ["demo", "--format", "html", "-o", str(out)]).exit_code == 0
    docs = json.loads(CliRunner().invoke(main, ["demo", "--format", "json"]).output)
    return out, {"docs": docs}


DOM = """(() => {
  const text = e => e ? e.textContent.trim() : null;
  const bg = sel => { const e = document.querySelector(sel); return e ? getComputedStyle(e).backgroundColor : null; };
  const visible = e => e.offsetParent !== null;
  return {
    workers: [...document.querySelectorAll('article.worker')].map(w => w.dataset.pool),
    causes: [...document.querySelectorAll('article.cause')].map(c => [c.dataset.severity, c.dataset.rule]),
    badges: [...document.querySelectorAll('.arch')].map(text),
    colours: {x86: bg('.arch-x86'), x64: bg('.arch-x64'), arm64: bg('.arch-arm64'), any: bg('.arch-anycpu')},
    errorsCard: [...document.querySelectorAll('dd[data-count=error]')].map(text),
    marks: [...document.querySelectorAll('a.mark')].map(a => document.getElementById(a.hash.slice(1)) !== null),
    filtersShown: visible(document.getElementById('filters')),
    copyButtons: document.querySelectorAll('button.copy').length,
    cmdBlocks: document.querySelectorAll('.cmd').length,
    title: document.title,
  };
})()"""


def test_demo_report_in_chromium(browser: Browser, demo: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    path, data = demo
    docs = data["docs"]
    assert isinstance(docs, list)
    browser.open(path.as_uri(), width=1280, height=900)
    dom = browser.evaluate(DOM)
    pools = [p["name"] for d in docs for p in d["pools"]]
    assert [w for w in dom["workers"] if w in pools] == pools  # every pool, in report order
    assert {"inetmgr.exe", "inetinfo.exe", "dllhost.exe"} <= set(dom["workers"])
    assert len(dom["causes"]) == 15 and {s for s, _ in dom["causes"]} == {"error", "warning"}
    assert {r for _, r in dom["causes"]} == {f["rule"] for d in docs for f in d["findings"]}
    assert dom["errorsCard"] == ["13", "5"]
    assert all(dom["marks"]) and len(dom["marks"]) >= 15  # every mismatch mark links to its cause
    # Colours keep their meaning: four distinct ones, and every badge carries its label.
    assert len(set(dom["colours"].values())) == 4 and None not in dom["colours"].values()
    assert all(b for b in dom["badges"]) and {"x86", "x64", "AnyCPU", "arm64"} <= set(dom["badges"])
    assert dom["filtersShown"] and dom["copyButtons"] == dom["cmdBlocks"] > 20
    # The severity filter hides errors; the rule filter keeps one rule.
    shown = browser.evaluate("""(() => {
      const f = document.getElementById('filters');
      f.querySelector('input[value=error]').click();
      const warnings = [...document.querySelectorAll('article.cause')].filter(c => !c.hidden).length;
      f.querySelector('input[value=error]').click();
      const sel = f.querySelector('select'); sel.value = 'global-module-arch';
      sel.dispatchEvent(new Event('change', {bubbles: true}));
      const one = [...document.querySelectorAll('article.cause')].filter(c => !c.hidden).length;
      sel.value = ''; sel.dispatchEvent(new Event('change', {bubbles: true}));
      return [warnings, one, document.getElementById('filter-count').textContent];
    })()""")
    assert shown == [3, 1, "15 of 15 causes shown"]
    # Keyboard: the first Tab reaches the skip link, which leads to the report.
    assert browser.evaluate("document.querySelector('a.skip').getAttribute('href')") == "#main"
    assert browser.errors() == []
    shot = tmp_path / "demo-report.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    readme = os.environ.get("IISBITNESS_SCREENSHOT")
    if readme:  # the README's picture: the top of the page (summary, server map) at a laptop width
        browser.open(path.as_uri(), width=1100, height=1400)
        browser.screenshot_top(Path(readme), width=1100, height=1400, scale=0.7)


FIRST_SCREEN = """(() => {
  const box = e => e.getBoundingClientRect();
  const step = document.querySelector('.steps > li.fix');
  return {summary: box(document.querySelector('dl.summary')).bottom,
          heading: document.querySelector('section.first h3').textContent,
          step: step.querySelector('.fix-summary').textContent.trim(),
          commands: box(step.querySelector('.cmd')).bottom,
          firstCause: document.querySelector('article.cause').getBoundingClientRect().top};
})()"""


def test_first_screen_shows_the_summary_and_the_first_fix(browser: Browser,
                                                          demo: tuple[Path, dict[str, object]]) -> None:
    """At 1366x768 (a laptop) the summary and the first fix with its commands are on screen, before the map."""
    path, _ = demo
    browser.open(path.as_uri(), width=1366, height=768)
    first = browser.evaluate(FIRST_SCREEN)
    assert first["summary"] <= 768 and first["commands"] <= 768, first
    assert first["heading"] == "What to do first" and first["step"].startswith("[1] Run application pool")
    assert first["firstCause"] > 768  # NOTE: the causes' detail comes after what to do
    assert browser.errors() == []


def test_phone_width_has_no_sideways_scrolling(browser: Browser, demo: tuple[Path, dict[str, object]]) -> None:
    path, _ = demo
    browser.open(path.as_uri(), width=390, height=844)
    assert browser.evaluate("document.documentElement.scrollWidth") <= 390
    assert browser.errors() == []


def test_hostile_names_stay_text_in_the_browser(browser: Browser, tmp_path: Path) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(scan_html.render([hostile_report()]), encoding="utf-8")
    browser.open(page.as_uri())
    assert browser.evaluate("document.scripts.length") == 1
    assert EVIL in browser.evaluate("document.querySelector('article.cause').textContent")
    assert browser.evaluate("window.__xss === undefined")
    assert browser.errors() == []


def test_the_harness_sees_errors(browser: Browser, tmp_path: Path) -> None:
    """A page that throws and logs an error is caught: the checks above are not vacuous."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
                    'script-src \'unsafe-inline\'"><img src="http://192.0.2.1/x.png"><script>console.error("boom");'
                    'throw new Error("thrown")</script>', encoding="utf-8")
    browser.open(page.as_uri())
    errors = " ".join(browser.errors())
    assert "boom" in errors and "thrown" in errors and "Content Security Policy" in errors
