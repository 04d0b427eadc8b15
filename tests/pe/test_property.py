"""Property tests: truncations and byte flips of real fixtures never make the reader raise."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pe_fixtures import BIN, metadata_mutated

from iisbitness.pe.classify import classify_bytes
from iisbitness.pe.headers import parse_headers
from iisbitness.pe.imports import imports_from
from iisbitness.pe.metadata import assembly_info_from_bytes
from iisbitness.pe.source import InvalidPe, Source

pytestmark = pytest.mark.property

SAMPLES = [
    (BIN / name).read_bytes()
    for name in (
        "managed_anycpu.dll", "managed_x64.dll", "ManagedApp.dll", "chain_top_x64.dll", "chain_delay_x64.dll",
        "isapi_ext_x86.dll", "isapi_ext_arm64.dll", "hybrid_arm64x_marker.dll", "apphost_x86.exe",
    )
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(0, 8))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def _check(data: bytes) -> None:
    start = time.thread_time()  # this thread's CPU: neither other processes nor this one's other threads count
    img = classify_bytes(data)
    assert time.thread_time() - start < 0.25
    assert img.is_pe or (img.reason or "").startswith("not a valid PE: ")
    src = Source.from_bytes(data)
    try:
        headers = parse_headers(src)
    except InvalidPe:
        return
    imports_from(src, headers)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_fixtures_never_raise(data: bytes) -> None:
    _check(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise(data: bytes) -> None:
    _check(b"MZ" + data)
    _check(data)


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_metadata_never_raises(data: bytes) -> None:
    info = assembly_info_from_bytes(data)
    assert info.reason is None or info.reason


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metadata_mutated())
def test_metadata_mutations_never_raise(data: bytes) -> None:
    start = time.thread_time()  # this thread's CPU: neither other processes nor this one's other threads count
    info = assembly_info_from_bytes(data)
    assert time.thread_time() - start < 0.25
    assert info.reason is None or info.reason.startswith(("metadata unreadable: ", "no .NET metadata"))
    assert info.reason is None or info.name is None
