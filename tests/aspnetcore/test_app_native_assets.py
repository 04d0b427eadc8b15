"""The native DLLs of an in-process ASP.NET Core app: the ``native`` assets its ``<app>.deps.json`` lists (a
runtime-specific publish, ``dotnet publish -r win-x86``, copies each package's ``runtimes/win-x86/native/*.dll`` into
the app's folder) and the ``runtimeTargets`` ones the host picks for the worker's runtime identifier (``win-<arch>``,
``win``, ``any``: dotnet/runtime hostpolicy ``deps_format.cpp``). The worker loads one on the first P/Invoke into it;
an x86 one in a 64-bit pool was missed (0 findings, "checked"). Real compiler-built fixtures: nativelib_x86 (PE32,
i386), nativelib_x64 (PE32+, AMD64), managed_anycpu."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.cli import main
from iisbitness.findings import Severity
from iisbitness.report import Report
from tests.aspnetcore.image import deps_json, make_image, publish_folder, put, rules_of, run, write
from tests.aspnetcore.test_app_dependencies import POOL32, POOL64, WEB, _fdd, _partly, _self_contained
from tests.conftest import fixes_of

SQLITE = ("SQLitePCLRaw.lib.e_sqlite3/2.1.6", "package", "runtimes/win-x86/native/e_sqlite3.dll")
BUNDLE = ("SQLitePCLRaw.bundle_e_sqlite3/2.1.6", "package", "lib/netstandard2.0/SQLitePCLRaw.batteries_v2.dll")


def _deps(root: Path, dest: str = "inetpub/shop/Shop.deps.json") -> dict[str, object]:
    doc: dict[str, object] = json.loads((root / dest).read_text())
    return doc


def _target(doc: dict[str, object]) -> dict[str, dict[str, object]]:
    targets = doc["targets"]
    assert isinstance(targets, dict)
    name = doc["runtimeTarget"]["name"]  # type: ignore[index]
    found: dict[str, dict[str, object]] = targets[name]
    return found


def _rid_specific(root: Path, attrs: str, native_fx: str) -> Report:
    """``dotnet publish -r win-x86 --self-contained false`` of Shop (AnyCPU) with e_sqlite3: a runtime-specific target
    whose package lists its native asset by its package path, the file copied into the app's folder (``native_fx``)."""
    _fdd(root, attrs, (BUNDLE,), {"SQLitePCLRaw.batteries_v2.dll": "managed_anycpu.dll"})
    doc = _deps(root)
    target = _target(doc)
    rid_name = ".NETCoreApp,Version=v8.0/win-x86"
    key, kind, asset = SQLITE
    target[key] = {"native": {asset: {"fileVersion": "0.0.0.0"}}}
    doc["libraries"][key] = {"type": kind, "serviceable": True, "sha512": "sha512-AAAA"}  # type: ignore[index]
    doc["targets"] = {".NETCoreApp,Version=v8.0": {}, rid_name: target}
    doc["runtimeTarget"] = {"name": rid_name, "signature": ""}
    write(root, "inetpub/shop/Shop.deps.json", json.dumps(doc))
    put(root, native_fx, "inetpub/shop/e_sqlite3.dll")
    return run(root)


def _portable(root: Path, attrs: str, x86: str, x64: str, runtimeconfig: dict[str, object] | None = None) -> Report:
    """A portable framework-dependent publish: e_sqlite3's native asset under runtimeTargets for win-x86 and win-x64,
    each file in its ``runtimes/<rid>/native`` folder (``x86``, ``x64``: the fixture of each)."""
    _fdd(root, attrs, (BUNDLE,), {"SQLitePCLRaw.batteries_v2.dll": "managed_anycpu.dll"})
    doc = _deps(root)
    key, kind, _ = SQLITE
    _target(doc)[key] = {"runtimeTargets": {
        "runtimes/win-x86/native/e_sqlite3.dll": {"rid": "win-x86", "assetType": "native", "fileVersion": "0.0.0.0"},
        "runtimes/win-x64/native/e_sqlite3.dll": {"rid": "win-x64", "assetType": "native", "fileVersion": "0.0.0.0"},
        "runtimes/linux-x64/native/libe_sqlite3.so": {"rid": "linux-x64", "assetType": "native"}}}
    doc["libraries"][key] = {"type": kind, "serviceable": True, "sha512": "sha512-AAAA"}  # type: ignore[index]
    write(root, "inetpub/shop/Shop.deps.json", json.dumps(doc))
    put(root, x86, "inetpub/shop/runtimes/win-x86/native/e_sqlite3.dll")
    put(root, x64, "inetpub/shop/runtimes/win-x64/native/e_sqlite3.dll")
    if runtimeconfig is not None:
        write(root, "inetpub/shop/Shop.runtimeconfig.json", json.dumps({"runtimeOptions": runtimeconfig}))
    return run(root)


def _legacy_x86_copy(root: Path) -> None:
    """Give Shop a second library, Legacy.Sqlite, whose plain native asset is an x86 e_sqlite3.dll in the app's
    folder: a copy of the same name as the one the host picks from SQLitePCLRaw's runtimeTargets."""
    doc = _deps(root)
    _target(doc)["Legacy.Sqlite/1.0.0"] = {"native": {"e_sqlite3.dll": {}}}
    doc["libraries"]["Legacy.Sqlite/1.0.0"] = {"type": "package", "serviceable": True, "sha512": ""}  # type: ignore[index]
    write(root, "inetpub/shop/Shop.deps.json", json.dumps(doc))
    put(root, "nativelib_x86.dll", "inetpub/shop/e_sqlite3.dll")


def test_an_x86_native_asset_of_a_win_x86_publish_in_a_64_bit_pool_is_a_warning(tmp_path: Path) -> None:
    report = _rid_specific(tmp_path, POOL64, "nativelib_x86.dll")
    assert rules_of(report) == [("aspnetcore-inprocess-arch", "S1")]
    [f] = report.findings
    assert f.severity is Severity.WARNING
    assert f.binary is not None and f.binary.endswith("\\shop\\e_sqlite3.dll")
    assert "BadImageFormatException" in f.symptom and "'e_sqlite3.dll'" in f.symptom and "HTTP 500" in f.symptom
    assert "native asset of package 'SQLitePCLRaw.lib.e_sqlite3' 2.1.6" in f.cause
    assert "NATIVE_DLL_SEARCH_DIRECTORIES" in f.cause and "x86" in f.cause and "dotnet publish -r" in f.cause
    flip = [x for x in f.fixes if x.edits]
    assert flip and flip[0].verified is True
    assert f.fixes[-1].commands == ("dotnet publish -c Release -r win-x64 --self-contained false",)
    assert _partly(report) == []


def test_the_same_publish_in_a_32_bit_pool_loads(tmp_path: Path) -> None:
    report = _rid_specific(tmp_path, POOL32, "nativelib_x86.dll")
    assert rules_of(report) == [] and _partly(report) == []
    loads = scan(tmp_path, ScanOptions(os_arch=Arch.X64, load_map=True)).loads or ()
    [native] = [ld for ld in loads if ld.name == "e_sqlite3.dll"]
    assert native.verdict.value == "loads" and (native.windows_path or "").endswith("\\shop\\e_sqlite3.dll")


def test_the_host_picks_the_worker_s_runtime_identifier(tmp_path: Path) -> None:
    """Each pool loads its own architecture's copy: no finding at either bitness, and the load map names the copy."""
    for attrs, rid in ((POOL64, "win-x64"), (POOL32, "win-x86")):
        root = tmp_path / rid
        report = _portable(root, attrs, "nativelib_x86.dll", "nativelib_x64.dll")
        assert rules_of(report) == [] and _partly(report) == []
        loads = scan(root, ScanOptions(os_arch=Arch.X64, load_map=True)).loads or ()
        [native] = [ld for ld in loads if ld.name == "e_sqlite3.dll"]
        assert f"\\runtimes\\{rid}\\native\\" in (native.windows_path or ""), native.windows_path


def test_a_package_whose_win_x64_asset_is_x86_is_named_with_its_rid(tmp_path: Path) -> None:
    report = _portable(tmp_path, POOL64, "nativelib_x86.dll", "nativelib_x86.dll")
    [f] = report.findings
    assert f.severity is Severity.WARNING and "\\runtimes\\win-x64\\native\\e_sqlite3.dll" in (f.binary or "")
    assert "runtime-specific assets for the worker (win-x64" in f.cause
    assert f.fixes[-1].summary.startswith("Use a version of package 'SQLitePCLRaw.lib.e_sqlite3' whose "
                                          "runtimes\\win-x64\\native\\e_sqlite3.dll is x64")


def test_the_rid_graph_s_choice_is_said_as_not_checked(tmp_path: Path) -> None:
    """UseRidGraph (or a .NET before 8) makes the host choose by the RID graph: not modelled, the library named."""
    for name, config in (("graph", {"tfm": "net8.0", "framework": {"name": "Microsoft.AspNetCore.App",
                                                                     "version": "8.0.0"},
                                    "configProperties": {"System.Runtime.Loader.UseRidGraph": True}}),
                         ("net6", {"tfm": "net6.0", "framework": {"name": "Microsoft.AspNetCore.App",
                                                                   "version": "6.0.0"}})):
        root = tmp_path / name
        (root / "Program Files/dotnet/shared/Microsoft.AspNetCore.App/6.0.30").mkdir(parents=True)
        (root / "Program Files (x86)/dotnet/shared/Microsoft.AspNetCore.App/6.0.30").mkdir(parents=True)
        report = _portable(root, POOL64, "nativelib_x86.dll", "nativelib_x86.dll", config)
        assert [r for r in rules_of(report) if r[0] == "aspnetcore-inprocess-arch"] == []
        [why] = [r for r in _partly(report) if "runtimeTargets" in r]
        assert "SQLitePCLRaw.lib.e_sqlite3/2.1.6" in why and "RID graph" in why and "not checked" in why


def test_a_native_asset_the_image_lacks_is_named(tmp_path: Path) -> None:
    _rid_specific(tmp_path, POOL64, "nativelib_x86.dll")
    (tmp_path / "inetpub/shop/e_sqlite3.dll").unlink()
    [why] = _partly(run(tmp_path))
    assert "e_sqlite3.dll, which" in why and "lists as native assets" in why


def test_a_self_contained_win_x64_publish_with_an_x86_native_asset(tmp_path: Path) -> None:
    """A self-contained host reads no runtimeTargets (hostpolicy load_self_contained): only its target's native assets;
    an x86 one beside the x64 runtime is named, the publish for win-x64 (self-contained) offered."""
    _self_contained(tmp_path, "x64")
    doc = _deps(tmp_path)
    key, kind, asset = SQLITE
    _target(doc)[key] = {"native": {asset.replace("win-x86", "win-x64"): {}},
                         "runtimeTargets": {"runtimes/win-x64/native/other.dll": {"rid": "win-x64",
                                                                                  "assetType": "native"}}}
    doc["libraries"][key] = {"type": kind, "serviceable": True, "sha512": ""}  # type: ignore[index]
    write(tmp_path, "inetpub/shop/Shop.deps.json", json.dumps(doc))
    put(tmp_path, "nativelib_x86.dll", "inetpub/shop/e_sqlite3.dll")
    put(tmp_path, "nativelib_x86.dll", "inetpub/shop/runtimes/win-x64/native/other.dll")
    report = run(tmp_path)
    [f] = report.findings
    assert (f.binary or "").endswith("\\shop\\e_sqlite3.dll") and "self-contained" in f.cause
    assert f.fixes[-1].commands == ("dotnet publish -c Release -r win-x64 --self-contained",)
    assert _partly(report) == []


def test_a_fitting_copy_of_the_same_name_in_another_search_folder_is_the_one_loaded(tmp_path: Path) -> None:
    """The runtime tries each NATIVE_DLL_SEARCH_DIRECTORIES folder until a load succeeds: an x86 e_sqlite3.dll of one
    library beside the x64 one another library's runtimeTargets give is no failure."""
    _portable(tmp_path, POOL64, "nativelib_x86.dll", "nativelib_x64.dll")
    _legacy_x86_copy(tmp_path)
    report = run(tmp_path)
    assert rules_of(report) == [] and _partly(report) == []


def test_check_app_names_the_native_asset(tmp_path: Path) -> None:
    out = publish_folder(tmp_path, {"App.exe": "apphost_x86.exe", "App.dll": "managed_anycpu.dll",
                                    "e_sqlite3.dll": "nativelib_x86.dll"})
    deps_json(out, "App.deps.json", "App")
    doc = json.loads((out / "App.deps.json").read_text())
    key, kind, asset = SQLITE
    _target(doc)[key] = {"native": {asset: {}}}
    doc["libraries"][key] = {"type": kind, "serviceable": True, "sha512": ""}
    write(out, "App.deps.json", json.dumps(doc))
    write(out, "App.runtimeconfig.json", json.dumps(
        {"runtimeOptions": {"tfm": "net8.0", "framework": {"name": "Microsoft.AspNetCore.App", "version": "8.0.0"}}}))
    write(out, "web.config", WEB.format(pp=".\\App.exe", args=""))
    r = CliRunner().invoke(main, ["check-app", str(out), "--pool-arch", "x64", "--runtime", "none", "--format", "json"])
    doc = json.loads(r.stdout)
    assert [f["rule"] for f in doc["findings"]] == ["aspnetcore-inprocess-arch"], r.stdout
    [f] = doc["findings"]
    assert f["binary"].endswith("e_sqlite3.dll") and "NATIVE_DLL_SEARCH_DIRECTORIES" in f["cause"]
    summaries = [fx["summary"] for fx in fixes_of(doc, f)]
    assert any("win-x64" in s for s in summaries), summaries
    # NOTE: a framework-dependent app (its runtimeconfig names the framework) is published framework-dependent, as
    # the rule itself says: --self-contained alone would ship it a runtime it did not carry
    publish = [c for fx in fixes_of(doc, f) for c in fx["commands"] if c.startswith("dotnet publish")]
    assert publish == ["dotnet publish -c Release -r win-x64 --self-contained false"], publish


def _twin_beside_x64_site(root: Path) -> Report:
    """Shop, whose x86 e_sqlite3.dll (a package's plain native asset, in the app's folder) has an x64 twin the host
    picks from runtimeTargets, in one 64-bit pool with a site whose ``bin`` holds an x64-only assembly."""
    attrs = 'managedRuntimeVersion="v4.0"'
    _portable(root, attrs, "nativelib_x86.dll", "nativelib_x64.dll")
    _legacy_x86_copy(root)
    make_image(root, [("Core", attrs, "shop"), ("Core", attrs, "legacy")])
    put(root, "managed_x64.dll", "inetpub/legacy/bin/Legacy.dll")
    return run(root)


def test_a_copy_passed_over_for_its_fitting_twin_splits_no_pool(tmp_path: Path) -> None:
    """The x86 copy of a native asset whose x64 twin the 64-bit worker loads was a failing load of the plan: the pool's
    outlook had Shop failing at x64, and pool-arch-conflict moved it to a new 32-bit pool although it runs in this
    one. Now the twin is the load and the x86 copy a skipped entry that says why."""
    report = _twin_beside_x64_site(tmp_path)
    assert rules_of(report) == [] and _partly(report) == []
    loads = scan(tmp_path, ScanOptions(os_arch=Arch.X64, load_map=True)).loads or ()
    copies = {(ld.windows_path or "").rsplit("\\shop\\", 1)[-1]: ld for ld in loads if ld.name == "e_sqlite3.dll"}
    assert copies["runtimes\\win-x64\\native\\e_sqlite3.dll"].verdict.value == "loads"
    passed = copies["e_sqlite3.dll"]
    assert passed.verdict.value == "skipped" and passed.skip_reason == "fitting-copy-loads"
    assert "runtimes\\win-x64\\native\\e_sqlite3.dll" in passed.reason and "passed over" in passed.reason


def test_a_copy_with_no_fitting_twin_is_still_a_failing_load(tmp_path: Path) -> None:
    """Both copies x86 in the 64-bit pool: neither is passed over, each is named (the kept case)."""
    _portable(tmp_path, POOL64, "nativelib_x86.dll", "nativelib_x86.dll")
    _legacy_x86_copy(tmp_path)
    binaries = sorted((f.binary or "").rsplit("\\shop\\", 1)[-1] for f in run(tmp_path).findings)
    assert binaries == ["e_sqlite3.dll", "runtimes\\win-x64\\native\\e_sqlite3.dll"]
