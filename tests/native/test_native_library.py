"""Native libraries in bin: a wrong-architecture DLL, and the package layouts that stand in for it."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from tests.aspnetcore.image import make_image, put, rules_of, run


def _app(root: Path, attrs: str = 'managedRuntimeVersion="v4.0"') -> None:
    make_image(root, [("Net4", attrs, "catalog")])
    put(root, "ManagedApp.dll", "inetpub/catalog/bin/ManagedApp.dll")
    put(root, "nativelib_x86.dll", "inetpub/catalog/bin/nativelib.dll")


def test_x86_native_dll_in_64bit_pool_is_a_warning(tmp_path: Path) -> None:
    _app(tmp_path)
    report = run(tmp_path)
    assert ("native-library-arch", "S1") in rules_of(report)
    f = next(f for f in report.findings if f.rule == "native-library-arch")
    assert f.severity.label == "warning" and "runtimes\\win-x64\\native" in f.fixes[-1].summary


def test_runtimes_win_x64_native_layout_gives_no_finding(tmp_path: Path) -> None:
    _app(tmp_path)
    put(tmp_path, "nativelib_x64.dll", "inetpub/catalog/bin/runtimes/win-x64/native/nativelib.dll")
    put(tmp_path, "nativelib_x86.dll", "inetpub/catalog/bin/runtimes/win-x86/native/nativelib.dll")
    assert "native-library-arch" not in [r for r, _ in rules_of(run(tmp_path))]


def test_the_load_map_agrees_with_the_rule_and_names_the_copy_that_loads(tmp_path: Path) -> None:
    """The load map said FAIL for bin\\nativelib.dll (x86) in a 64-bit pool while native-library-arch accepted
    the runtimes\\win-x64\\native copy (the demo's libsodium.dll): it says ok and names the copy that loads."""
    _app(tmp_path)
    put(tmp_path, "nativelib_x64.dll", "inetpub/catalog/bin/runtimes/win-x64/native/nativelib.dll")
    report = scan(tmp_path, ScanOptions(os_arch=Arch.X64, load_map=True))
    [entry] = [e for e in report.loads or () if e.kind == "bin-native" and e.name == "nativelib.dll"]
    assert entry.verdict.value == "loads", entry
    assert "runtimes\\win-x64\\native\\nativelib.dll (x64)" in entry.reason, entry.reason


def test_layout_without_a_fitting_copy_is_named(tmp_path: Path) -> None:
    _app(tmp_path)
    put(tmp_path, "nativelib_x86.dll", "inetpub/catalog/bin/x86/nativelib.dll")
    f = next(f for f in run(tmp_path).findings if f.rule == "native-library-arch")
    assert "x86\\nativelib.dll (x86)" in f.cause


def test_x86_native_dll_in_32bit_pool_is_fine(tmp_path: Path) -> None:
    _app(tmp_path, 'enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0"')
    assert "native-library-arch" not in [r for r, _ in rules_of(run(tmp_path))]


# --- P/Invoke references (ModuleRef/ImplMap): a DLL no code names is a note, not a warning -----------------------

def test_unreferenced_x86_native_dlls_in_64bit_pool_give_no_warning(tmp_path: Path) -> None:
    make_image(tmp_path, [("Net4", 'managedRuntimeVersion="v4.0"', "catalog")])
    put(tmp_path, "managed_anycpu.dll", "inetpub/catalog/bin/Catalog.dll")  # no [DllImport]
    put(tmp_path, "nativelib_x86.dll", "inetpub/catalog/bin/nativelib.dll")
    put(tmp_path, "comserver_x86.dll", "inetpub/catalog/bin/legacy.dll")
    found = [f for f in run(tmp_path).findings if f.rule == "native-library-arch"]
    assert sorted(f.binary.rsplit("\\", 1)[-1] for f in found) == ["legacy.dll", "nativelib.dll"]
    assert {f.severity.label for f in found} == {"note"}
    assert all("No P/Invoke references it" in f.cause for f in found)


def test_dllimport_without_extension_and_other_case_makes_it_a_warning(tmp_path: Path) -> None:
    # ManagedApp.dll declares [DllImport("nativelib")]: the bin file NATIVELIB.DLL is that module
    make_image(tmp_path, [("Net4", 'managedRuntimeVersion="v4.0"', "catalog")])
    put(tmp_path, "ManagedApp.dll", "inetpub/catalog/bin/ManagedApp.dll")
    put(tmp_path, "nativelib_x86.dll", "inetpub/catalog/bin/NATIVELIB.DLL")
    put(tmp_path, "comserver_x86.dll", "inetpub/catalog/bin/legacy.dll")
    found = {f.binary.rsplit("\\", 1)[-1]: f for f in run(tmp_path).findings if f.rule == "native-library-arch"}
    assert found["NATIVELIB.DLL"].severity.label == "warning"
    assert "Named by a [DllImport] or an import in ManagedApp.dll" in found["NATIVELIB.DLL"].cause
    assert found["legacy.dll"].severity.label == "note"


def test_pinvoke_targets_agree_with_dnfile() -> None:
    import dnfile

    from iisbitness.pe.deps import pinvoke_targets
    from iisbitness.pe.facts import BinaryFacts

    path = Path(__file__).resolve().parents[1] / "fixtures" / "pe" / "bin" / "ManagedApp.dll"
    pe = dnfile.dnPE(str(path))
    try:
        tables = pe.net.mdtables
        modules = {str(tables.ModuleRef.rows[r.ImportScope.row_index - 1].Name) for r in tables.ImplMap.rows}
    finally:
        pe.close()
    assert pinvoke_targets(path, BinaryFacts()) == tuple(sorted(m.lower() + ".dll" for m in modules))


def test_a_native_dll_that_another_bin_dll_imports_stays_a_warning(tmp_path: Path) -> None:
    # chain_top.dll (x64) imports chain_dep.dll: the loader loads chain_dep with it, [DllImport] or not
    make_image(tmp_path, [("Net4", 'managedRuntimeVersion="v4.0"', "catalog")])
    put(tmp_path, "chain_top_x64.dll", "inetpub/catalog/bin/chain_top.dll")
    put(tmp_path, "chain_dep_x86.dll", "inetpub/catalog/bin/chain_dep.dll")
    found = {f.binary.rsplit("\\", 1)[-1]: f for f in run(tmp_path).findings if f.rule == "native-library-arch"}
    assert found["chain_dep.dll"].severity.label == "warning" and "chain_top.dll" in found["chain_dep.dll"].cause
