"""In-process COM servers of classic ASP pages, resolved in both registry views of a real hive."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.formats.scan_text import render
from iisbitness.image.registry import HiveRegistry, RegistryView, view_of
from iisbitness.report import CoverageStatus, Report
from tests.aspnetcore.image import make_image, put, rules_of, run, write

HIVE = Path(__file__).resolve().parents[1] / "fixtures" / "registry" / "SOFTWARE"
PDF, BARCODE, MAILER, REPORTER = (f"{{6F1C9A3E-2B7D-4E10-9C55-3A8E5D2B1F0{n}}}" for n in range(1, 5))


def test_hive_views() -> None:
    reg = HiveRegistry(HIVE)
    assert reg.progid_clsid("contoso.pdfstamp") == PDF
    assert reg.server(PDF, RegistryView.NATIVE) is None
    wow = reg.server(PDF, RegistryView.WOW64)
    assert wow is not None and wow.inproc is not None and wow.inproc.endswith("pdfstamp.dll")
    mailer64, mailer32 = reg.server(MAILER, RegistryView.NATIVE), reg.server(MAILER, RegistryView.WOW64)
    assert mailer64 is not None and mailer32 is not None and mailer64.inproc != mailer32.inproc
    rep = reg.server(REPORTER, RegistryView.WOW64)
    assert rep is not None and rep.inproc is None and rep.local is not None
    assert view_of(Arch.X64, Arch.X86) is RegistryView.WOW64 and view_of(Arch.ARM64, Arch.X64) is RegistryView.NATIVE
    assert view_of(Arch.X86, Arch.X86) is RegistryView.NATIVE


def _image(root: Path, pool_attrs: str, progid: str) -> None:
    make_image(root, [("AspPool", pool_attrs, "orders")])
    write(root, "inetpub/orders/default.asp",
          f'<%\nSet o = Server.CreateObject("{progid}")\nSet r = CreateObject("Contoso.Reporter")\n%>\n')
    (root / "Windows/System32/config").mkdir(parents=True)
    shutil.copyfile(HIVE, root / "Windows/System32/config/SOFTWARE")
    put(root, "comserver_x86.dll", "Program Files (x86)/Contoso/PdfStamp/pdfstamp.dll")
    put(root, "comserver_x86.dll", "Program Files/Contoso/Barcode/barcode.dll")
    put(root, "comserver_x64.dll", "Program Files/Contoso/Mailer/mailer.dll")
    put(root, "comserver_x86.dll", "Program Files (x86)/Contoso/Mailer/mailer.dll")


def test_registered_only_in_32bit_view_fails_in_64bit_pool(tmp_path: Path) -> None:
    _image(tmp_path, 'managedRuntimeVersion=""', "Contoso.PdfStamp")
    report = run(tmp_path)
    assert rules_of(report) == [("com-inproc-arch", "S1")]
    f = report.findings[0]
    assert "800A01AD" in f.symptom and "WOW6432Node" in f.cause and f.config is not None and f.config.line == 2
    assert f.fixes[0].verified is True and "enable32BitAppOnWin64:true" in f.fixes[0].commands[0]
    assert any("comexp.msc /32" in c for fx in f.fixes for c in fx.commands)


def test_a_dll_registered_only_in_the_other_view_is_read_not_inferred(tmp_path: Path) -> None:
    """The DLL is in the image: its architecture is read from its headers (evidence read, "[x86]"), the registration
    says which view it is in; "inferred" only where the image lacks the DLL (H11)."""
    _image(tmp_path, 'managedRuntimeVersion=""', "Contoso.PdfStamp")
    f = run(tmp_path).findings[0]
    assert (f.rule, f.evidence.value, f.binary_arch, f.arch_inferred) == ("com-inproc-arch", "read", (Arch.X86,), False)
    assert "is an x86 native DLL" in f.cause and "registered only in the 32-bit registry view" in f.cause
    text = render(run(tmp_path))
    assert "pdfstamp.dll [x86]" in text and "inferred" not in text
    loads = scan(tmp_path, ScanOptions(os_arch=Arch.X64, load_map=True)).loads
    [pdf] = [e for e in loads or () if e.name == "Contoso.PdfStamp"]
    assert (pdf.evidence, pdf.verdict.value) == ("read", "cannot-load")
    assert pdf.reason.startswith("registered only in the 32-bit registry view; an x64 process reads the 64-bit view")
    (tmp_path / "Program Files (x86)/Contoso/PdfStamp/pdfstamp.dll").unlink()
    f = run(tmp_path).findings[0]
    assert (f.rule, f.evidence.value, f.binary_arch, f.arch_inferred) == ("com-inproc-arch", "inferred", (Arch.X86,), True)


def test_an_x64_dll_registered_only_in_the_32bit_view_fails_in_the_64bit_pool_and_is_said_x64(tmp_path: Path) -> None:
    """The registration decides the failure (80040154 in the 64-bit view), whatever the DLL is; its architecture is
    the one read, and no flip to a 32-bit worker is offered (that worker finds the class but not an x86 DLL)."""
    _image(tmp_path, 'managedRuntimeVersion=""', "Contoso.PdfStamp")
    put(tmp_path, "comserver_x64.dll", "Program Files (x86)/Contoso/PdfStamp/pdfstamp.dll")
    [f] = run(tmp_path).findings
    assert (f.rule, f.evidence.value, f.binary_arch) == ("com-inproc-arch", "read", (Arch.X64,))
    assert "is an x64 native DLL" in f.cause
    assert not any("enable32BitAppOnWin64" in c for fx in f.fixes for c in fx.commands)


def test_registered_only_in_32bit_view_works_in_32bit_pool(tmp_path: Path) -> None:
    _image(tmp_path, 'enable32BitAppOnWin64="true" managedRuntimeVersion=""', "Contoso.PdfStamp")
    assert rules_of(run(tmp_path)) == []


@pytest.mark.parametrize("attrs", ['managedRuntimeVersion=""', 'enable32BitAppOnWin64="true" managedRuntimeVersion=""'])
def test_registered_in_both_views_fits_every_pool(tmp_path: Path, attrs: str) -> None:
    _image(tmp_path, attrs, "Contoso.Mailer")
    assert rules_of(run(tmp_path)) == []


def test_wrong_architecture_dll_in_64bit_view(tmp_path: Path) -> None:
    _image(tmp_path, 'managedRuntimeVersion=""', "Contoso.Barcode")
    report = run(tmp_path)
    assert rules_of(report) == [("com-inproc-arch", "S1")]
    assert "x86 native DLL" in report.findings[0].cause


def test_no_hive_is_reported_as_a_problem_not_a_finding(tmp_path: Path) -> None:
    _image(tmp_path, 'managedRuntimeVersion=""', "Contoso.PdfStamp")
    (tmp_path / "Windows/System32/config/SOFTWARE").unlink()
    report = run(tmp_path)
    assert rules_of(report) == []
    assert any("not checked" in p.message for p in report.problems)


def test_no_hive_leaves_the_application_whose_pages_create_com_objects_partly_checked(tmp_path: Path) -> None:
    """The application's COM objects were not checked: its coverage says so (it was "checked", the one problem for
    the server in "Could not read" only), naming the ProgIDs, with reg save as the remedy; a .reg export the image holds
    where the hive belongs is named as not read (reg export writes text, the scan reads a hive file)."""
    _image(tmp_path, 'managedRuntimeVersion=""', "Contoso.PdfStamp")
    hive = tmp_path / "Windows/System32/config/SOFTWARE"
    hive.unlink()
    (hive.parent / "Software.reg").write_text("Windows Registry Editor Version 5.00\r\n", encoding="utf-16")
    report = run(tmp_path)
    [c] = report.coverage
    assert c.status is CoverageStatus.PARTLY, c
    [why] = c.reasons
    assert "Contoso.PdfStamp, Contoso.Reporter" in why and "no registry hive in the image" in why
    assert "Windows/System32/config/Software.reg, a .reg export (text), which the scan does not read" in why
    assert c.remedy.startswith("reg save HKLM\\SOFTWARE SOFTWARE.hiv /y")


class _Hung(BaseException):
    """The scan blocked."""


def _run_within_10_seconds(root: Path) -> Report:
    """``run(root)``, failing with :class:`_Hung` (not an OSError, which TimeoutError is and the readers would take
    as an unreadable file) when it blocks."""
    def hung(signum: int, frame: object) -> None:
        raise _Hung

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    try:
        return run(root)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_a_script_file_that_is_a_fifo_is_skipped_not_read_forever(tmp_path: Path) -> None:
    """A FIFO named like an ASP page (a hostile or damaged image) would block the read for ever."""
    _image(tmp_path, 'managedRuntimeVersion=""', "Contoso.PdfStamp")
    os.mkfifo(tmp_path / "inetpub/orders/pipe.asp")
    report = _run_within_10_seconds(tmp_path)
    assert rules_of(report) == [("com-inproc-arch", "S1")]
    [c] = report.coverage  # NOTE: not read, so the application is partly checked, saying which page
    assert c.status is CoverageStatus.PARTLY and any("pipe.asp" in r for r in c.reasons), c


def test_a_registry_hive_that_is_a_fifo_is_a_problem_not_a_hang(tmp_path: Path) -> None:
    _image(tmp_path, 'managedRuntimeVersion=""', "Contoso.PdfStamp")
    hive = tmp_path / "Windows/System32/config/SOFTWARE"
    hive.unlink()
    os.mkfifo(hive)
    report = _run_within_10_seconds(tmp_path)
    assert any("not a regular file" in p.message for p in report.problems), report.problems


@pytest.mark.parametrize("kind", ["huge", "not-a-hive"])
def test_a_huge_or_foreign_registry_hive_is_a_problem_and_not_loaded_into_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """regipy reads the whole hive into memory: a hive over the cap (a sparse file here, the cap lowered) or one
    without the 'regf' signature is refused before it is read."""
    _image(tmp_path, 'managedRuntimeVersion=""', "Contoso.PdfStamp")
    hive = tmp_path / "Windows/System32/config/SOFTWARE"
    if kind == "huge":
        monkeypatch.setattr("iisbitness.image.registry.MAX_HIVE_BYTES", 1 << 20)
        with hive.open("r+b") as f:
            f.truncate(2 << 20)
        expected = "over the 1,048,576-byte limit"
    else:
        hive.write_bytes(b"\0" * 8192)
        expected = "no 'regf' signature"
    report = run(tmp_path)
    assert any(expected in p.message for p in report.problems), report.problems


def test_a_cut_script_search_leaves_the_application_partly_checked(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_SCRIPT_FILES the pages are not read: the report said so in problems but called the application
    checked."""
    _image(tmp_path, 'managedRuntimeVersion=""', "Contoso.PdfStamp")
    for i in range(3):
        write(tmp_path, f"inetpub/orders/page{i}.asp", "<% Response.Write(1) %>\n")
    monkeypatch.setattr("iisbitness.loadplan.collectors.com.MAX_SCRIPT_FILES", 2)
    [c] = run(tmp_path).coverage
    assert c.status is CoverageStatus.PARTLY and any("more than 2 script files" in r for r in c.reasons), c


def test_a_zip_scanned_with_another_os_arch_does_not_take_an_unrecorded_registry_view_as_absent(tmp_path: Path) -> None:
    """``collect --os-arch x86``: the 32-bit pool is native there and only the native view was asked. The scan of the
    zip with ``--os-arch x64`` asks the 32-bit view (WOW6432Node), which the zip does not hold: it was answered
    "absent", and Contoso.Mailer (registered in both views) became "registered only in the 64-bit view", a
    com-inproc-arch error. Now the object is not checked, its application partly checked, with a new collect."""
    from iisbitness.scan.collect import collect, scan_collected
    from iisbitness.scan.pipeline import ScanOptions

    image = tmp_path / "img"
    _image(image, 'enable32BitAppOnWin64="true" managedRuntimeVersion=""', "Contoso.Mailer")
    zipped = tmp_path / "web01.zip"
    collect(image, zipped, ScanOptions(os_arch=Arch.X86))
    with scan_collected(zipped, ScanOptions(os_arch=Arch.X86)) as (same, _):  # NOTE: as collect saw it (the
        # fixture hive's native view names the x64 mailer.dll, which a 32-bit Windows' worker cannot load)
        assert [f.binary for f in same.findings if f.rule == "com-inproc-arch"] == [
            "C:\\Program Files\\Contoso\\Mailer\\mailer.dll"]
        assert not [p for p in same.problems if "COM object" in p.message]
    with scan_collected(zipped, ScanOptions(os_arch=Arch.X64)) as (other, _):
        assert not [f for f in other.findings if f.rule == "com-inproc-arch"], other.findings
        [unasked] = [p for p in other.problems if "COM object 'Contoso.Mailer'" in p.message]
        assert "32-bit registry view's registration" in unasked.message and "not in the zip" in unasked.message
        [orders] = other.coverage
        assert orders.status is CoverageStatus.PARTLY
        assert orders.remedy == "iisbitness collect again, with the --env and --os-arch values given to this scan"
