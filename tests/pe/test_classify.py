"""read_image against every fixture in manifest.toml, plus the cases fixtures cannot cover."""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path
from typing import Any

import pytest
from pe_fixtures import BIN, MANIFEST, make_ready_to_run, pe_offsets

from iisbitness.arch import Arch
from iisbitness.errors import ImageReadError
from iisbitness.pe.classify import classify_bytes, off_arm, on_os, read_image
from iisbitness.pe.clr import bitness_field, cor_flag_names, corflags_view
from iisbitness.pe.readytorun import decode_machine
from iisbitness.pe.types import Hybrid, ImageKind, PlatformTarget


def test_manifest_entry(entry: tuple[str, dict[str, Any]]) -> None:
    _, e = entry
    img = read_image(BIN / e["file"])
    assert img.kind.value == e["kind"], img.reason
    assert img.machine == e.get("machine")
    assert img.pe32_plus == e.get("pe32_plus")
    assert img.cor_flags == e.get("cor_flags")
    assert img.platform_target.value == e["platform_target"]
    assert img.loadable_by == frozenset(Arch(a) for a in e["loadable_by"])
    if "is_dll" in e:
        assert img.is_dll == e["is_dll"]
    if e["kind"] == "not-pe":
        assert img.reason and img.reason.startswith("not a valid PE: ")
    else:
        assert img.reason is None


def test_every_bin_file_is_in_the_manifest() -> None:
    assert {p.name for p in BIN.iterdir()} == {e["file"] for e in MANIFEST.values()}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("corrupt_empty.bin", "not a valid PE: empty file"),
        ("not_pe.txt", "not a valid PE: no MZ signature"),
        ("corrupt_mz_only.dll", "not a valid PE: e_lfanew 0xffffff00 points past the end of the file (64 bytes)"),
        ("corrupt_many_sections.dll", "not a valid PE: NumberOfSections 65535 exceeds the Windows loader limit of 96"),
        ("corrupt_clr_outside.dll", "not a valid PE: CLR header RVA 0x7fff0000 is in no section"),
    ],
)
def test_not_pe_reasons(name: str, reason: str) -> None:
    assert read_image(BIN / name).reason == reason


def test_truncated_reason() -> None:
    reason = read_image(BIN / "corrupt_truncated.dll").reason
    assert reason is not None and reason.startswith("not a valid PE: truncated: optional header")


def test_hybrid_markers() -> None:
    x = read_image(BIN / "hybrid_arm64x_marker.dll")
    ec = read_image(BIN / "hybrid_arm64ec_marker.dll")
    assert (x.hybrid, x.loadable_by) == (Hybrid.ARM64X, frozenset({Arch.X64, Arch.ARM64}))
    assert (ec.hybrid, ec.loadable_by) == (Hybrid.ARM64EC, frozenset({Arch.X64}))
    assert read_image(BIN / "isapi_ext_arm64.dll").hybrid is None


def test_real_hybrids_from_lld() -> None:
    """Real linker output (lld 22, build.sh), not markers: /machine:arm64x gives COFF Machine ARM64 and lld points the
    native load config at the EC half's CHPE metadata; /machine:arm64ec gives Machine AMD64 with CHPE metadata. The
    reading is llvm-readobj's (COFFObjectFile::getMachine: AMD64 + CHPE metadata is ARM64EC, ARM64 + CHPE is
    ARM64X)."""
    x = read_image(BIN / "nativelib_arm64x.dll")
    ec = read_image(BIN / "nativelib_arm64ec.dll")
    assert (x.machine, x.hybrid, x.platform_target) == (0xAA64, Hybrid.ARM64X, PlatformTarget.ARM64X)
    assert (ec.machine, ec.hybrid, ec.platform_target) == (0x8664, Hybrid.ARM64EC, PlatformTarget.ARM64EC)


def test_required_windows(entry: tuple[str, dict[str, Any]]) -> None:
    """The newer of the optional header's operating system and subsystem versions: 6.0 where build.sh linked a
    fixture for Vista / Server 2008 (``required_windows`` in the manifest); GNU ld's defaults (4.0 for x86, 5.2 for
    x64) and mcs's 4.0 elsewhere, never above 5.2 but for lld's ARM64 images (6.0, lld's default there)."""
    _, e = entry
    image = read_image(BIN / e["file"])
    if not image.is_pe:
        assert (image.os_version, image.subsystem_version, image.required_windows) == (None, None, None)
        return
    want = e.get("required_windows")
    if want is not None:
        assert image.required_windows == tuple(want) and image.os_version == image.subsystem_version == (6, 0)
    else:
        assert image.required_windows is not None
        assert image.required_windows <= (5, 2) or image.machine == 0xAA64 or e["file"] in _LLD_BUILT


_LLD_BUILT = {"chain_delay_x64.dll", "chain_top_x86.dll", "hybrid_arm64ec_marker.dll", "hybrid_arm64x_marker.dll",
              "nativelib_arm64ec.dll"}
"""Fixtures lld-link built (build.sh): its default operating system and subsystem versions are 6.0."""


def test_clr_version_and_header() -> None:
    img = read_image(BIN / "managed_anycpu.dll")
    assert (img.clr_version, img.cor_header_version) == ("v4.0.30319", "2.5")
    assert read_image(BIN / "isapi_ext_x64.dll").clr_version is None


def test_32bitpref_dll_and_exe_differ() -> None:
    dll = read_image(BIN / "managed_anycpu32bitpreferred.dll")
    exe = read_image(BIN / "managed_anycpu32bitpreferred.exe")
    assert dll.cor_flags == exe.cor_flags == 0x20003
    assert dll.loadable_by == frozenset({Arch.X86})
    assert exe.loadable_by == frozenset(Arch)
    assert any("DLL" in n for n in dll.notes)


@pytest.mark.parametrize(
    ("flags", "view", "names"),
    [
        (0x1, {"ILONLY": 1, "32BITREQ": 0, "32BITPREF": 0, "Signed": 0}, ("ILONLY",)),
        (0x3, {"ILONLY": 1, "32BITREQ": 1, "32BITPREF": 0, "Signed": 0}, ("ILONLY", "32BITREQ")),
        (0x20003, {"ILONLY": 1, "32BITREQ": 0, "32BITPREF": 1, "Signed": 0}, ("ILONLY", "32BITPREF")),
        (0x9, {"ILONLY": 1, "32BITREQ": 0, "32BITPREF": 0, "Signed": 1}, ("ILONLY", "STRONGNAMESIGNED")),
        (0x18, {"ILONLY": 0, "32BITREQ": 0, "32BITPREF": 0, "Signed": 1}, ("STRONGNAMESIGNED", "NATIVE_ENTRYPOINT")),
        (0x20001, {"ILONLY": 1, "32BITREQ": 0, "32BITPREF": 0, "Signed": 0}, ("ILONLY", "32BITPREF-WITHOUT-32BITREQ")),
    ],
)
def test_corflags_like_corflags_exe(flags: int, view: dict[str, int], names: tuple[str, ...]) -> None:
    assert corflags_view(flags) == view
    assert cor_flag_names(flags) == names


def test_bitness_field_is_two_bits() -> None:
    assert bitness_field(0x20003).required is False  # I4: raw 1/1 is not "x86"
    assert bitness_field(0x20001).invalid


def _patch_flags(base: str, flags: int) -> bytes:
    data = bytearray((BIN / base).read_bytes())
    _, dirs, secs = pe_offsets(bytes(data))
    rva = struct.unpack_from("<I", data, dirs + 14 * 8)[0]
    _, va, _, rawptr = next(s for s in secs if s[1] <= rva < s[1] + max(s[0], s[2]))
    struct.pack_into("<I", data, rawptr + rva - va + 16, flags)
    return bytes(data)


def test_mixed_mode_binds_to_machine() -> None:
    img = classify_bytes(_patch_flags("managed_x64.dll", 0x10))
    assert img.kind is ImageKind.MIXED
    assert img.loadable_by == frozenset({Arch.X64})


def test_invalid_pref_without_req_reads_as_anycpu_with_note() -> None:
    img = classify_bytes(_patch_flags("managed_anycpu.dll", 0x20001))
    assert img.platform_target is PlatformTarget.ANYCPU
    assert any("UNCONFIRMED" in n for n in img.notes)


@pytest.mark.parametrize(
    ("machine", "os_name", "arch_machine", "loadable"),
    [
        (0x8664, "windows", 0x8664, {Arch.X64}),
        (0x8664 ^ 0x7B79, "linux", 0x8664, set()),
        (0xAA64 ^ 0x4644, "apple", 0xAA64, set()),
        (0x014C, "windows", 0x014C, {Arch.X86}),
    ],
)
def test_ready_to_run(machine: int, os_name: str, arch_machine: int, loadable: set[Arch]) -> None:
    img = classify_bytes(make_ready_to_run(machine))
    assert img.kind is ImageKind.READY_TO_RUN
    assert (img.ready_to_run_os, img.ready_to_run_machine) == (os_name, arch_machine)
    assert img.loadable_by == frozenset(loadable)


def test_decode_machine_examples_from_facts_sheet() -> None:
    assert decode_machine(0xFD1D) == ("linux", 0x8664)
    assert decode_machine(0xEC20) == ("apple", 0xAA64)
    assert decode_machine(0x1234) == (None, None)


def test_read_image_errors(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="cannot read"):
        read_image(tmp_path / "missing.dll")
    with pytest.raises(ImageReadError, match="cannot read"):
        read_image(tmp_path)


def test_huge_sparse_file_is_fast(tmp_path: Path) -> None:
    path = tmp_path / "huge.dll"
    with open(path, "wb") as f:
        f.write((BIN / "managed_anycpu.dll").read_bytes())
        f.truncate(2 << 30)  # 2 GB, sparse
    start = time.perf_counter()
    img = read_image(path)
    assert time.perf_counter() - start < 0.5
    assert img.platform_target is PlatformTarget.ANYCPU
    assert os.path.getsize(path) == 2 << 30


def test_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.dll"
    os.mkfifo(fifo)
    try:
        img = read_image(fifo)
    except ImageReadError:
        return
    assert not img.is_pe


def test_off_arm_says_why_and_how_a_hybrid_fails_per_process() -> None:
    """The one decision of a hybrid off Windows on Arm (review r10 #2): an ARM64X is refused for its Machine (193,
    IIS's architecture words apply); an ARM64EC (Machine AMD64) fails in an x64 process on KERNEL32!RtlIsEcCode (127),
    and in an x86 process, as any AMD64 image, for its Machine (193). None on Windows on Arm and for other images."""
    x = read_image(BIN / "hybrid_arm64x_marker.dll")
    ec = read_image(BIN / "hybrid_arm64ec_marker.dll")
    assert off_arm(x, Arch.ARM64) is None and off_arm(ec, Arch.ARM64) is None
    assert off_arm(read_image(BIN / "isapi_ext_arm64.dll"), Arch.X64) is None
    on_x64 = off_arm(ec, Arch.X64)
    assert on_x64 is not None and (on_x64.error, on_x64.machine_quote) == ("0x8007007F", False)
    assert "RtlIsEcCode" in on_x64.failure and on_x64.reason.startswith("ARM64EC on x64 Windows")
    for got in (off_arm(ec, Arch.X64, Arch.X86), off_arm(ec, Arch.X86, Arch.X86), off_arm(x, Arch.X64)):
        assert got is not None and (got.error, got.machine_quote) == ("0x800700C1", True)
    assert on_os(ec, Arch.X64).notes[-1] == on_x64.reason and not on_os(ec, Arch.X64).loadable_by


def test_the_helpers_plain_data_carries_every_field_of_an_image() -> None:
    """Review r10 #6: general_read/general_facts listed PeImage's fields by hand: a field added to PeImage and not
    to them would be lost (default) for every file the prefetch helper answers. An image with every field set
    (none at its default) goes through image_fields, marshal (the pipe) and image_from_fields unchanged; a field not
    in this table fails here."""
    import dataclasses
    import marshal

    from iisbitness.pe.classify import image_fields, image_from_fields
    from iisbitness.pe.types import PeImage

    values: dict[str, object] = {
        "path": "x.dll", "kind": ImageKind.READY_TO_RUN, "machine": 0xFD1D, "pe32_plus": True, "is_dll": True,
        "cor_flags": 0x9, "platform_target": PlatformTarget.ARM64X, "loadable_by": frozenset({Arch.X64, Arch.ARM64}),
        "reason": "why", "notes": ("one", "two"), "hybrid": Hybrid.ARM64X, "clr_version": "v4.0.30319",
        "cor_header_version": "2.5", "ready_to_run_os": "linux", "ready_to_run_machine": 0x8664, "subsystem": 3,
        "os_version": (6, 0), "subsystem_version": (5, 2), "reference_assembly": True}
    fields = dataclasses.fields(PeImage)
    assert [f.name for f in fields] == list(values)
    assert all(values[f.name] != f.default for f in fields if f.default is not dataclasses.MISSING)
    image = PeImage(**values)  # type: ignore[arg-type]
    assert image_from_fields("x.dll", marshal.loads(marshal.dumps(image_fields(image)))) == image
