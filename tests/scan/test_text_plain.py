"""The text report without colour is written without rich (issue 25: a rich print per line took most of the
rendering of 10,000 pools); it must be what rich writes, byte for byte."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.text import Text

from iisbitness.formats.scan_text import TextOptions, _Out
from iisbitness.formats.table import printable

LINES: list[tuple[str | tuple[str, str], ...]] = [
    (("iisbitness scan", "bold"), " C:\\image"),
    (),
    ("  trailing spaces   ", ("dim", "dim")),
    ("Default\u00a0Web\u00a0Site/ ", ("\u65e5\u672c\u8a9e\u30b5\u30a4\u30c8", "yellow"), " \U0001f600 wide"),
    ("esc \x1b[31m bell \x07 cr \r bidi \u202e", ("del \x7f", "red")),
    ("x" * 300, ("  ", "")),
]


def _rich(lines: list[tuple[str | tuple[str, str], ...]], width: int) -> str:
    """What rich writes for the lines printed one by one, as the report was written before."""
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=False, no_color=True, highlight=False, soft_wrap=True, width=width)
    for parts in lines:
        con.print(Text.assemble(*(printable(p) if isinstance(p, str) else (printable(p[0]), p[1]) for p in parts)))
    return buf.getvalue()


@pytest.mark.parametrize("tab", [False, True])
def test_plain_text_is_what_rich_writes(tab: bool) -> None:
    lines = LINES + ([("a\tb", ("\tc", "bold"))] if tab else [])
    out = _Out(TextOptions(width=60))
    for parts in lines:
        out.line(*parts)
    assert out.render() == _rich(lines, 60)
    assert ("a       b" in out.render()) is tab, "a tab is expanded as rich does"


@pytest.mark.parametrize("term", ["xterm", "xterm-256color", "dumb"])
def test_coloured_text_is_what_rich_writes(term: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With colour each run is styled as rich's console would style it (issue 25: a console print of a 1,000-pool
    report took 8 s); the same bytes for each terminal's colour system."""
    monkeypatch.setenv("TERM", term)
    monkeypatch.delenv("COLORTERM", raising=False)
    lines = [*LINES, (("bold red", "bold red"), ("", "cyan"), ("dim", "dim"), ("yellow", "yellow"))]
    out = _Out(TextOptions(width=60, color=True))
    for parts in lines:
        out.line(*parts)
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=True, no_color=False, highlight=False, soft_wrap=True, width=60)
    con.print(Text("\n").join(Text.assemble(*parts) for parts in out.lines))
    assert out.render() == buf.getvalue()
    assert ("\x1b[1;31mbold red\x1b[0m" in out.render()) is (term != "dumb")
