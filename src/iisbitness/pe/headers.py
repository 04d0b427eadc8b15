"""DOS, COFF and optional headers and the section table: :func:`parse_headers`.

Layout: "PE Format" (MicrosoftDocs/win32 ``desktop-src/Debug/pe-format.md``), facts sheet I1/I2.
Only the fields iisbitness needs are kept. Shapes are NamedTuples, not dataclasses.

NOTE: NamedTuple rather than a frozen dataclass because one is built per scanned file and tuple
construction is several times cheaper; they are just as immutable.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from iisbitness.pe.source import InvalidPe, Source

MACHINE_UNKNOWN = 0x0
MACHINE_I386 = 0x014C
MACHINE_ARM = 0x01C0
MACHINE_ARMNT = 0x01C4
MACHINE_IA64 = 0x0200
MACHINE_EBC = 0x0EBC
MACHINE_AMD64 = 0x8664
MACHINE_ARM64 = 0xAA64

MACHINE_NAMES: dict[int, str] = {
    MACHINE_UNKNOWN: "unknown",
    MACHINE_I386: "I386",
    MACHINE_ARM: "ARM",
    MACHINE_ARMNT: "ARMNT",
    MACHINE_IA64: "IA64",
    MACHINE_EBC: "EBC",
    MACHINE_AMD64: "AMD64",
    MACHINE_ARM64: "ARM64",
}
"""COFF Machine values by the names of winnt.h's ``IMAGE_FILE_MACHINE_*`` (without the prefix)."""

KNOWN_MACHINES = {m: m for m in MACHINE_NAMES}
"""NOTE: one int object per known Machine value, kept by every image's headers instead of one per file (0x14C and
0x8664 are above CPython's cached small ints; 100,000 images, 3 MB: issue 25, memory)."""

MAX_SECTIONS = 96
"""pe-format.md: "the Windows loader limits the number of sections to 96"."""

IMAGE_FILE_DLL = 0x2000

DIR_EXPORT, DIR_IMPORT, DIR_LOAD_CONFIG, DIR_DELAY_IMPORT, DIR_CLR = 0, 1, 10, 13, 14
"""Data-directory indexes (pe-format.md "Optional Header Data Directories")."""

_COFF = struct.Struct("<4sHHIIIHH")
# ImageBase, FileAlignment, Major/MinorOperatingSystemVersion, Major/MinorSubsystemVersion, SizeOfHeaders, Subsystem
# from the optional header, in one unpack (pe-format.md "Optional Header Windows-Specific Fields": offsets 40-51 are
# the same in PE32 and PE32+).
_OPT32 = struct.Struct("<28xI4xIHH4xHH8xI4xH")
_OPT64 = struct.Struct("<24xQ4xIHH4xHH8xI4xH")
_SECTION = struct.Struct("<IIII")  # VirtualSize, VirtualAddress, SizeOfRawData, PointerToRawData (at +8)


class Headers(NamedTuple):
    """What the headers say, before any data directory is followed.

    Attributes:
        machine: COFF Machine (e.g. 0x8664).
        characteristics: COFF Characteristics (IMAGE_FILE_DLL is 0x2000).
        pe32_plus: optional-header magic 0x20B (True) or 0x10B (False).
        subsystem: optional-header Subsystem (2 GUI, 3 console, 10-13 EFI).
        size_of_headers: SizeOfHeaders; RVAs below it map to the same file offset.
        file_alignment: FileAlignment.
        image_base: ImageBase (old-style delay-load descriptors hold VAs, not RVAs).
        directories: (rva, size) per data directory, at most 16, as many as the header holds.
        section_table: the raw section table, ``nsections * 40`` bytes.
        os_version: (MajorOperatingSystemVersion, MinorOperatingSystemVersion): "the major/minor version number of
            the required operating system" (pe-format.md).
        subsystem_version: (MajorSubsystemVersion, MinorSubsystemVersion): the linker's ``/SUBSYSTEM:...,major.minor``,
            "the minimum required version of the subsystem" (MSVC ``/SUBSYSTEM`` reference).
    """

    machine: int
    characteristics: int
    pe32_plus: bool
    subsystem: int
    size_of_headers: int
    file_alignment: int
    image_base: int
    directories: tuple[tuple[int, int], ...]
    section_table: bytes
    os_version: tuple[int, int] = (0, 0)
    subsystem_version: tuple[int, int] = (0, 0)

    @property
    def is_dll(self) -> bool:
        """COFF characteristic IMAGE_FILE_DLL."""
        return bool(self.characteristics & IMAGE_FILE_DLL)

    def directory(self, index: int) -> tuple[int, int]:
        """(rva, size) of data directory ``index``, or (0, 0) when the header has fewer."""
        return self.directories[index] if index < len(self.directories) else (0, 0)

    def rva_to_offset(self, rva: int, what: str = "data") -> int:
        """File offset of ``rva``.

        Raises:
            InvalidPe: the RVA is in no section, or in a section's zero-filled tail (not in the file).
        """
        table = self.section_table
        offset = file_offset(table, 0, len(table), rva, self.size_of_headers, self.file_alignment)
        if offset >= 0:
            return offset
        if offset == IN_TAIL:
            raise InvalidPe(f"{what} RVA {rva:#x} is in the uninitialised tail of a section")
        raise InvalidPe(f"{what} RVA {rva:#x} is in no section")


IN_NO_SECTION, IN_TAIL = -1, -2
"""What :func:`file_offset` gives for an RVA in no section, and for one in a section's zero-filled tail."""


def file_offset(table: bytes, start: int, end: int, rva: int, size_of_headers: int, file_alignment: int) -> int:
    """File offset of ``rva`` by the section table in ``table[start:end]`` (:meth:`Headers.rva_to_offset` without
    a Headers, for the scan's read: :func:`iisbitness.pe.classify.read_image_and_references`); :data:`IN_NO_SECTION`
    or :data:`IN_TAIL` when it is not in the file."""
    if rva < size_of_headers:
        return rva
    for i in range(start + 8, end, 40):
        vsize, vaddr, rawsize, rawptr = _SECTION.unpack_from(table, i)
        delta: int = rva - vaddr
        if 0 <= delta < (vsize or rawsize):
            if delta >= rawsize:
                return IN_TAIL
            # NOTE: the loader rounds PointerToRawData down to a multiple of 512 unless the
            # image uses a smaller FileAlignment; pefile's adjust_FileAlignment does the same.
            if file_alignment >= 0x200:
                rawptr &= ~0x1FF
            return int(rawptr) + delta
    return IN_NO_SECTION


def parse_headers(src: Source) -> Headers:
    """Read and check the DOS, COFF and optional headers and the section table.

    Raises:
        InvalidPe: with the reason, e.g. "empty file", "no MZ signature", "no PE signature at
            e_lfanew 0x80", "unknown optional-header magic 0x107", "NumberOfSections 65535 exceeds
            the Windows loader limit of 96".
    """
    head = src.head
    if len(head) < 64:
        raise InvalidPe(f"file too small for a DOS header ({len(head)} bytes)" if head else "empty file")
    if head[:2] != b"MZ":
        raise InvalidPe("no MZ signature")
    (e_lfanew,) = struct.unpack_from("<I", head, 0x3C)
    if e_lfanew + 24 > len(head) and e_lfanew + 24 > src.size:
        raise InvalidPe(f"e_lfanew {e_lfanew:#x} points past the end of the file ({src.size} bytes)")
    # NOTE: slices of the head where the structure lies inside it (nearly always), else read_at:
    # the same bytes, without a call per structure (issue 11).
    sig, machine, nsections, _, _, _, opt_size, characteristics = _COFF.unpack(
        head[e_lfanew : e_lfanew + 24] if e_lfanew + 24 <= len(head) else src.read_at(e_lfanew, 24, "COFF header")
    )
    if sig != b"PE\0\0":
        raise InvalidPe(f"no PE signature at e_lfanew {e_lfanew:#x}")
    if nsections > MAX_SECTIONS:
        raise InvalidPe(f"NumberOfSections {nsections} exceeds the Windows loader limit of {MAX_SECTIONS}")
    opt_off = e_lfanew + 24
    if opt_size < 2:
        raise InvalidPe(f"SizeOfOptionalHeader {opt_size} leaves no optional header")
    # NOTE: the optional header is read once, as far as the data directories go (or to the end of
    # the head, where a short file must still give the exact reasons below); the magic comes first.
    want = min(opt_size, 240)
    opt = head[opt_off : opt_off + want] if opt_off + want <= len(head) else src.read_at(opt_off, 2, "optional header")
    (magic,) = struct.unpack_from("<H", opt)
    if magic not in (0x10B, 0x20B):
        raise InvalidPe(f"unknown optional-header magic {magic:#x}")
    pe32_plus = magic == 0x20B
    dd_off = 112 if pe32_plus else 96
    if opt_size < dd_off:
        raise InvalidPe(f"SizeOfOptionalHeader {opt_size} is too small for a {'PE32+' if pe32_plus else 'PE32'} header")
    if len(opt) < min(opt_size, dd_off + 16 * 8):
        opt = src.read_at(opt_off, min(opt_size, dd_off + 16 * 8), "optional header")
    else:
        opt = opt[: min(opt_size, dd_off + 16 * 8)]
    (image_base, file_alignment, os_major, os_minor, sub_major, sub_minor, size_of_headers,
     subsystem) = (_OPT64 if pe32_plus else _OPT32).unpack_from(opt)
    (ndirs,) = struct.unpack_from("<I", opt, dd_off - 4)
    ndirs = min(ndirs, 16, (len(opt) - dd_off) // 8)
    dirs = tuple(struct.iter_unpack("<II", opt[dd_off : dd_off + 8 * ndirs]))
    table_off, table_end = opt_off + opt_size, opt_off + opt_size + nsections * 40
    if table_end <= len(head) or not nsections:
        table = head[table_off:table_end]
    else:
        table = src.read_at(table_off, nsections * 40, "section table")
    return Headers(
        KNOWN_MACHINES.get(machine, machine), characteristics, pe32_plus, subsystem, size_of_headers, file_alignment,
        image_base, dirs, table, version_pair(os_major, os_minor), version_pair(sub_major, sub_minor),
    )


_VERSION_PAIRS: dict[int, tuple[int, int]] = {}
"""NOTE: one tuple per (major, minor) seen, shared by every image's headers: a server's binaries carry a handful
(4.0, 5.1, 5.2, 6.0, 10.0); a tuple each would be 56 bytes per image (issue 25, memory)."""


def version_pair(major: int, minor: int) -> tuple[int, int]:
    """``(major, minor)`` (16-bit each, as the optional header holds them), the one shared tuple of that value
    (:data:`_VERSION_PAIRS`, at most 4,096 kept)."""
    key = major << 16 | minor  # NOTE: an int key: no tuple built to look one up
    pair = _VERSION_PAIRS.get(key)
    if pair is None:
        pair = (major, minor)
        if len(_VERSION_PAIRS) < 4096:
            _VERSION_PAIRS[key] = pair
    return pair


def machine_name(machine: int | None) -> str:
    """``"AMD64"`` for 0x8664 and so on; ``"0x1234"`` for a value winnt.h does not name here."""
    if machine is None:
        return "none"
    return MACHINE_NAMES.get(machine, f"{machine:#x}")
