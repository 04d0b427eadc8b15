"""Helpers for the PE tests: the fixture manifest and byte-patching of real fixtures.

NOTE: a plain module, not conftest.py, because tests/ has no __init__.py and pytest puts this
folder on sys.path (rootdir "prepend" import mode), so tests import it by name.
"""

from __future__ import annotations

import struct
import tomllib
from pathlib import Path
from typing import Any

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
