"""Memory stays bounded whatever the size of an input (issue 26): an .evtx is read through one descriptor, 64 KiB
at a time, and refused above its documented cap; event XML, project files and baselines have caps too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_helpers import CORPUS, CSPROJ, REPO, make_image, run, solution

from iisbitness.config.iisexpress import MAX_PROJECT_BYTES
from iisbitness.explain.events import MAX_EVENT_XML_BYTES, MAX_EVTX_BYTES

EVTX = CORPUS / "evtx" / "sans-blue-team__DeepBlueCLI__evtx__many-events-application.evtx"
"""A real Application log of 33 chunks (2,216 events)."""

_MEASURE = """
import json, resource, sys
from iisbitness.explain.kb import load_kb
from iisbitness.explain.events import read_events
import evtx  # noqa: F401 - loaded before the baseline is taken
kb = load_kb()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
read = read_events(sys.argv[1], kb)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"events": len(read.events), "problems": [p.message for p in read.problems], "grown_kb": grown}))
"""


def _measure(path: Path) -> dict:  # type: ignore[type-arg]
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, env=env,
                         timeout=300, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def evtx_source() -> Path:
    if not EVTX.is_file():
        pytest.skip("shared event-log corpus not available")
    return EVTX


def test_a_large_evtx_is_read_in_bounded_memory(tmp_path: Path, evtx_source: Path) -> None:
    """The real log followed by preallocated (zero) space up to 200 MB, as Windows leaves a log file: the events
    are all read and memory grows by the events, not by the file (the whole file was read to sniff 8 bytes)."""
    alone = _measure(evtx_source)
    big = tmp_path / "Application.evtx"
    with open(big, "wb") as f:
        f.write(evtx_source.read_bytes())
        f.truncate(200 * 1024 * 1024)
    grown = _measure(big)
    assert grown["events"] == alone["events"] == 2216
    assert grown["grown_kb"] < alone["grown_kb"] + 32 * 1024, (grown["grown_kb"], alone["grown_kb"])


@pytest.mark.parametrize("command", ["explain", "scan"])
def test_an_evtx_over_its_cap_is_refused_unread(tmp_path: Path, evtx_source: Path, command: str) -> None:
    big = tmp_path / "Huge.evtx"
    with open(big, "wb") as f:
        f.write(evtx_source.read_bytes()[:4096])
        f.truncate(2 * 1024**3)
    args = ["explain", "--event-log", big] if command == "explain" else [
        "scan", make_image(tmp_path / "img"), "--event-log", big]
    t0 = time.monotonic()
    r = run(*args)
    assert time.monotonic() - t0 < 10
    assert r.exit_code == 2, r.output
    assert f"Huge.evtx: .evtx of 2,147,483,648 bytes, over the {MAX_EVTX_BYTES:,}-byte limit; not read" in r.output
    assert "wevtutil epl Application recent.evtx" in r.output


def test_event_xml_over_its_cap_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "events.xml"
    with open(big, "wb") as f:
        f.write(b"<Events><Event>")
        f.truncate(MAX_EVENT_XML_BYTES + 1)
    r = run("explain", "--event-log", big)
    assert r.exit_code == 2 and f"over the {MAX_EVENT_XML_BYTES:,}-byte limit for exported event XML" in r.output


def test_a_project_file_over_its_cap_is_left_out(tmp_path: Path) -> None:
    """A real-looking 5 MB project (thousands of Compile items) is named and left out, not parsed."""
    root = solution(tmp_path / "Sol")
    items = "".join(f'    <Compile Include="Folder{i % 50}\\File{i}.cs" />\n' for i in range(110_000))
    project = CSPROJ.replace("</Project>", f"  <ItemGroup>\n{items}  </ItemGroup>\n</Project>")
    assert len(project) > MAX_PROJECT_BYTES
    (root / "App" / "App.csproj").write_text(project)
    t0 = time.monotonic()
    r = run("scan", root, "--format", "json")
    assert time.monotonic() - t0 < 10
    # NOTE: the solution's only project is left out, so nothing was checked: exit 2, the report written all the same
    assert r.exit_code == 2 and "App/App.csproj: file is" in r.stderr, r.output
    problems = json.loads(r.stdout)["problems"]
    assert any(p["file"] == "App/App.csproj" and f"over the {MAX_PROJECT_BYTES:,}-byte limit" in p["message"]
               for p in problems), r.output


def test_a_small_configuration_file_is_read_without_allocating_its_limit(tmp_path: Path) -> None:
    """``read(limit + 1)`` allocates the whole 64 MiB limit before it reads, once per web.config on a server of
    thousands; the read asks for the file's size (a file that grows after ``stat`` is still read to its limit)."""
    import tracemalloc

    from iisbitness.config.jsonfile import read_json
    from iisbitness.config.xml import parse_file

    config = tmp_path / "web.config"
    config.write_text("<configuration><system.webServer/></configuration>")
    settings = tmp_path / "launchSettings.json"
    settings.write_text('{"profiles": {}}')
    tracemalloc.start()
    try:
        parse_file(config, "web.config")
        read_json(settings, "launchSettings.json", 64 * 1024 * 1024, "launch settings")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024, f"{peak:,} bytes at peak to read two files of 50 bytes"


def test_a_configuration_file_that_grew_after_stat_is_read_to_its_limit(tmp_path: Path) -> None:
    """The read goes on past the size ``stat`` gave, up to the limit (and one byte more to show it is over)."""
    import io

    from iisbitness.config.xml import read_capped

    assert read_capped(io.BytesIO(b"x" * 10), 4, 100) == b"x" * 10
    assert read_capped(io.BytesIO(b"x" * 500), 4, 100) == b"x" * 101
    assert read_capped(io.BytesIO(b"x" * 4), 4, 100) == b"x" * 4
    assert read_capped(io.BytesIO(b"x" * 500), 400, 100) == b"x" * 101
