"""Our reader against pefile and dnfile on every manifest entry: machine, magic, CorFlags, Subsystem and the
optional header's operating system and subsystem versions.

pefile and dnfile are test-only dependencies (pe/metadata.py has its own reader since issue 11).
"""

from __future__ import annotations

from typing import Any

import dnfile
import pefile  # type: ignore[import-untyped]
import pytest
from pe_fixtures import BIN

from iisbitness.pe.classify import read_image
from iisbitness.pe.imports import read_imports


def test_against_pefile_and_dnfile(entry: tuple[str, dict[str, Any]]) -> None:
    key, e = entry
    path = BIN / e["file"]
    ours = read_image(path)
    try:
        pe = pefile.PE(str(path), fast_load=True)
    except pefile.PEFormatError:
        assert not ours.is_pe, f"pefile rejects {key}, we accept it"
        return
    if not ours.is_pe:
        # NOTE: pefile is more lenient than the Windows loader (it parses 0xFFFF sections and a
        # CLR directory outside the file); our NOT_PE must then be a manifest decision.
        assert e["kind"] == "not-pe"
        return
    assert ours.machine == pe.FILE_HEADER.Machine == e["machine"]
    assert ours.pe32_plus == (pe.OPTIONAL_HEADER.Magic == 0x20B) == e["pe32_plus"]
    assert ours.is_dll == pe.is_dll()
    opt = pe.OPTIONAL_HEADER
    assert ours.subsystem == opt.Subsystem
    assert ours.os_version == (opt.MajorOperatingSystemVersion, opt.MinorOperatingSystemVersion)
    assert ours.subsystem_version == (opt.MajorSubsystemVersion, opt.MinorSubsystemVersion)
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG"]])
    load_config = getattr(pe, "DIRECTORY_ENTRY_LOAD_CONFIG", None)
    chpe = getattr(load_config.struct, "CHPEMetadataPointer", 0) if load_config is not None else 0
    assert (ours.hybrid is not None) == bool(chpe), f"{key}: CHPEMetadataPointer {chpe:#x}, ours {ours.hybrid}"
    if ours.cor_flags is None:
        assert pe.OPTIONAL_HEADER.DATA_DIRECTORY[14].VirtualAddress == 0
        return
    dn = dnfile.dnPE(str(path))  # type: ignore[no-untyped-call]
    assert dn.net is not None and dn.net.metadata is not None
    assert ours.cor_flags == dn.net.struct.Flags == e["cor_flags"]
    version = dn.net.metadata.struct.Version.rstrip(b"\0").decode()
    assert ours.clr_version == version


@pytest.mark.parametrize("name", ["chain_top_x64.dll", "chain_delay_x64.dll", "ManagedApp.dll", "isapi_ext_x86.dll"])
def test_imports_against_pefile(name: str) -> None:
    pe = pefile.PE(str(BIN / name))
    theirs = tuple(i.dll.decode() for i in getattr(pe, "DIRECTORY_ENTRY_IMPORT", []))
    delay = tuple(i.dll.decode() for i in getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", []))
    ours = read_imports(BIN / name)
    assert (ours.dlls, ours.delay_dlls, ours.truncated) == (theirs, delay, False)
