"""managed-assembly-arch on an assembly that fits but needs a dependency that does not: the finding names the file
with the wrong architecture and the one that needs it, and the remedy is on that file, by its kind (an IL-only x86
one: CorFlags on it, /Force and a new signature when strong-named; mixed-mode or PE32+: its build for the pool's
architecture, never CorFlags), never a CorFlags line on the AnyCPU assembly itself, which changes nothing. The pool
flip stays offered. Real mcs fixtures (tests/fixtures/pe/bin: ManagedApp.dll references managed_x86, ManagedApp64.dll
managed_x64, SsoClient.dll the strong-named Contoso.Sso; mixed_x86_marker.dll is managed_x86.dll with ILONLY clear)."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.findings import Finding
from iisbitness.report import Report
from tests.conftest import apphost, make_image, site

POOL64 = '<add name="P64" managedRuntimeVersion="v4.0" />'
POOL32 = '<add name="P32" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />'
# NOTE: a second site in a pool of its own, so that the flip of P64/P32 is not the only way out
OTHER = '<add name="Other" managedRuntimeVersion="v4.0" />'


def _scan(tmp_path: Path, pool: str, files: dict[str, str]) -> Report:
    name = pool.split('"')[1]
    sites = site("S", 1, name, r"C:\s") + site("T", 2, "Other", r"C:\t")
    return scan(make_image(tmp_path, apphost(pool + OTHER, sites), {**files, "t/bin/Any.dll": "managed_anycpu.dll"}))


def _bin(r: Report, file: str) -> Finding:
    [f] = [f for f in r.findings if f.rule == "managed-assembly-arch" and f.binary == f"C:\\s\\bin\\{file}"]
    return f


def test_anycpu_assembly_needing_an_x86_one_gets_corflags_on_the_dependency(tmp_path: Path) -> None:
    r = _scan(tmp_path, POOL64, {"s/bin/ManagedApp.dll": "ManagedApp.dll", "s/bin/managed_x86.dll": "managed_x86.dll"})
    f = _bin(r, "ManagedApp.dll")
    assert f.chain == ("ManagedApp.dll", "managed_x86.dll (x86)")
    flip, remedy = f.fixes
    assert flip.verified is True and "32-bit" in flip.summary  # NOTE: the pool flip stays the other fix
    assert remedy.commands == ('corflags "C:\\s\\bin\\managed_x86.dll" /32BITREQ-',)
    assert remedy.powershell == ("corflags 'C:\\s\\bin\\managed_x86.dll' /32BITREQ-",)
    assert remedy.label == "the x86 DLL: rebuild or clear 32BITREQ"
    assert not any("ManagedApp.dll" in line for fx in f.fixes for line in fx.commands + fx.powershell)
    # the file with the wrong architecture, in which bin, and who needs it
    assert ("The file with the wrong architecture is 'managed_x86.dll' in the same bin folder, which 'ManagedApp.dll' "
            "needs: a .NET IL-only DLL, platform x86") in f.cause
    assert "mixed-mode" in f.cause and "CorFlags can clear its 32BITREQ" in f.cause
    # the exception names the assembly that fails to load: the dependency
    assert "Could not load file or assembly 'managed_x86' or one of its dependencies" in f.symptom
    # the same fix as the dependency's own finding: one numbered fix in the report
    assert remedy == _bin(r, "managed_x86.dll").fixes[-1]


def test_a_strong_named_x86_dependency_needs_force_and_a_new_signature(tmp_path: Path) -> None:
    r = _scan(tmp_path, POOL64, {"s/bin/SsoClient.dll": "SsoClient.dll", "s/bin/Contoso.Sso.dll": "gac_sso_x86.dll"})
    f = _bin(r, "SsoClient.dll")
    assert f.chain == ("SsoClient.dll", "Contoso.Sso.dll (x86)")
    remedy = f.fixes[-1]
    assert remedy.commands == ('corflags "C:\\s\\bin\\Contoso.Sso.dll" /32BITREQ- /Force',)
    assert remedy.note is not None and "sn -R" in remedy.note and "strong-name signed" in remedy.note
    assert "'Contoso.Sso'" in f.symptom


def test_a_mixed_mode_dependency_gets_its_build_for_the_pool_never_corflags(tmp_path: Path) -> None:
    r = _scan(tmp_path, POOL64, {"s/bin/ManagedApp.dll": "ManagedApp.dll",
                                 "s/bin/managed_x86.dll": "mixed_x86_marker.dll"})
    f = _bin(r, "ManagedApp.dll")
    flip, remedy = f.fixes
    assert flip.verified is True
    assert not any(line.lower().startswith("corflags") for fx in f.fixes for line in fx.commands + fx.powershell)
    assert remedy.summary == ("Install the x64 build of 'managed_x86.dll' (e.g. the vendor's x64 package) in "
                              "C:\\s\\bin")
    assert remedy.label == "the x64 build of the x86 DLL"
    assert remedy.note is not None and "mixed-mode (C++/CLI" in remedy.note and "CorFlags cannot" in remedy.note
    assert "a .NET mixed-mode DLL, platform x86" in f.cause and "its build for x64" in f.cause
    # the mixed-mode assembly's own finding: the same remedy (it was "rebuild as AnyCPU": C++/CLI has no AnyCPU build)
    assert _bin(r, "managed_x86.dll").fixes[-1] == remedy


def test_an_x64_only_dependency_in_a_32bit_pool_gets_a_rebuild_of_the_dependency(tmp_path: Path) -> None:
    r = _scan(tmp_path, POOL32, {"s/bin/ManagedApp64.dll": "ManagedApp64.dll",
                                 "s/bin/managed_x64.dll": "managed_x64.dll"})
    f = _bin(r, "ManagedApp64.dll")
    assert f.process_arch is Arch.X86 and f.chain == ("ManagedApp64.dll", "managed_x64.dll (x64)")
    flip, remedy = f.fixes
    assert flip.verified is True and "64-bit" in flip.summary
    assert remedy.summary == "Rebuild 'managed_x64.dll' as AnyCPU or for x86" and remedy.commands == ()
    assert remedy.note is not None and "PE32+" in remedy.note
    assert "'managed_x64.dll' in the same bin folder, which 'ManagedApp64.dll' needs" in f.cause



def test_a_dependency_outside_bin_gets_its_build_and_the_corflags_condition(tmp_path: Path) -> None:
    """The dependency search looks in bin, then the worker's System32 view (facts D1): a dependency found there is not
    a bin load of the plan, so its kind is not told; the remedy is its build, with when CorFlags would do."""
    r = _scan(tmp_path, POOL64, {"s/bin/ManagedApp.dll": "ManagedApp.dll",
                                 "Windows/System32/managed_x86.dll": "managed_x86.dll"})
    f = _bin(r, "ManagedApp.dll")
    assert f.chain == ("ManagedApp.dll", "managed_x86.dll (x86)")
    remedy = f.fixes[-1]
    assert remedy.commands == () and remedy.summary == (
        "Install the x64 or AnyCPU build of 'managed_x86.dll', which 'ManagedApp.dll' needs")
    assert remedy.note is not None and "ILONLY : 1" in remedy.note
    assert "not among the bin files read (found in the worker's System32 view" in f.cause
    assert "'ManagedApp'" in f.symptom  # NOTE: its kind not known: the assembly that needs it is named


def _manager(r: Report, file: str) -> Finding:
    [f] = [f for f in r.findings if f.rule == "iis-manager-32bit-assembly" and f.binary == f"C:\\s\\bin\\{file}"]
    return f


def test_iis_manager_names_the_x86_dependency_and_gives_corflags_on_it(tmp_path: Path) -> None:
    """inetmgr.exe (x64) loads AnyCPU ManagedApp.dll, not its x86 reference: the finding says so, and the remedy is
    the dependency's (the same numbered fix as the worker's finding), never 'rebuild ManagedApp.dll as AnyCPU'."""
    r = _scan(tmp_path, POOL64, {"s/bin/ManagedApp.dll": "ManagedApp.dll", "s/bin/managed_x86.dll": "managed_x86.dll"})
    f = _manager(r, "ManagedApp.dll")
    assert f.process == "inetmgr.exe" and f.chain == ("ManagedApp.dll", "managed_x86.dll (x86)")
    assert "platform AnyCPU (loads in: x86, x64, arm64), which a 64-bit (x64) process loads, but it needs" in f.cause
    assert "which a 64-bit (x64) process cannot load. By" not in f.cause
    assert ("The file with the wrong architecture is 'managed_x86.dll' in the same bin folder, which 'ManagedApp.dll' "
            "needs") in f.cause
    console, remedy = f.fixes
    assert console.commands == ("mmc.exe /32 iis.msc",) and console.note is not None and "web.config" in console.note
    assert remedy.commands == ('corflags "C:\\s\\bin\\managed_x86.dll" /32BITREQ-',)
    assert not any("ManagedApp.dll" in fx.summary for fx in f.fixes)
    assert remedy == _bin(r, "ManagedApp.dll").fixes[-1] == _manager(r, "managed_x86.dll").fixes[-1]


def test_iis_manager_strong_named_and_mixed_mode_dependencies_by_kind(tmp_path: Path) -> None:
    sso = _manager(_scan(tmp_path / "a", POOL32, {"s/bin/SsoClient.dll": "SsoClient.dll",
                                                  "s/bin/Contoso.Sso.dll": "gac_sso_x86.dll"}), "SsoClient.dll")
    # NOTE: a 32-bit pool: the site works, only IIS Manager fails; the remedy is still on the dependency
    assert sso.fixes[-1].commands == ('corflags "C:\\s\\bin\\Contoso.Sso.dll" /32BITREQ- /Force',)
    assert sso.fixes[-1].note is not None and "sn -R" in sso.fixes[-1].note
    mixed = _manager(_scan(tmp_path / "b", POOL64, {"s/bin/ManagedApp.dll": "ManagedApp.dll",
                                                    "s/bin/managed_x86.dll": "mixed_x86_marker.dll"}), "ManagedApp.dll")
    remedy = mixed.fixes[-1]
    assert remedy.summary == ("Install the x64 build of 'managed_x86.dll' (e.g. the vendor's x64 package) in "
                              "C:\\s\\bin") and remedy.commands == ()
    assert not any(line.lower().startswith("corflags") for fx in mixed.fixes for line in fx.commands)
    assert "its build for x64" in mixed.cause


def test_iis_manager_x86_assembly_itself_gets_its_remedy_by_kind(tmp_path: Path) -> None:
    """No chain: the assembly's own remedy, the same numbered fix as the worker's finding (mixed-mode: its x64 build,
    since C++/CLI has no AnyCPU build)."""
    r = _scan(tmp_path, POOL64, {"s/bin/Mixed.dll": "mixed_x86_marker.dll"})
    f = _manager(r, "Mixed.dll")
    assert f.chain == () and "which a 64-bit (x64) process cannot load. By design" in f.cause
    assert f.fixes[-1].summary.startswith("Install the x64 build of 'Mixed.dll'")
    assert f.fixes[-1] == _bin(r, "Mixed.dll").fixes[-1]


def test_arm64_pool_gets_the_x64_flip_and_split_for_an_x64_only_dependency(tmp_path: Path) -> None:
    """Windows 11 on Arm runs x86 and x64 workers by emulation (facts A6, A7): an AnyCPU assembly in a native ARM64
    pool that needs an x64-only one fits the x64 worker, not the x86 one listed first, which verification rejects;
    the flip and the split run it at x64, as the dependency's own finding does."""
    pools = ('<add name="Native" enableEmulationOnWinArm64="false" managedRuntimeVersion="v4.0" />'
             '<add name="Other" enableEmulationOnWinArm64="false" managedRuntimeVersion="v4.0" />')
    sites = site("S", 1, "Native", r"C:\s") + site("T", 2, "Native", r"C:\t") + site("U", 3, "Other", r"C:\u")
    r = scan(make_image(tmp_path, apphost(pools, sites), {"s/bin/ManagedApp64.dll": "ManagedApp64.dll",
                                                          "s/bin/managed_x64.dll": "managed_x64.dll",
                                                          "t/bin/Any.dll": "managed_anycpu.dll"}),
             ScanOptions(os_arch=Arch.ARM64))
    f = _bin(r, "ManagedApp64.dll")
    assert f.process_arch is Arch.ARM64 and f.chain == ("ManagedApp64.dll", "managed_x64.dll (x64)")
    flip, split, remedy = f.fixes
    assert flip.verified is True and flip.summary == "Run application pool 'Native' as 64-bit (x64)"
    assert split.verified is True and "'Native (x64)'" in split.summary
    assert remedy.summary == "Rebuild 'managed_x64.dll' as AnyCPU or for arm64"
    assert f.fixes == _bin(r, "managed_x64.dll").fixes


def test_iis_manager_native_dependency_is_the_workers_bin_file_built_for_inetmgr(tmp_path: Path) -> None:
    """inetmgr.exe loads the assemblies of a bin only: a native DLL one of them needs (here the real nativelib_x86.dll
    laid out under the referenced name) is the 32-bit worker's load of the same file, where it fits; the remedy is its
    build for inetmgr.exe's architecture (x64), not the worker's (x86), and never 'found in System32'."""
    r = _scan(tmp_path, POOL32, {"s/bin/ManagedApp.dll": "ManagedApp.dll", "s/bin/managed_x86.dll": "nativelib_x86.dll"})
    f = _manager(r, "ManagedApp.dll")
    assert f.chain == ("ManagedApp.dll", "managed_x86.dll (x86)")
    assert "'managed_x86.dll' in the same bin folder, which 'ManagedApp.dll' needs: an x86 native DLL" in f.cause
    assert "System32" not in f.cause
    remedy = f.fixes[-1]
    assert remedy.summary == "Install the x64 build of 'managed_x86.dll' (e.g. the vendor's x64 package) in C:\\s\\bin"
    assert remedy.note is not None and "a 64-bit process" in remedy.note and remedy.commands == ()


def test_the_dependency_index_keys_only_the_files_a_chain_ends_at(tmp_path: Path) -> None:
    """culprit's index of a plan (issue 25: a key per ``bin`` file cost 20 ms of a 10,000-assembly scan) holds the
    dependency a chain ends at, by process and by application, and no other file of the ``bin``; culprit finds it."""
    from iisbitness.config.apphost import read_server
    from iisbitness.image.server_image import ServerImage
    from iisbitness.loadplan.build import build
    from iisbitness.loadplan.context import PlanContext
    from iisbitness.loadplan.plan import LoadKind
    from iisbitness.rules._assembly import _bin_by_name, culprit

    image = make_image(tmp_path, apphost(POOL64 + OTHER, site("S", 1, "P64", r"C:\s") + site("T", 2, "Other", r"C:\t")),
                       {"s/bin/ManagedApp.dll": "ManagedApp.dll", "s/bin/managed_x86.dll": "managed_x86.dll",
                        "s/bin/Plain.dll": "managed_anycpu.dll", "t/bin/Any.dll": "managed_anycpu.dll"})
    img = ServerImage.offline(image)
    plan = build(read_server(img, Arch.X64, "test"), PlanContext(img))
    index = _bin_by_name(plan)
    assert index and {k[-1] for k in index} == {"managed_x86.dll"}
    [app] = [ld for ld in plan.loads_of(LoadKind.BIN_ASSEMBLY)
             if ld.name == "ManagedApp.dll" and ld.binary.chain and ld.process.pool is not None]
    name, needed_by, found = culprit(plan, app)
    assert (name, needed_by) == ("managed_x86.dll", "ManagedApp.dll")
    assert found is not None and found.name == "managed_x86.dll" and found.process == app.process
