"""Hostile binaries (issue 7): any bytes give a classification or "not a valid PE: <why>", never an
exception, in bounded time and memory; huge files are never read whole; nothing is executed."""

from __future__ import annotations

import json
import os
import struct
import time
import tracemalloc
from pathlib import Path

import pytest
from hostile_helpers import FIXTURES, PE_BIN
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pe_fixtures import metadata_mutated

from iisbitness.pe.classify import classify_bytes, read_image
from iisbitness.pe.headers import parse_headers
from iisbitness.pe.imports import imports_from, read_imports
from iisbitness.pe.metadata import MAX_METADATA_FILE, assembly_info_from_bytes, read_assembly_info
from iisbitness.pe.source import InvalidPe, Source
from iisbitness.pe.types import ImageKind, PeImage

pytestmark = pytest.mark.property

MAX_SECONDS = 2.0
MAX_PEAK_BYTES = 64 << 20  # the metadata reader holds the metadata region; 64 MB is far above any fuzz input


def _check_total(data: bytes) -> PeImage:
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        img = classify_bytes(data, "<h>")
        src = Source.from_bytes(data)
        try:
            imports_from(src, parse_headers(src))
        except InvalidPe:
            pass
        info = assembly_info_from_bytes(data, "<h>")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - t0 < MAX_SECONDS
    assert peak < MAX_PEAK_BYTES
    assert isinstance(img, PeImage)
    if img.kind is ImageKind.NOT_PE:
        assert img.reason and img.reason.startswith("not a valid PE: ") and len(img.reason) > len("not a valid PE: ")
    assert info.name is not None or info.reason is not None or info.version is None
    return img


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=8192))
def test_any_bytes(data: bytes) -> None:
    _check_total(data)


@st.composite
def pe_like(draw: st.DrawFn) -> bytes:
    """A DOS stub + PE header whose every field is drawn: offsets, counts and sizes run wild."""
    e_lfanew = draw(st.sampled_from([0x40, 0x80, 0xFFFFFFFF, 0x7FFFFFF0, 0, 0x3C]))
    machine = draw(st.sampled_from([0x14C, 0x8664, 0xAA64, 0xA641, 0x3A64, 0x1C4, 0x200, 0xFFFF, 0]))
    nsections = draw(st.integers(0, 0xFFFF))
    opt_size = draw(st.sampled_from([0, 0xE0, 0xF0, 0xFFFF, 0x10]))
    magic = draw(st.sampled_from([0x10B, 0x20B, 0x107, 0]))
    ndirs = draw(st.sampled_from([0, 16, 15, 0xFFFFFFFF, 0x7FFFFFFF]))
    dos = bytearray(0x40)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, e_lfanew)
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", machine, nsections, 0, 0, 0, opt_size, 0x2022)
    opt = bytearray(0xF0)
    struct.pack_into("<H", opt, 0, magic)
    struct.pack_into("<I", opt, 92 if magic == 0x10B else 108, ndirs)
    for i in range(16):  # wild data directories (CLR is 14, load config 10, imports 1, delay 13)
        base = (96 if magic == 0x10B else 112) + 8 * i
        if base + 8 <= len(opt):
            struct.pack_into("<II", opt, base, draw(st.integers(0, 0xFFFFFFFF)), draw(st.integers(0, 0xFFFFFFFF)))
    sections = b"".join(
        struct.pack("<8sIIIIIIHHI", b".text", draw(st.integers(0, 0xFFFFFFFF)), draw(st.integers(0, 0xFFFFFFFF)),
                    draw(st.integers(0, 0xFFFFFFFF)), draw(st.integers(0, 0xFFFFFFFF)), 0, 0, 0, 0, 0)
        for _ in range(draw(st.integers(0, 4)))
    )
    tail = draw(st.binary(max_size=2048))
    pad = b"\0" * (0x40 if e_lfanew == 0x80 else 0)
    return bytes(dos) + pad + coff + bytes(opt[:opt_size]) + sections + tail


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pe_like())
def test_pe_shaped_bytes(data: bytes) -> None:
    _check_total(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metadata_mutated())
def test_hostile_metadata_tables(data: bytes) -> None:
    """Real assemblies whose metadata (stream headers, row counts, heap offsets) is corrupted: the
    metadata reader answers in bounded time and memory, like the header reader."""
    _check_total(data)
    info = assembly_info_from_bytes(data, "<h>")
    assert info.reason is None or info.reason.startswith(("metadata unreadable: ", "no .NET metadata"))


def _sparse(path: Path, size: int, head: bytes) -> Path:
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
    return path


@pytest.mark.parametrize("head_from", ["managed_anycpu.dll", "isapi_ext_x64.dll", "corrupt_truncated.dll"])
def test_2gb_sparse_file_is_not_read_whole(tmp_path: Path, head_from: str) -> None:
    head = (PE_BIN / head_from).read_bytes()[:4096]
    big = _sparse(tmp_path / "huge.dll", 2 << 30, head)
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        img = read_image(big)
        read_imports(big)
        info = read_assembly_info(big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - t0 < 2
    assert peak < 2 * MAX_METADATA_FILE + (8 << 20), "a 2 GB file was read beyond the metadata cap"
    assert isinstance(img, PeImage)
    assert info.reason and "metadata not read" in info.reason


def test_scan_of_image_with_2gb_bin_dll(tmp_path: Path) -> None:
    """End to end: a 2 GB sparse DLL in a site's bin does not stall or blow up the scan."""
    import json

    from hostile_helpers import healthy, make_image, run

    image = make_image(tmp_path / "img")
    _sparse(image / "inetpub/main/bin/Huge.dll", 2 << 30, (PE_BIN / "managed_x86.dll").read_bytes()[:4096])
    t0 = time.monotonic()
    r = run("scan", image, "--format", "json")
    assert time.monotonic() - t0 < 10
    assert r.exit_code == 1, r.output
    assert healthy(json.loads(r.output))


def _within(seconds: float, fn: object) -> object:
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it does not return in time."""
    import threading

    out: list[object] = []

    def call() -> None:
        try:
            out.append(fn())  # type: ignore[operator]
        except Exception as e:  # noqa: BLE001 - handed back to the test
            out.append(e)

    t = threading.Thread(target=call, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still running after {seconds} s (blocked on a FIFO?)"
    return out[0]


def test_fifo_is_not_waited_on(tmp_path: Path) -> None:
    """A FIFO where a DLL should be: a blocking open() would wait forever for a writer."""
    from hostile_helpers import apphost, make_image, run

    fifo = tmp_path / "pipe.dll"
    os.mkfifo(fifo)
    from iisbitness.errors import ImageReadError

    assert isinstance(_within(5, lambda: read_image(fifo)), (PeImage, ImageReadError))
    got = _within(5, lambda: read_imports(fifo))
    assert not isinstance(got, Exception) or isinstance(got, ImageReadError)
    info = _within(5, lambda: read_assembly_info(fifo))
    assert info is not None and info.reason  # type: ignore[attr-defined]
    r = _within(10, lambda: run("inspect", "--format", "json", tmp_path))
    assert r.exit_code in (0, 2)  # type: ignore[attr-defined]
    image = make_image(tmp_path / "img")
    os.mkfifo(image / "Windows/System32/inetsrv/fifo.dll")
    os.mkfifo(image / "inetpub/main/bin/Fifo.dll")
    (image / "Windows/System32/inetsrv/config/applicationHost.config").write_text(
        apphost(extra_modules='<add name="FifoMod" image="%windir%\\System32\\inetsrv\\fifo.dll" />'))
    r = _within(10, lambda: run("scan", image))
    assert r.exit_code == 1  # type: ignore[attr-defined]


def test_nothing_is_executed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No subprocess, no exec, no dlopen while classifying every fixture and scanning."""
    import ctypes
    import subprocess

    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("iisbitness tried to run or load something")

    monkeypatch.setattr(subprocess, "Popen", boom)
    monkeypatch.setattr(os, "system", boom)
    monkeypatch.setattr(os, "execv", boom)
    monkeypatch.setattr(os, "posix_spawn", boom)
    monkeypatch.setattr(ctypes, "CDLL", boom)
    monkeypatch.setattr(ctypes.cdll, "LoadLibrary", boom)
    for f in sorted(PE_BIN.iterdir()):
        read_image(f)
        read_assembly_info(f)
    from hostile_helpers import make_image, run

    assert run("scan", make_image(tmp_path / "img")).exit_code == 1


MANIFEST = json.loads((FIXTURES / "MANIFEST.json").read_text())


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_fuzz_corpus_regressions(name: str) -> None:
    """Inputs kept from the fuzzing runs (fuzz/fuzz_pe.py): the smallest input for each distinct outcome
    of the two readers. None crashed; they pin that every one still gets an answer, the same one whether
    read from bytes or from a file, and the same kind as when they were recorded."""
    path = FIXTURES / name
    img = _check_total(path.read_bytes())
    assert img.kind.value == MANIFEST[name]["kind"]
    from_file = read_image(path)
    assert (from_file.kind, from_file.reason, from_file.loadable_by) == (img.kind, img.reason, img.loadable_by)
    info = read_assembly_info(path)
    assert (info.reason is None) == (MANIFEST[name]["metadata"] is None)


CRASHES = sorted(FIXTURES.glob("crash-*"))


@pytest.mark.skipif(not CRASHES, reason="the fuzzer has found no crashing input so far (see SECURITY.md)")
@pytest.mark.parametrize("path", CRASHES or [None], ids=[p.name for p in CRASHES] or ["none"])
def test_fuzz_crash_regressions(path: Path) -> None:
    """Every input the fuzzer found crashing (saved as crash-<sha1>) now gives an answer."""
    _check_total(path.read_bytes())
    assert isinstance(read_image(path), PeImage)
