"""The text report of a server where every application ships its own 32-bit copies (issue 25, fourth round).

Real-format applicationHost.config, 64-bit pools with a site of two applications each, and in the ``bin`` of the
first ``apps`` applications the real fixtures ``ManagedApp.dll`` (AnyCPU), the x86-only ``managed_x86.dll`` it
references and, as ``nativelib.dll``, the x86 native DLL it P/Invokes (as tests/html/test_causes_alike.py): each copy
is a cause of its own, five kinds of cause. Past :data:`~iisbitness.formats.causes.MANY` causes alike, the text
shows the first in full and one ``and`` line with the count; at MANY, every cause as before.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from iisbitness.api import ScanOptions, scan
from iisbitness.formats import scan_json, scan_text
from iisbitness.formats.causes import MANY, view
from iisbitness.report import Report
from tests.conftest import apphost, make_image
from tests.html.test_causes_alike import BIN, KINDS
from tests.html.test_many_pools import pools_and_sites


def _report(root: Path, apps: int) -> Report:
    """``apps`` applications with their own copies, two to a pool (the last pool's second one without a ``bin``
    when ``apps`` is odd: its folder is there, so that it is checked and its pool's flip verified as the others)."""
    pools = (apps + 1) // 2
    pool_xml, sites = pools_and_sites([f"Pool{i}" for i in range(pools)])
    both = [(i, folder) for i in range(pools) for folder in ("", "app1/")]
    folders = both[:apps]
    files: dict[str, str | Path | bytes] = {f"inetpub/site{i}/{folder}bin/{name}": fixture
                                            for i, folder in folders for name, fixture in BIN.items()}
    files.update({f"inetpub/site{i}/{folder}default.htm": b"<p>no bin</p>" for i, folder in both[apps:]})
    make_image(root, apphost(pool_xml, sites), files)
    return scan(root, ScanOptions())


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Report]:
    return {n: _report(tmp_path_factory.mktemp(f"apps{n}"), n) for n in (MANY, MANY + 1)}


def _headings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("ERROR ", "WARNING "))]


def test_past_many_causes_alike_are_one_block_each(reports: dict[int, Report]) -> None:
    report = reports[MANY + 1]
    v = view(report)
    assert len(v.causes) == KINDS * (MANY + 1)  # every copy its own cause
    text = scan_text.render(report, width=200)
    assert len(_headings(text)) == KINDS  # the first of each kind in full
    alike = [line for line in text.splitlines() if line.startswith("  and   ")]
    assert len(alike) == KINDS and all(f"{MANY} more causes alike: " in line for line in alike)
    assert alike[0].startswith(f"  and   {MANY} more causes alike: managed_x86.dll in {MANY + 1} applications, "
                               f"{(MANY + 2) // 2} pools (Pool0, Pool1, Pool2, ...); their ")
    assert " ".join(text.split()).count("are not listed below; --verbose, --format json or --format html lists "
                                        "each") == KINDS  # NOTE: IIS Manager's causes too: each copy's remedy is
    # the corflags line on its own bin's managed_x86.dll (the worker's fix), not one advice alike for all
    assert f"from {len(v.causes)} causes" in text.splitlines()[-1]  # the closing line counts every cause
    # --verbose prints each cause, and every fix
    verbose = scan_text.render(report, options=scan_text.TextOptions(verbose=True, width=200))
    assert len(_headings(verbose)) == len(v.causes) and "causes alike" not in verbose


def test_at_many_causes_alike_every_cause_is_shown(reports: dict[int, Report]) -> None:
    report = reports[MANY]
    text = scan_text.render(report, width=200)
    assert len(_headings(text)) == len(view(report).causes) == KINDS * MANY
    assert "causes alike" not in text
    numbers = {int(n) for n in re.findall(r"^  \[(\d+)\] ", text, re.MULTILINE)}
    assert numbers == set(range(1, len(view(report).fixes) + 1))


@pytest.mark.parametrize("shell", ["cmd", "powershell"])
def test_fix_numbers_and_commands_match_the_json(reports: dict[int, Report], shell: str) -> None:
    """Each fix the text lists has the JSON's number and commands; each cause shown names its fixes by the JSON's
    numbers; the fixes not listed are counted."""
    report = reports[MANY + 1]
    doc = json.loads(scan_json.render(report))
    fixes = {f["number"]: f for f in doc["fixes"]}
    text = scan_text.render(report, options=scan_text.TextOptions(width=200, shell=shell))
    body, listing = text.split("\nFixes (", 1)
    listed: dict[int, list[str]] = {}
    for line in listing.splitlines()[1:]:
        if m := re.match(r"  \[(\d+)\] (.*)", line):
            number = int(m[1])
            listed[number] = [m[2]]
        elif line.startswith("      ") and listed:
            listed[number].append(line.strip())
    for n, lines in listed.items():
        commands = fixes[n]["powershell" if shell == "powershell" else "commands"]
        assert lines[:len(commands)] == commands, n
    more = re.search(r"  \.\.\. and (\d+) more fixes of causes alike", listing)
    assert more and int(more[1]) + len(listed) == len(fixes)
    # each cause shown: its fix line names the numbers its findings carry in the JSON
    findings = {(f["rule"], f["binary"], f["application"]): f for f in doc["findings"]}
    for block in re.split(r"\n(?=ERROR |WARNING )", body)[1:]:
        head = block.splitlines()[0].split()
        binary = head[2]
        app = re.search(r"; (Site\d+/\S*)", block)
        assert app
        site, application = app[1].split("/", 1)
        f = findings[(head[1], binary, "/" + application)]
        assert f["site"] == site
        fix = re.search(r"  fix   (.*?)(?:\n  [a-z]|\Z)", block, re.DOTALL)
        assert fix
        shown = {n for a, b in re.findall(r"\[(\d+)\](?:-\[(\d+)\])?", fix[1]) for n in range(int(a), int(b or a) + 1)}
        assert shown == set(f["fix_numbers"]) and shown <= set(listed)
