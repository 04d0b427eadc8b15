"""Helpers for the PE tests: the fixture manifest and byte-patching of real fixtures.

NOTE: a plain module, not conftest.py, because tests/ has no __init__.py and pytest puts this
folder on sys.path (rootdir "prepend" import mode), so tests import it by name.
"""

from __future__ import annotations

import struct
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from iisbitness.pe.clr import read_cor20
from iisbitness.pe.headers import parse_headers
from iisbitness.pe.source import Source

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pe"
BIN = FIXTURES / "bin"
MANIFEST: dict[str, dict[str, Any]] = tomllib.loads((FIXTURES / "manifest.toml").read_text())


def pe_offsets(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """(e_lfanew, data-directory offset, sections as (vsize, va, rawsize, rawptr))."""
    lfanew = struct.unpack_from("<I", data, 0x3C)[0]
    nsec = struct.unpack_from("<H", data, lfanew + 6)[0]
    opt_size = struct.unpack_from("<H", data, lfanew + 20)[0]
    opt = lfanew + 24
    magic = struct.unpack_from("<H", data, opt)[0]
    dirs = opt + (112 if magic == 0x20B else 96)
    secs = [struct.unpack_from("<IIII", data, opt + opt_size + 40 * i + 8) for i in range(nsec)]
    return lfanew, dirs, secs


def make_ready_to_run(machine: int, base: str = "managed_x64.dll") -> bytes:
    """A copy of a real managed fixture given a READYTORUN header and the COFF Machine ``machine``.

    The 16-byte header overwrites the last bytes of the COR20 header's section (tests only read
    headers); the COR20 ManagedNativeHeader is pointed at it.
    """
    data = bytearray((BIN / base).read_bytes())
    lfanew, dirs, secs = pe_offsets(bytes(data))
    cor_rva = struct.unpack_from("<I", data, dirs + 14 * 8)[0]
    vsize, va, rawsize, rawptr = next(s for s in secs if s[1] <= cor_rva < s[1] + max(s[0], s[2]))
    cor_off = rawptr + cor_rva - va
    rtr_rva = va + min(vsize, rawsize) - 16
    struct.pack_into("<IHHI", data, rawptr + rtr_rva - va, 0x00525452, 9, 2, 0)
    struct.pack_into("<II", data, cor_off + 64, rtr_rva, 16)
    struct.pack_into("<H", data, lfanew + 4, machine)
    return bytes(data)


def _metadata_span(data: bytes) -> tuple[int, int]:
    """(file offset, size) of the metadata region of a managed fixture."""
    src = Source.from_bytes(data)
    headers = parse_headers(src)
    rva, size = read_cor20(src, headers).metadata
    return headers.rva_to_offset(rva), size


MANAGED = [
    (BIN / name).read_bytes()
    for name in ("managed_anycpu.dll", "ManagedApp.dll", "managed_refasm.dll", "managed_anycpu32bitpreferred.exe")
]


@st.composite
def metadata_mutated(draw: st.DrawFn) -> bytes:
    """A managed fixture whose metadata region (root, stream headers, #~ header, rows, heaps) is hit:
    byte flips inside it, and 32-bit words (offsets, sizes, row counts) set to extreme values."""
    data = bytearray(draw(st.sampled_from(MANAGED)))
    start, size = _metadata_span(bytes(data))
    for _ in range(draw(st.integers(1, 6))):
        pos = start + draw(st.integers(0, size - 1))
        if draw(st.booleans()) and pos + 4 <= len(data):
            word = draw(st.sampled_from([0, 1, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF, draw(st.integers(0, 1 << 32))]))
            data[pos : pos + 4] = (word & 0xFFFFFFFF).to_bytes(4, "little")
        else:
            data[pos] = draw(st.integers(0, 255))
    return bytes(data)
