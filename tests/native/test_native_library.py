"""Native libraries in bin: a wrong-architecture DLL, and the package layouts that stand in for it."""

from __future__ import annotations

from pathlib import Path

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


def test_layout_without_a_fitting_copy_is_named(tmp_path: Path) -> None:
    _app(tmp_path)
    put(tmp_path, "nativelib_x86.dll", "inetpub/catalog/bin/x86/nativelib.dll")
    f = next(f for f in run(tmp_path).findings if f.rule == "native-library-arch")
    assert "x86\\nativelib.dll (x86)" in f.cause


def test_x86_native_dll_in_32bit_pool_is_fine(tmp_path: Path) -> None:
    _app(tmp_path, 'enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0"')
    assert "native-library-arch" not in [r for r, _ in rules_of(run(tmp_path))]
