"""A log that repeats one event shows it once in the signal's panel, with how often, not five identical lines.

Real input: an Azure App Service LogFiles/eventlog.xml of the shared corpus (DekuWorks/241RunnersAwareness) holding
29 ANCM 1007 "failed to load coreclr ... CLR worker thread exited prematurely" events. Before, each panel printed
"seen (event, high): IIS AspNetCore Module V2/1007" five times, then "... and 24 more"."""

from __future__ import annotations

from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import corpus_dir

LOG = "DekuWorks__241RunnersAwareness__LogFiles__eventlog.xml"


def test_a_repeated_event_is_one_seen_line_with_its_count() -> None:
    r = CliRunner().invoke(main, ["explain", "--event-log", str(corpus_dir("events") / LOG)])
    assert r.exit_code == 0, r.output
    seen = [line.strip(" │") for line in r.stdout.splitlines() if "seen (" in line]
    assert "seen (event, high): IIS AspNetCore Module V2/1007 (29 times)" in seen
    assert "seen (text, high): CLR worker thread exited prematurely (29 times)" in seen
    assert len(seen) == len(set(seen)) and "... and" not in r.stdout
