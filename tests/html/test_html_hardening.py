"""The HTML report's second line of defence (issue 26): names with right-to-left overrides and control characters
shown escaped as in the text report, and a Content-Security-Policy that runs only the page's own script (by its
hash), never an inline one, even if escaping ever failed."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from iisbitness.formats import scan_html
from iisbitness.model.source import Problem
from tests.html.cdp import Browser, find_chromium
from tests.html.hostile import hostile_report

RLO = "\u202e"


def _report_with_tricky_names() -> scan_html.Report:
    r = hostile_report()
    f = replace(r.findings[0], binary=f"C:\\app\\bin\\{RLO}gnp.exe", pool=f"Pool{RLO}\u2066x", site="Site\x1b[2J",
                cause=f"the binary {RLO}gnp.exe is x86")
    return replace(r, findings=(f,), problems=(Problem(f"web{RLO}gifnoc.config", 1, "title\x1b]0;owned\x07"),))


def test_bidi_overrides_and_control_characters_are_shown_escaped() -> None:
    html = scan_html.render([_report_with_tricky_names()])
    for raw in (RLO, "\u2066", "\x1b", "\x07"):
        assert raw not in html, repr(raw)
    assert "\\u202egnp.exe" in html and "web\\u202egifnoc.config" in html
    assert "Site\\x1b[2J" in html and "\\x1b]0;owned\\x07" in html
    assert "\n" in html  # line breaks in the page itself are kept


def _policy(html: str) -> str:
    m = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
    assert m is not None
    return m.group(1)


def test_the_policy_allows_the_page_script_by_its_hash_and_no_inline_script() -> None:
    html = scan_html.render([hostile_report()])
    script_src = next(d for d in _policy(html).split(";") if d.strip().startswith("script-src")).split()[1:]
    assert "'unsafe-inline'" not in script_src and len(script_src) == 1
    (body,) = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
    assert script_src == [f"'sha256-{digest}'"]


@pytest.mark.skipif(find_chromium() is None and os.environ.get("CI") != "true", reason="chromium not installed")
def test_an_injected_inline_script_does_not_run_and_the_page_script_does(tmp_path: Path) -> None:
    html = scan_html.render([hostile_report()])
    injected = html.replace("</main>", '<script>window.__injected = 1</script>'
                                       '<img src="data:," onerror="window.__handler = 1"></main>', 1)
    page = tmp_path / "injected.html"
    page.write_text(injected, encoding="utf-8")
    chromium = find_chromium()
    assert chromium is not None
    with Browser(chromium) as browser:
        browser.open(page.as_uri())
        assert browser.evaluate("window.__injected === undefined && window.__handler === undefined")
        assert browser.evaluate("document.querySelectorAll('button.copy').length") > 0  # the page's script ran
        assert "Content Security Policy" in " ".join(browser.errors())
