"""managed-assembly-arch on an assembly that fits but needs a dependency that does not: the finding names the file
with the wrong architecture and the one that needs it, and the remedy is on that file, by its kind (an IL-only x86
one: CorFlags on it, /Force and a new signature when strong-named; mixed-mode or PE32+: its build for the pool's
architecture, never CorFlags), never a CorFlags line on the AnyCPU assembly itself, which changes nothing. The pool
flip stays offered. Real mcs fixtures (tests/fixtures/pe/bin: ManagedApp.dll references managed_x86, ManagedApp64.dll
managed_x64, SsoClient.dll the strong-named Contoso.Sso; mixed_x86_marker.dll is managed_x86.dll with ILONLY clear)."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import scan
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
