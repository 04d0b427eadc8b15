"""Build a small SOFTWARE registry hive with COM registrations, for tests and the demo image.

Test/build-only tool (not part of the package). Two steps:

1. ``seed_hive``: a minimal, empty REGF file written here (base block, one hive bin, a root ``nk``
   cell, one ``sk`` cell with a NULL DACL, and free space). No writer on PyPI could create a hive,
   and hivex (libguestfs, the well-kept writer) opens only existing hives, so the seed is written by
   hand after the format description in libyal's "Windows NT Registry File (REGF) format"
   (base block: "regf", sequence numbers, version 1.5, root cell offset, hive-bins size, XOR
   checksum at 0x1FC; hive bin: "hbin"; cells: negative size = allocated, 8-byte aligned).
2. The keys and values are then written with hivex (Debian ``python3-hivex``), so every cell the
   readers meet was laid out by hivex, and the result is read back with regipy.

Usage: ``/usr/bin/python3 tools/build_com_hive.py OUT [--demo]`` (hivex's Python binding is
installed for the Debian python3). The registrations are listed in :data:`REGISTRATIONS`.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

# ProgID, CLSID, {view: (server kind, path)}; view "64" = SOFTWARE\Classes\CLSID,
# "32" = SOFTWARE\WOW6432Node\Classes\CLSID (the 32-bit registry view, facts E3).
REGISTRATIONS: tuple[tuple[str, str, dict[str, tuple[str, str]]], ...] = (
    # Registered with SysWOW64\regsvr32.exe only: invisible to 64-bit workers.
    ("Contoso.PdfStamp", "{6F1C9A3E-2B7D-4E10-9C55-3A8E5D2B1F01}",
     {"32": ("InprocServer32", r"C:\Program Files (x86)\Contoso\PdfStamp\pdfstamp.dll")}),
    # Registered in the 64-bit view, but the DLL there is a 32-bit build.
    ("Contoso.Barcode", "{6F1C9A3E-2B7D-4E10-9C55-3A8E5D2B1F02}",
     {"64": ("InprocServer32", r"C:\Program Files\Contoso\Barcode\barcode.dll")}),
    # Both views, each with its own build: fits every worker.
    ("Contoso.Mailer", "{6F1C9A3E-2B7D-4E10-9C55-3A8E5D2B1F03}",
     {"64": ("InprocServer32", r"C:\Program Files\Contoso\Mailer\mailer.dll"),
      "32": ("InprocServer32", r"C:\Program Files (x86)\Contoso\Mailer\mailer.dll")}),
    # An out-of-process (EXE) server: any bitness works.
    ("Contoso.Reporter", "{6F1C9A3E-2B7D-4E10-9C55-3A8E5D2B1F04}",
     {"32": ("LocalServer32", r"C:\Program Files (x86)\Contoso\Reporter\reporter.exe")}),
)

REG_SZ, REG_EXPAND_SZ = 1, 2


def _cell(payload: bytes) -> bytes:
    size = (len(payload) + 4 + 7) & ~7
    return struct.pack("<i", -size) + payload.ljust(size - 4, b"\0")


def seed_hive(name: str = "SOFTWARE") -> bytes:
    """A minimal empty hive: root key ``ROOT`` (as in real hives' root cell) and nothing else."""
    root_off, sk_off = 0x20, 0x20 + 0x58  # offsets relative to the first hive bin
    nk = (b"nk" + struct.pack("<H", 0x2C)  # KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME
          + struct.pack("<QIIIIIIIIII", 0, 0, 0, 0, 0, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0xFFFFFFFF, sk_off, 0xFFFFFFFF)
          + struct.pack("<IIIII", 0, 0, 0, 0, 0) + struct.pack("<HH", 4, 0) + b"ROOT")
    nk_cell = _cell(nk)
    assert len(nk_cell) == 0x58, len(nk_cell)
    sd = struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 0)  # self-relative, DACL present, NULL DACL
    sk = b"sk" + struct.pack("<HIIII", 0, sk_off, sk_off, 1, len(sd)) + sd
    cells = nk_cell + _cell(sk)
    hbin_size = 4096
    free = hbin_size - 32 - len(cells)
    hbin = (b"hbin" + struct.pack("<IIQQI", 0, hbin_size, 0, 0, 0) + cells + struct.pack("<i", free)
            + b"\0" * (free - 4))
    base = bytearray(4096)
    struct.pack_into("<4sIIQIIIIIII", base, 0, b"regf", 1, 1, 0, 1, 5, 0, 1, root_off, hbin_size, 1)
    fname = name.encode("utf-16-le")[:64]
    base[0x30:0x30 + len(fname)] = fname
    checksum = 0
    for (word,) in struct.iter_unpack("<I", bytes(base[:0x1FC])):
        checksum ^= word
    checksum = {0: 1, 0xFFFFFFFF: 0xFFFFFFFE}.get(checksum, checksum)
    struct.pack_into("<I", base, 0x1FC, checksum)
    return bytes(base) + hbin


def _sz(text: str) -> bytes:
    return (text + "\0").encode("utf-16-le")


def build(out: Path) -> None:
    """Write the seed, then the COM registrations with hivex, to ``out``."""
    import hivex  # type: ignore[import-not-found]  # Debian python3-hivex

    out.write_bytes(seed_hive())
    h = hivex.Hivex(str(out), write=True)

    def child(parent: int, name: str) -> int:
        return int(h.node_get_child(parent, name) or h.node_add_child(parent, name))

    def path(*names: str) -> int:
        node = int(h.root())
        for n in names:
            node = child(node, n)
        return node

    for progid, clsid, views in REGISTRATIONS:
        h.node_set_value(path("Classes", progid), {"key": "", "t": REG_SZ, "value": _sz(progid)})
        h.node_set_value(path("Classes", progid, "CLSID"), {"key": "", "t": REG_SZ, "value": _sz(clsid)})
        for view, (kind, server) in views.items():
            base = ("Classes", "CLSID") if view == "64" else ("WOW6432Node", "Classes", "CLSID")
            h.node_set_value(path(*base, clsid), {"key": "", "t": REG_SZ, "value": _sz(progid)})
            h.node_set_value(path(*base, clsid, "ProgID"), {"key": "", "t": REG_SZ, "value": _sz(progid)})
            srv = path(*base, clsid, kind)
            h.node_set_values(srv, [{"key": "", "t": REG_EXPAND_SZ, "value": _sz(server)},
                                    {"key": "ThreadingModel", "t": REG_SZ, "value": _sz("Apartment")}])
    h.commit(str(out))


if __name__ == "__main__":
    build(Path(sys.argv[1]))
