"""The dependency search walks strings and shares a result between worker architectures (issue 25): the same
results as a search of its own, over real fixtures laid out like a bin folder, System32 and SysWOW64."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pe_fixtures import BIN

from iisbitness.arch import Arch
from iisbitness.image.folders import Folders
from iisbitness.pe.deps import DependencyResult, find_mismatch
from iisbitness.pe.facts import BinaryFacts

# ManagedApp.dll (AnyCPU) references the assembly managed_x86 and P/Invokes NativeLib; chain_top_x64.dll imports
# chain_dep.dll


def _copy(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(exist_ok=True)
    for name, fixture in files.items():
        shutil.copy(BIN / fixture, folder / name)


def _layout(root: Path, bin_: dict[str, str], system32: dict[str, str] | None = None,
            syswow64: dict[str, str] | None = None) -> None:
    """``bin`` with ManagedApp.dll and the files ``bin_``, System32 and SysWOW64 with theirs."""
    _copy(root / "bin", {"ManagedApp.dll": "ManagedApp.dll", **bin_})
    _copy(root / "System32", system32 or {})
    _copy(root / "SysWOW64", syswow64 or {})


def missing_at_x64_only(root: Path) -> None:
    """managed_x86 is in no folder the x64 worker searches, and an x64 DLL in SysWOW64."""
    _layout(root, {}, syswow64={"managed_x86.dll": "managed_x64.dll"})


def found_beyond_bin(root: Path) -> None:
    """managed_x86 is AnyCPU in System32 and x64 in SysWOW64 (found beyond the first folder)."""
    _layout(root, {}, {"managed_x86.dll": "managed_anycpu.dll"}, {"managed_x86.dll": "managed_x64.dll"})


def x64_only_dependency(root: Path) -> None:
    """The chain fits x64 only (its dependency is x64), so the x64 result holds for no other worker."""
    _layout(root, {"MANAGED_X86.DLL": "managed_x64.dll"})


def arm64x_dependency(root: Path) -> None:
    """The chain fits x64 and ARM64 (its dependency is ARM64X), not x86."""
    _layout(root, {"managed_x86.dll": "hybrid_arm64x_marker.dll"})


def anycpu_chain(root: Path) -> None:
    """Every file AnyCPU, NativeLib nowhere: the same at every worker."""
    _layout(root, {"managed_x86.dll": "managed_anycpu.dll"})


def pinvoke_in_syswow64(root: Path) -> None:
    """NativeLib (P/Invoke) x64 in SysWOW64 only: an x86 worker's chain ends there."""
    anycpu_chain(root)
    _copy(root / "SysWOW64", {"NativeLib.dll": "nativelib_x64.dll"})


def not_pe_of_that_name(root: Path) -> None:
    _layout(root, {"managed_x86.dll": "not_pe.txt"})


def linked_dependency(root: Path) -> None:
    """managed_x86.dll a link to an AnyCPU assembly outside bin; NativeLib a link to nothing."""
    anycpu_chain(root)
    os.remove(root / "bin" / "managed_x86.dll")
    _copy(root / "elsewhere", {"a.dll": "managed_anycpu.dll"})
    os.symlink(root / "elsewhere" / "a.dll", root / "bin" / "managed_x86.dll")
    os.symlink(root / "nowhere.dll", root / "bin" / "NativeLib.dll")


def native_cycle(root: Path) -> None:
    """chain_dep.dll imports itself (chain_top_x64.dll under that name); managed_x86.dll is a link to it."""
    _layout(root, {"chain_dep.dll": "chain_top_x64.dll"})
    os.symlink(root / "bin" / "chain_dep.dll", root / "bin" / "managed_x86.dll")


LAYOUTS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # layout, file searched, then the chain each worker finds (x64, x86): "" for none
    "missing_at_x64_only": (missing_at_x64_only, "ManagedApp.dll", "|ManagedApp.dll → managed_x86.dll (x64)"),
    "found_beyond_bin": (found_beyond_bin, "ManagedApp.dll", "|ManagedApp.dll → managed_x86.dll (x64)"),
    "x64_only_dependency": (x64_only_dependency, "ManagedApp.dll", "|ManagedApp.dll → MANAGED_X86.DLL (x64)"),
    "arm64x_dependency": (arm64x_dependency, "ManagedApp.dll", "|ManagedApp.dll → managed_x86.dll (x64, arm64)"),
    "anycpu_chain": (anycpu_chain, "ManagedApp.dll", "|"),
    "pinvoke_in_syswow64": (pinvoke_in_syswow64, "ManagedApp.dll", "|ManagedApp.dll → NativeLib.dll (x64)"),
    "not_pe_of_that_name": (not_pe_of_that_name, "ManagedApp.dll",
                            "|".join(["ManagedApp.dll → managed_x86.dll (not a valid PE)"] * 2)),
    "linked_dependency": (linked_dependency, "ManagedApp.dll", "|"),
    "native_cycle": (native_cycle, "ManagedApp.dll", "|ManagedApp.dll → managed_x86.dll (x64)"),
}


def _search(root: Path, name: str, arch: Arch, facts: BinaryFacts) -> DependencyResult:
    system = root / ("System32" if arch is Arch.X64 else "SysWOW64")
    return find_mismatch(str(root / "bin" / name), arch, [root / "bin", system], facts=facts)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("order", [(Arch.X64, Arch.X86), (Arch.X86, Arch.X64)], ids=["x64-first", "x86-first"])
def test_shared_search_is_each_search_alone(tmp_path: Path, layout: str, order: tuple[Arch, Arch]) -> None:
    """One BinaryFacts for both workers (a scan) finds what a fresh one per search finds, field by field."""
    make, name, chains = LAYOUTS[layout]
    make(tmp_path)
    expected = dict(zip((Arch.X64, Arch.X86), chains.split("|"), strict=True))
    shared = BinaryFacts()
    for arch in order:
        alone = _search(tmp_path, name, arch, BinaryFacts())
        assert str(alone.mismatch or "") == expected[arch]
        assert _search(tmp_path, name, arch, shared) == alone
        assert _search(tmp_path, name, arch, shared) == alone  # NOTE: again (a re-plan)


def test_anycpu_chain_is_searched_once(tmp_path: Path) -> None:
    """The x86 worker's search of an all-AnyCPU chain is the x64 worker's result, not a second search."""
    anycpu_chain(tmp_path)
    facts = BinaryFacts()
    x64 = _search(tmp_path, "ManagedApp.dll", Arch.X64, facts)
    assert x64.mismatch is None and x64.visited == 2 and [u.name for u in x64.unresolved] == ["nativelib"]
    assert _search(tmp_path, "ManagedApp.dll", Arch.X86, facts) is x64
    assert len(facts.resolved) == 1  # NOTE: the x64 search folders only


def test_a_result_is_shared_only_with_the_same_first_folder(tmp_path: Path) -> None:
    """``inspect --deps`` searches the file's own folder first; a search that starts elsewhere is its own."""
    anycpu_chain(tmp_path)
    _copy(tmp_path / "first", {"managed_x86.dll": "managed_x64.dll"})
    facts = BinaryFacts()
    app = str(tmp_path / "bin" / "ManagedApp.dll")
    assert find_mismatch(app, Arch.X64, [tmp_path / "bin"], facts=facts).mismatch is None
    x86 = find_mismatch(app, Arch.X86, [tmp_path / "first", tmp_path / "bin"], facts=facts)
    assert str(x86.mismatch) == "ManagedApp.dll → managed_x86.dll (x64)"


def test_key_of_a_string_is_the_key_of_its_path(tmp_path: Path) -> None:
    linked_dependency(tmp_path)
    os.symlink(tmp_path / "bin", tmp_path / "bin2")
    for path in [tmp_path / "bin" / "managed_x86.dll", tmp_path / "bin2" / "ManagedApp.dll",
                 tmp_path / "bin" / "NativeLib.dll", tmp_path / "bin" / "ManagedApp.dll"]:
        listed = Folders()
        listed.listing(path.parent)
        keys = {Folders().key(path), Folders().key(str(path)), listed.key(str(path)),
                listed.key_in(path.parent, path.name, str(path))}
        assert keys == {os.path.realpath(path).lower()}


def test_a_link_to_a_file_searched_is_the_same_file(tmp_path: Path) -> None:
    """Cycle checks by real path: managed_x86.dll links to chain_dep.dll, which imports itself."""
    native_cycle(tmp_path)
    facts = BinaryFacts()
    result = _search(tmp_path, "ManagedApp.dll", Arch.X64, facts)
    assert result.mismatch is None and result.visited == 2 and not result.truncated


def test_a_file_reached_again_through_a_link_is_not_searched_again(tmp_path: Path) -> None:
    """The file searched, through a linked folder, is its own dependency by a link: one file, by real path."""
    _layout(tmp_path, {})
    os.symlink(tmp_path / "bin" / "ManagedApp.dll", tmp_path / "bin" / "managed_x86.dll")
    os.symlink(tmp_path / "bin", tmp_path / "site")
    for arch in (Arch.X64, Arch.X86):
        result = find_mismatch(str(tmp_path / "site" / "ManagedApp.dll"), arch, [tmp_path / "site"], facts=BinaryFacts())
        assert result.mismatch is None and result.visited == 1
