"""``iisbitness explain``: exit codes, stdin, JSON validated against the shipped schema."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner

from iisbitness.cli import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"
SCHEMA = json.loads(resources.files("iisbitness.formats").joinpath("schema/explain-1.json").read_text("utf-8"))


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["explain", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("args", [
    ("HRESULT 8007041d",),
    ("--format", "json", "%1 is not a valid Win32 application"),
    ("--format", "json", "--event-log", str(FIXTURES / "wevtutil-iis10.xml")),
    ("--format", "json", "--event-log", str(FIXTURES / "eventviewer-iis6.xml"), "--event-log",
     str(FIXTURES / "truncated.xml")),
])
def test_recognised_exits_0(args: tuple[str, ...]) -> None:
    code, out, _ = _run(*args)
    assert code == 0, out
    if "json" in args:
        doc = json.loads(out)
        jsonschema.validate(doc, SCHEMA)
        assert doc["schema"] == "iisbitness/explain/1" and doc["recognised"] is True
        assert out == json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_stdin_log() -> None:
    code, out, _ = _run("--format", "json", stdin="Failed while restarting W3SVC. Error code: 0x8007041d\n")
    assert code == 0
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["inputs"][0]["name"] == "stdin"
    assert doc["causes"][0]["rule"] == "iis6-isolation-wow64"
    assert doc["explanations"][0]["signals"][0]["line"] == 1


def test_a_dash_reads_stdin() -> None:
    """``... | iisbitness explain -`` (the usual spelling of stdin) explains the text piped in, not the word "-"."""
    code, out, _ = _run("--format", "json", "-", stdin="Failed while restarting W3SVC. Error code: 0x8007041d\n")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["inputs"][0]["name"] == "stdin"
    assert doc["causes"][0]["rule"] == "iis6-isolation-wow64"


def test_unrecognised_exits_1_and_says_so() -> None:
    code, out, _ = _run("the weather is fine, 193 degrees")
    assert code == 1
    assert out.startswith("Nothing recognised")
    code, out, _ = _run("--format", "json", "nothing")
    assert code == 1
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["recognised"] is False and doc["explanations"] == [] and doc["next_steps"] == []


def test_unreadable_event_log_exits_2_naming_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.evtx"
    bad.write_bytes(b"not a log")
    code, _, err = _run("--event-log", str(bad))
    assert code == 2 and "broken.evtx" in err


def test_text_output_lists_events_and_steps() -> None:
    code, out, _ = _run("--event-log", str(FIXTURES / "wevtutil-iis10.xml"))
    assert code == 0
    assert "global-module-arch" in out and "rewritex64.dll" in out and "LegacyPool" in out
    assert "iisbitness scan" in out
    assert "Sysmon" not in out


@pytest.mark.parametrize("raw", [
    "%1 is not a valid Win32 application.\r\n".encode("utf-16"),       # Notepad "Unicode", with a BOM
    "%1 is not a valid Win32 application.\r\n".encode("utf-16-le"),    # PowerShell 5 redirection, no BOM
    "%1 ist keine zulässige Win32-Anwendung.\r\n".encode("cp1252"),    # an ANSI file on a German server
    "%1 ist keine zulässige Win32-Anwendung.\r\n".encode("utf-8-sig"),
], ids=["utf-16-bom", "utf-16-le", "cp1252", "utf-8-bom"])
def test_stdin_in_the_encodings_windows_writes(raw: bytes) -> None:
    result = CliRunner().invoke(main, ["explain", "--format", "json"], input=raw)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["bitness_likely"] and doc["explanations"][0]["id"] == "bad-exe-format"


_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
_CORPUS_LOGS = sorted([*(_CORPUS / "evtx").glob("*.evtx"), *(_CORPUS / "events").glob("*.xml")]) if _CORPUS.is_dir() else []


@pytest.mark.skipif(not _CORPUS_LOGS, reason="shared event-log corpus not available")
@pytest.mark.parametrize("path", _CORPUS_LOGS, ids=[p.name[:60] for p in _CORPUS_LOGS])
def test_every_corpus_log_gives_a_sensible_answer(path: Path) -> None:
    """Real logs, none of them a bitness problem: the CLI answers (exit 0 or 1, never a traceback), the JSON is
    valid, and no bitness cause is called likely."""
    code, out, err = _run("--format", "json", "--event-log", str(path), stdin="")
    assert code in (0, 1), err
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert not doc["bitness_likely"] and all(c["confidence"] != "high" for c in doc["causes"])


def test_an_event_log_with_nothing_recognised_says_how_many_events_were_read(tmp_path: Path) -> None:
    """"Nothing recognised" over a log must show the log was read, and how much of it (JSON has events_read)."""
    log = tmp_path / "app.xml"
    log.write_text('<Events><Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
                   '<Provider Name="Application Error"/><EventID>1000</EventID><Level>2</Level>'
                   '<TimeCreated SystemTime="2024-01-01T00:00:00Z"/></System><EventData><Data>the weather is fine'
                   '</Data></EventData></Event></Events>\n', encoding="utf-8")
    code, out, _ = _run("--event-log", str(log))
    assert code == 1 and out.startswith("Nothing recognised")
    assert f"{log}: 1 event read (xml), none a bitness symptom" in " ".join(out.split())
