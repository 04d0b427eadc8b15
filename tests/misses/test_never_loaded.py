"""Loads that never happen are reported with their real symptom, never as errors and never silently (issue 12).

Real IIS formats in temporary server images, real fixture binaries (tests/fixtures/pe).
"""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.image.server_image import ServerImage
from iisbitness.scan.pipeline import scan_image
from tests.conftest import apphost, corpus_dir, fixture, make_image, site

POOL64 = '<add name="P64" managedRuntimeVersion="v4.0" />'
X86_HANDLER = ('<handlers><add name="Legacy" path="*.leg" verb="*" modules="IsapiModule" '
               'scriptProcessor="C:\\Legacy\\ext.dll" /></handlers>')


def _restriction(entries: str, not_listed: str = "false") -> str:
    return (f'<security><isapiCgiRestriction notListedIsapisAllowed="{not_listed}" notListedCgisAllowed="false">'
            f"{entries}</isapiCgiRestriction></security>")


def _image(tmp_path: Path, webserver: str, location: str = X86_HANDLER) -> Path:
    return make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s"), webserver, location),
                      {"Legacy/ext.dll": "isapi_ext_x86.dll", "s/index.htm": "hi"})


def test_unlisted_extension_with_not_listed_false_is_a_404_2_note(tmp_path: Path) -> None:
    """KB 943891: not listed and notListedIsapisAllowed false: 404.2, no isapi-extension-arch error; the note
    says the x86 DLL would then fail in the 64-bit worker."""
    r = scan(_image(tmp_path, _restriction("")))
    assert [(f.rule, f.severity.label, f.pool) for f in r.findings] == [("isapi-not-allowed", "note", "P64")]
    f = r.findings[0]
    assert "404.2" in f.symptom and "notListedIsapisAllowed is false" in f.cause
    assert "Allowing it is not enough" in f.cause and f.config is not None and f.config.line is not None


def test_allowed_false_is_a_404_2_note_naming_the_entry(tmp_path: Path) -> None:
    r = scan(_image(tmp_path, _restriction('<add path="C:\\Legacy\\ext.dll" allowed="false" />', not_listed="true")))
    assert [f.rule for f in r.findings] == ["isapi-not-allowed"]
    assert 'allowed="false"' in r.findings[0].cause


def test_listed_allowed_extension_is_analysed(tmp_path: Path) -> None:
    """Allowed (listed with an environment variable in another case): loaded, so the bitness error stands."""
    r = scan(_image(tmp_path, _restriction('<add path="%SystemDrive%\\LEGACY\\EXT.DLL" allowed="true" />')))
    assert [f.rule for f in r.findings] == ["isapi-extension-arch"]


def test_no_restriction_list_means_allowed(tmp_path: Path) -> None:
    assert [f.rule for f in scan(_image(tmp_path, "")).findings] == ["isapi-extension-arch"]


def _sub_dir_image(tmp_path: Path, allow: str) -> Path:
    sites = f"""            <site name="S" id="1">
                <application path="/" applicationPool="P64">
                    <virtualDirectory path="/" physicalPath="C:\\s" allowSubDirConfig="{allow}" />
                </application>
            </site>"""
    sub = ('<configuration><system.webServer><handlers><add name="Sub" path="*.sub" verb="*" modules="IsapiModule" '
           'scriptProcessor="C:\\Legacy\\ext.dll" /></handlers></system.webServer></configuration>')
    return make_image(tmp_path, apphost(POOL64, sites), {"Legacy/ext.dll": "isapi_ext_x86.dll",
                                                         "s/web.config": "<configuration />",
                                                         "s/area/web.config": sub})


def test_web_config_below_a_vdir_with_allow_sub_dir_config_false_is_never_read(tmp_path: Path) -> None:
    r = scan(_sub_dir_image(tmp_path, "false"))
    assert r.findings == ()
    msgs = [(p.file, p.message) for p in r.problems]
    assert any(file == "s/area/web.config" and "allowSubDirConfig is false" in m for file, m in msgs), msgs


def test_web_config_below_a_vdir_is_read_by_default(tmp_path: Path) -> None:
    r = scan(_sub_dir_image(tmp_path, "true"))
    assert [f.rule for f in r.findings] == ["isapi-extension-arch"]
    assert r.findings[0].config is not None and r.findings[0].config.file == "s/area/web.config"


LOCKED_SECTIONS = """<configSections><sectionGroup name="system.webServer">
    <section name="handlers" overrideModeDefault="Deny" /></sectionGroup></configSections>"""


def _locked_image(tmp_path: Path, unlock: str) -> Path:
    text = apphost(POOL64, site("S", 1, "P64", r"C:\s")).replace("<configuration>", "<configuration>" + LOCKED_SECTIONS, 1)
    text = text.replace('<location path="" overrideMode="Allow">', f'<location path="" overrideMode="{unlock}">')
    web = ('<configuration><system.webServer><handlers><add name="Web" path="*.w" verb="*" modules="IsapiModule" '
           'scriptProcessor="C:\\Legacy\\ext.dll" /></handlers></system.webServer></configuration>')
    return make_image(tmp_path, text, {"Legacy/ext.dll": "isapi_ext_x86.dll", "s/web.config": web})


def test_handlers_locked_by_override_mode_default_deny_give_500_19_not_an_error(tmp_path: Path) -> None:
    """handlers overrideModeDefault=Deny and no location unlocking it (the location holds no handlers): the
    web.config's mapping never takes effect (HTTP 500.19, 0x80070021)."""
    r = scan(_locked_image(tmp_path, "Allow"))
    assert r.findings == ()
    p = next(p for p in r.problems if p.file == "s/web.config")
    assert "500.19" in p.message and "overrideModeDefault" in p.message and p.line == 1


def test_location_override_mode_allow_with_handlers_unlocks(tmp_path: Path) -> None:
    text = apphost(POOL64, site("S", 1, "P64", r"C:\s"), location="<handlers />")
    text = text.replace("<configuration>", "<configuration>" + LOCKED_SECTIONS, 1)
    web = ('<configuration><system.webServer><handlers><add name="Web" path="*.w" verb="*" modules="IsapiModule" '
           'scriptProcessor="C:\\Legacy\\ext.dll" /></handlers></system.webServer></configuration>')
    r = scan(make_image(tmp_path, text, {"Legacy/ext.dll": "isapi_ext_x86.dll", "s/web.config": web}))
    assert [f.rule for f in r.findings] == ["isapi-extension-arch"]


def test_location_override_mode_deny_locks_a_default_allow_section(tmp_path: Path) -> None:
    text = apphost(POOL64, site("S", 1, "P64", r"C:\s"))
    text = text.replace("</configuration>", '<location path="S" overrideMode="Deny"><system.webServer><handlers />'
                                            "</system.webServer></location></configuration>")
    web = ('<configuration><system.webServer><handlers><add name="Web" path="*.w" verb="*" modules="IsapiModule" '
           'scriptProcessor="C:\\Legacy\\ext.dll" /></handlers></system.webServer></configuration>')
    r = scan(make_image(tmp_path, text, {"Legacy/ext.dll": "isapi_ext_x86.dll", "s/web.config": web}))
    assert r.findings == ()
    assert any("500.19" in p.message and 'overrideMode="Deny"' in p.message for p in r.problems)


def test_a_broken_bin_dll_is_an_error(tmp_path: Path) -> None:
    """A truncated DLL in bin breaks the application at start like a wrong-bitness one (BadImageFormatException): an
    error on the server itself; in a copy made by hand, where the copy may have cut it, a warning with the same symptom
    (audit 11 K3, tests/scan/test_copy_fault.py)."""
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s")),
                     {"s/bin/Broken.dll": "corrupt_truncated.dll", "s/bin/Good.dll": "managed_anycpu.dll"})
    live = scan_image(ServerImage.machine({"C": img}), ScanOptions(os_arch=Arch.X64), "live")
    for r, severity in ((live, "error"), (scan(img), "warning")):
        assert [(f.rule, f.severity.label, f.binary) for f in r.findings] == [
            ("binary-invalid", severity, "C:\\s\\bin\\Broken.dll")]
        assert "BadImageFormatException" in r.findings[0].symptom and "'Broken'" in r.findings[0].symptom


def test_inspect_lists_every_dll_and_exe_of_a_walk(tmp_path: Path) -> None:
    """A truncated, zero-filled or empty .dll in a folder is listed with its reason (it breaks the app that
    loads it); a text file without MZ that is not named like a binary is still left out."""
    from iisbitness.pe.walk import inspect_paths

    (tmp_path / "zero.dll").write_bytes(b"\0" * 4096)
    (tmp_path / "empty.exe").write_bytes(b"")
    (tmp_path / "notes.dat").write_bytes(b"just some text, long enough to be read as a candidate file" * 3)
    (tmp_path / "good.dll").write_bytes(fixture("managed_anycpu.dll").read_bytes())
    got = {f.path.name: f for f in inspect_paths([tmp_path])}
    assert set(got) == {"zero.dll", "empty.exe", "good.dll"}
    assert got["zero.dll"].image is not None and not got["zero.dll"].image.is_pe
    assert got["empty.exe"].image is not None and not got["empty.exe"].image.is_pe


def test_undocumented_precondition_tokens_are_said_and_404_2_not_asserted(tmp_path: Path) -> None:
    """audit8 G7: the corpus handler (danieleteti delphimvcframework ISAPI web.config, as it is) has preCondition
    "bitness32,winx86_64,winx86_64,winx86_64": winx86_64 is no token IIS documents (iisbitness takes it as the OS
    architecture by inference). In a 32-bit pool refused by the restriction list, the note said "get HTTP 404.2"
    outright and the tokens nowhere; whether IIS maps requests to such a handler is not documented."""
    text = (corpus_dir("iis-config") / "danieleteti__delphimvcframework__samples__ISAPI__bin__web.config").read_text()
    handlers = text[text.index("<handlers>"):text.index("</handlers>") + len("</handlers>")]
    pool32 = '<add name="P32" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />'
    image = make_image(tmp_path, apphost(pool32, site("S", 1, "P32", r"C:\s"), _restriction(""), handlers),
                       {"DEV/dmvcframework/samples/ISAPI/bin/isapiapp.dll": "isapi_ext_x86.dll", "s/index.htm": "hi"})
    r = scan(image, ScanOptions(load_map=True))
    [f] = [f for f in r.findings if f.rule == "isapi-not-allowed"]
    assert f.symptom.startswith("If IIS maps requests to 'miaisapi' at all, they get HTTP 404.2"), f.symptom
    assert "winx86_64, which IIS does not document" in f.symptom
    [entry] = [e for e in r.loads or () if e.name == "miaisapi"]
    assert "holds token winx86_64 that IIS does not document" in entry.reason, entry.reason
