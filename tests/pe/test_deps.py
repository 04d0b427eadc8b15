"""Dependency chains over real fixtures laid out like an app folder and a System32 view."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pe_fixtures import BIN

from iisbitness.arch import Arch
from iisbitness.pe.deps import find_mismatch, is_framework_assembly, is_os_dll
from iisbitness.pe.facts import BinaryFacts


def _layout(tmp_path: Path, dep: str, *, upper: bool = False) -> Path:
    folder = tmp_path / "inetsrv"
    folder.mkdir()
    for name in ("chain_top_x64.dll", "chain_delay_x64.dll"):
        shutil.copy(BIN / name, folder / name)
    shutil.copy(BIN / dep, folder / ("CHAIN_DEP.DLL" if upper else "chain_dep.dll"))
    return folder


@pytest.mark.parametrize("top", ["chain_top_x64.dll", "chain_delay_x64.dll"])
def test_native_chain_mismatch(tmp_path: Path, top: str) -> None:
    folder = _layout(tmp_path, "chain_dep_x86.dll", upper=True)
    result = find_mismatch(folder / top, Arch.X64, [folder])
    assert str(result.mismatch) == f"{top} → CHAIN_DEP.DLL (x86)"
    assert result.mismatch is not None
    assert result.mismatch.culprit.via == ("import" if top == "chain_top_x64.dll" else "delay-import")


def test_native_chain_fits(tmp_path: Path) -> None:
    folder = _layout(tmp_path, "chain_dep_x64.dll")
    result = find_mismatch(folder / "chain_top_x64.dll", Arch.X64, [folder])
    assert result.mismatch is None and result.unresolved == ()


def test_missing_dependency_is_unresolved_not_mismatch(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    folder.mkdir()
    shutil.copy(BIN / "chain_top_x64.dll", folder)
    result = find_mismatch(folder / "chain_top_x64.dll", Arch.X64, [folder])
    assert result.mismatch is None
    assert [(u.name, u.via) for u in result.unresolved] == [("chain_dep.dll", "import")]


def test_search_order_first_folder_wins(tmp_path: Path) -> None:
    app = _layout(tmp_path, "chain_dep_x64.dll")
    sys32 = tmp_path / "SysWOW64"
    sys32.mkdir()
    shutil.copy(BIN / "chain_dep_x86.dll", sys32 / "chain_dep.dll")
    assert find_mismatch(app / "chain_top_x64.dll", Arch.X64, [app, sys32]).mismatch is None


def test_managed_chain(tmp_path: Path) -> None:
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for name in ("ManagedApp.dll", "managed_x86.dll"):
        shutil.copy(BIN / name, bin_ / name)
    shutil.copy(BIN / "nativelib_x64.dll", bin_ / "NativeLib.dll")
    x64 = find_mismatch(bin_ / "ManagedApp.dll", Arch.X64, [bin_])
    assert str(x64.mismatch) == "ManagedApp.dll → managed_x86.dll (x86)"
    x86 = find_mismatch(bin_ / "ManagedApp.dll", Arch.X86, [bin_])
    assert str(x86.mismatch) == "ManagedApp.dll → NativeLib.dll (x64)"
    assert x86.mismatch is not None and x86.mismatch.culprit.via == "pinvoke"


def test_root_itself_does_not_fit() -> None:
    result = find_mismatch(BIN / "isapi_ext_x86.dll", Arch.X64, [BIN])
    assert str(result.mismatch) == "isapi_ext_x86.dll (x86)"


def test_cycle_and_depth_are_bounded(tmp_path: Path) -> None:
    # chain_dep.dll importing nothing is enough for a cycle test only if something imports back;
    # name chain_top as chain_dep so the top imports itself.
    folder = tmp_path / "c"
    folder.mkdir()
    shutil.copy(BIN / "chain_top_x64.dll", folder / "chain_dep.dll")
    result = find_mismatch(folder / "chain_dep.dll", Arch.X64, [folder])
    assert result.mismatch is None and result.visited == 1


def test_os_and_framework_names() -> None:
    assert is_os_dll("KERNEL32.DLL") and is_os_dll("api-ms-win-crt-runtime-l1-1-0.dll")
    assert not is_os_dll("vcruntime140.dll")
    assert is_framework_assembly("System.Web") and is_framework_assembly("mscorlib")
    assert not is_framework_assembly("Newtonsoft.Json")


@pytest.mark.parametrize("os_arch", [Arch.X64, Arch.ARM64, None])
def test_a_hybrid_dependency_fits_x64_only_on_windows_on_arm(tmp_path: Path, os_arch: Arch | None) -> None:
    """An ARM64X chain_dep.dll beside an x64 module (an ARM64 Visual C++ runtime copied app-locally): x64 processes
    of Windows on Arm load it, those of x64 Windows cannot (its code is ARM64); without an OS, as the headers say."""
    folder = _layout(tmp_path, "hybrid_arm64x_marker.dll")
    result = find_mismatch(folder / "chain_top_x64.dll", Arch.X64, [folder], os_arch=os_arch)
    if os_arch is Arch.X64:
        assert str(result.mismatch) == "chain_top_x64.dll → chain_dep.dll (none)"
    else:
        assert result.mismatch is None


def test_a_shared_search_is_not_reused_across_os_architectures(tmp_path: Path) -> None:
    """Review r10 #7: the memo of searches (``BinaryFacts.searched``) was keyed without ``os_arch``, though an
    ARM64X dependency fits an x64 process on Windows on Arm and no process on x64 Windows: the first search's
    answer (no mismatch, on ARM64) was returned for the second (x64), hiding the P/Invoke target that loads nowhere."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    shutil.copy(BIN / "ManagedApp.dll", bin_ / "ManagedApp.dll")
    shutil.copy(BIN / "hybrid_arm64x_marker.dll", bin_ / "NativeLib.dll")
    facts = BinaryFacts()
    on_arm = find_mismatch(bin_ / "ManagedApp.dll", Arch.X64, [bin_], facts=facts, os_arch=Arch.ARM64)
    assert on_arm.mismatch is None and facts.searched
    on_x64 = find_mismatch(bin_ / "ManagedApp.dll", Arch.X64, [bin_], facts=facts, os_arch=Arch.X64)
    assert str(on_x64.mismatch) == "ManagedApp.dll → NativeLib.dll (none)"
