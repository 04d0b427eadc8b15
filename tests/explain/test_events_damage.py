""".evtx damage is data: corrupted copies of a real corpus log, made in a temporary folder by each test.

The base is ``sesellis__ETWTool__evtx__Application.evtx`` cut to its header and the two chunks its header
declares (the rest of the file is preallocated zeros): chunk 0 holds records 1..69, chunk 1 records 70..100
(record numbers of the record headers, which problems name; the events' own EventRecordID is 12611..12710).
Every test checks that reading never raises, returns what is readable, reports what is not (naming the
file, and the record or chunk where known) and prints nothing.
"""

from __future__ import annotations

import json
import struct
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from iisbitness.explain.events import EventLogError, EventLogRead, read_events
from iisbitness.explain.kb import KnowledgeBase

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
SOURCE = CORPUS / "evtx" / "sesellis__ETWTool__evtx__Application.evtx"
pytestmark = pytest.mark.skipif(not SOURCE.is_file(), reason="shared event-log corpus not available")

HEADER, CHUNK, CHUNK_HEADER = 0x1000, 0x10000, 0x200


def _base() -> bytearray:
    return bytearray(SOURCE.read_bytes()[:HEADER + 2 * CHUNK])


def _record_offsets(data: bytes | bytearray, chunk: int) -> Iterator[int]:
    """File offsets of the records of one chunk (record header: ``**\\0\\0`` magic, then its size)."""
    offset = HEADER + chunk * CHUNK + CHUNK_HEADER
    while data[offset:offset + 4] == b"**\x00\x00":
        yield offset
        offset += struct.unpack_from("<I", data, offset + 4)[0]


def _read(tmp_path: Path, data: bytes | bytearray, kb: KnowledgeBase,
          capfd: pytest.CaptureFixture[str]) -> EventLogRead:
    path = tmp_path / "damaged.evtx"
    path.write_bytes(bytes(data))
    log = read_events(path, kb)
    out, err = capfd.readouterr()
    assert (out, err) == ("", ""), "reading must print nothing; problems are data"
    assert log.format == "evtx"
    assert all(p.path == str(path) for p in log.problems)
    return log


def _messages(log: EventLogRead) -> list[str]:
    return [p.message for p in log.problems]


def test_base_copy_is_clean(tmp_path: Path, kb: KnowledgeBase, capfd: pytest.CaptureFixture[str]) -> None:
    log = _read(tmp_path, _base(), kb, capfd)
    assert len(log.events) == 100 and log.problems == ()
    assert [e.record_id for e in log.events] == list(range(12611, 12711))


def test_one_bad_record_is_named_and_the_rest_is_read(tmp_path: Path, kb: KnowledgeBase,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    data = _base()
    third = list(_record_offsets(data, 0))[2]
    data[third + 24] = 0xFF  # the record's first BinXML token
    log = _read(tmp_path, data, kb, capfd)
    assert len(log.events) == 99 and 12613 not in {e.record_id for e in log.events}
    bad = [p for p in log.problems if p.record is not None]
    assert len(bad) == 1 and bad[0].record == 3 and bad[0].message.startswith("record 3 could not be parsed")
    assert "chunk 0: checksum does not match; read anyway" in _messages(log)
    assert not any("lost" in m for m in _messages(log)), "a reported record is not also counted as lost"


def test_many_bad_records_are_listed_then_counted(tmp_path: Path, kb: KnowledgeBase,
                                                  capfd: pytest.CaptureFixture[str]) -> None:
    data = _base()
    for offset in _record_offsets(data, 0):
        data[offset + 24] = 0xFF
    log = _read(tmp_path, data, kb, capfd)
    assert [e.record_id for e in log.events] == list(range(12680, 12711))
    listed = [p.record for p in log.problems if p.record is not None]
    assert listed == list(range(1, 21))
    assert "49 more record(s) could not be parsed (ids 21..69)" in _messages(log)


def test_chunk_without_signature(tmp_path: Path, kb: KnowledgeBase, capfd: pytest.CaptureFixture[str]) -> None:
    data = _base()
    data[HEADER + CHUNK:HEADER + CHUNK + 8] = b"BadMagic"
    log = _read(tmp_path, data, kb, capfd)
    assert len(log.events) == 69
    assert _messages(log) == ["chunk 1: no chunk signature although the header counts it; its events are lost"]


def test_garbage_in_a_chunk(tmp_path: Path, kb: KnowledgeBase, capfd: pytest.CaptureFixture[str]) -> None:
    data = _base()
    start = HEADER + CHUNK + CHUNK_HEADER + 3000
    data[start:start + 4000] = bytes((i * 151 + 7) % 256 for i in range(4000))
    log = _read(tmp_path, data, kb, capfd)
    assert {e.record_id for e in log.events} >= set(range(12611, 12680))
    messages = _messages(log)
    assert "chunk 1: checksum does not match; read anyway" in messages
    # NOTE: every record of chunk 1 is either read, reported bad, or counted as lost: none vanishes.
    read = len(log.events) - 69
    reported = {p.record for p in log.problems if p.record is not None}
    lost = sum(int(m.split(": ")[1].split()[0]) for m in messages if m.endswith("they are lost"))
    whole_chunk = any(m.startswith("chunk 1 could not be parsed; its events are lost: ") for m in messages)
    assert reported <= set(range(70, 101)) and (whole_chunk or read + len(reported) + lost == 31), messages


def test_zeroed_records_are_counted_as_lost(tmp_path: Path, kb: KnowledgeBase,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    data = _base()
    data[HEADER + CHUNK + CHUNK_HEADER:HEADER + 2 * CHUNK] = bytes(CHUNK - CHUNK_HEADER)
    log = _read(tmp_path, data, kb, capfd)
    assert len(log.events) == 69
    assert _messages(log) == [
        "chunk 1: checksum does not match; read anyway",
        "chunk 1: 31 of its records 70..100 were not returned by the parser; they are lost",
    ]


def test_truncated_copy(tmp_path: Path, kb: KnowledgeBase, capfd: pytest.CaptureFixture[str]) -> None:
    log = _read(tmp_path, _base()[:HEADER + CHUNK + 30000], kb, capfd)
    assert len(log.events) == 69
    assert _messages(log) == [("truncated: the header declares 2 chunks, only 1 whole chunks are present;"
                               " events in the missing chunks are lost")]


@pytest.mark.parametrize("size", [8, 200, HEADER - 1])
def test_cut_inside_the_file_header(tmp_path: Path, kb: KnowledgeBase, capfd: pytest.CaptureFixture[str],
                                    size: int) -> None:
    log = _read(tmp_path, _base()[:size], kb, capfd)
    assert log.events == ()
    assert _messages(log) == [f"truncated inside the file header ({size} bytes); no events"]


def test_header_only(tmp_path: Path, kb: KnowledgeBase, capfd: pytest.CaptureFixture[str]) -> None:
    log = _read(tmp_path, _base()[:HEADER], kb, capfd)
    assert log.events == ()
    assert any("truncated: the header declares 2 chunks, only 0" in m for m in _messages(log))


def test_damaged_file_header(tmp_path: Path, kb: KnowledgeBase, capfd: pytest.CaptureFixture[str]) -> None:
    data = _base()
    data[60] ^= 0xFF  # inside the checksummed first 120 bytes, in a field nobody reads
    log = _read(tmp_path, data, kb, capfd)
    assert len(log.events) == 100
    assert _messages(log) == ["file header checksum does not match (copied while in use?)"]


def test_odd_file_header_fields(tmp_path: Path, kb: KnowledgeBase, capfd: pytest.CaptureFixture[str]) -> None:
    data = _base()
    struct.pack_into("<HH", data, 36, 0, 0)  # version 0.0
    struct.pack_into("<I", data, 120, 0x80)  # flags: outside the checksum
    log = _read(tmp_path, data, kb, capfd)
    assert len(log.events) == 100
    assert _messages(log) == ["file header checksum does not match (copied while in use?)",
                              "unknown EVTX format version 0.0; read anyway",
                              "file header has unknown flags 0x80; read anyway"]


def test_header_the_library_rejects(tmp_path: Path, kb: KnowledgeBase, capfd: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import evtx

    def reject(path: str, **kwargs: object) -> None:
        raise RuntimeError("An error occurred while trying to deserialize evtx stream.: bad header")

    monkeypatch.setattr(evtx, "PyEvtxParser", reject)
    log = _read(tmp_path, _base(), kb, capfd)
    assert log.events == ()
    assert _messages(log) == [("EVTX structure could not be parsed: An error occurred while trying to"
                               " deserialize evtx stream.: bad header")]


def test_library_warning_becomes_one_problem(tmp_path: Path, kb: KnowledgeBase,
                                             capfd: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import evtx

    real = evtx.PyEvtxParser

    class Warns:
        """A stand-in that warns as the library does with ``skip_errors=True``."""

        def __init__(self, path: str, **kwargs: Any) -> None:
            self.inner = real(path, **kwargs)

        def records(self) -> Iterator[object]:
            for n, record in enumerate(self.inner.records()):
                if n < 2:
                    warnings.warn("Failed to parse record number 7: boom", RuntimeWarning, stacklevel=1)
                yield record

    monkeypatch.setattr(evtx, "PyEvtxParser", Warns)
    log = _read(tmp_path, _base(), kb, capfd)
    assert len(log.events) == 100
    assert _messages(log) == ["the evtx library warned: Failed to parse record number 7: boom"]


def test_missing_library_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.evtx"
    path.write_bytes(bytes(_base()))
    monkeypatch.setitem(sys.modules, "evtx", None)
    with pytest.raises(EventLogError, match=r"a\.evtx: cannot read \.evtx: the 'evtx' package"):
        read_events(path)



def test_explain_command_lists_the_damage(tmp_path: Path) -> None:
    """End to end: a damaged copy gives exit 1 (nothing recognised), its problems in JSON, nothing on stderr."""
    data = _base()
    data[next(_record_offsets(data, 1)) + 24] = 0xFF
    path = tmp_path / "damaged.evtx"
    path.write_bytes(bytes(data))
    result = CliRunner().invoke(main, ["explain", "--format", "json", "--event-log", str(path)])
    assert result.exit_code == 1 and result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["inputs"][0]["events_read"] == 99
    assert {(p["path"], p["record"]) for p in doc["problems"]} == {(str(path), 70), (str(path), None)}
