"""dnfile-backed metadata and our import reader on real fixtures."""

from __future__ import annotations

from pe_fixtures import BIN

from iisbitness.pe.classify import read_image_and_assembly, read_image_and_references
from iisbitness.pe.imports import read_imports
from iisbitness.pe.metadata import AssemblyReferences, read_assembly_info, read_assembly_references


def test_managed_app_metadata() -> None:
    info = read_assembly_info(BIN / "ManagedApp.dll")
    assert info.reason is None
    assert info.name == "ManagedApp"
    assert info.target_framework == ".NETFramework,Version=v4.7.2"
    assert [r.name for r in info.assembly_refs] == ["mscorlib", "managed_x86"]
    assert info.pinvoke_modules == ("nativelib",)
    assert not info.is_reference_assembly


def test_reference_assembly() -> None:
    assert read_assembly_info(BIN / "managed_refasm.dll").is_reference_assembly


def test_broken_metadata_gives_reason() -> None:
    for name in ("corrupt_clr_outside.dll", "not_pe.txt", "corrupt_empty.bin", "isapi_ext_x64.dll"):
        info = read_assembly_info(BIN / name)
        assert info.reason and info.name is None


def test_references_are_those_of_the_full_read() -> None:
    """What a scan reads (references only) equals that part of what inspect reads, for every fixture."""
    for f in sorted(p for p in BIN.iterdir() if p.is_file()):
        assert read_assembly_references(f) == AssemblyReferences.of(read_assembly_info(f)), f.name
        image, info, error = read_image_and_assembly(f)
        assert read_image_and_references(f) == (image, AssemblyReferences.of(info) if info else None, error), f.name


def test_imports_of_corrupt_files_are_empty() -> None:
    for name in ("corrupt_truncated.dll", "not_pe.txt", "corrupt_many_sections.dll"):
        assert read_imports(BIN / name).dlls == ()
