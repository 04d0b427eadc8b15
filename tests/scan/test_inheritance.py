"""Configuration inheritance between applications of one site (facts B3, B4, B9).

Config paths follow URLs: the web.config at a site's root applies to every URL below it, child
applications included, whatever folder those applications live in; ``<location
inheritInChildApplications="false">`` stops a section at the application that owns its path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.image.server_image import ServerImage
from tests.conftest import apphost, make_image, site

POOLS = ('<add name="P32" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />\n'
         '<add name="P64" managedRuntimeVersion="v4.0" />')
CHILD = """                <application path="/child" applicationPool="P64">
                    <virtualDirectory path="/" physicalPath="{physical}" />
                </application>"""
HANDLER = ('<handlers><add name="Vendor" path="*.vnd" verb="*" modules="IsapiModule" '
           'scriptProcessor="C:\\Vendor\\isapi.dll" resourceType="Unspecified" /></handlers>')


def _web(location_attrs: str | None) -> str:
    body = f"<system.webServer>{HANDLER}</system.webServer>"
    if location_attrs is not None:
        body = f'<location path="." {location_attrs}>{body}</location>'
    return f'<?xml version="1.0"?>\n<configuration>\n  {body}\n</configuration>\n'


def _image(tmp_path: Path, web: str, child_physical: str = r"C:\apps\child",
           location: str = "") -> Path:
    sites = site("S", 1, "P32", r"C:\inetpub\s", extra_apps=CHILD.format(physical=child_physical))
    child_folder = child_physical[3:].replace("\\", "/")
    return make_image(tmp_path, apphost(POOLS, sites) + location, {
        "inetpub/s/web.config": web,
        "Vendor/isapi.dll": "isapi_ext_x86.dll",
        f"{child_folder}/default.htm": "<html></html>",
    })


def _hits(img: Path) -> set[tuple[str, str | None, str | None]]:
    return {(f.rule, f.pool, f.application) for f in scan(img).findings}


def test_site_root_web_config_reaches_a_child_application_in_another_folder(tmp_path: Path) -> None:
    """The x86 ISAPI handler of the site's root web.config also maps *.vnd under /child, whose 64-bit pool
    cannot load it (HTTP 500, 0x800700C1): the finding names the child's pool and the parent's file:line."""
    report = scan(_image(tmp_path, _web(None)))
    [f] = report.findings
    assert (f.rule, f.pool, f.application) == ("isapi-extension-arch", "P64", "/child")
    assert f.config is not None and (f.config.file, f.config.line) == ("inetpub/s/web.config", 3)


def test_inherit_in_child_applications_false_in_web_config(tmp_path: Path) -> None:
    """ASP.NET Core's publish template wraps its handlers in <location path="." inheritInChildApplications=
    "false">: they stay with the site's root application."""
    assert _hits(_image(tmp_path, _web('inheritInChildApplications="false"'))) == set()
    assert _hits(_image(tmp_path / "t", _web('inheritInChildApplications="true"'))) == {
        ("isapi-extension-arch", "P64", "/child")}


def test_inherit_in_child_applications_false_in_apphost_location(tmp_path: Path) -> None:
    loc = f"""<!-- appended -->
<location path="S" inheritInChildApplications="false"><system.webServer>{HANDLER}</system.webServer></location>
"""
    base = '<?xml version="1.0"?>\n<configuration />\n'
    img = _image(tmp_path, base, location="")
    cfg = img / "Windows/System32/inetsrv/config/applicationHost.config"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("</configuration>", loc + "</configuration>"),
                   encoding="utf-8")
    assert _hits(img) == set()
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(' inheritInChildApplications="false"', ""),
                   encoding="utf-8")
    assert _hits(img) == {("isapi-extension-arch", "P64", "/child")}


def test_child_folder_inside_the_parent_folder_is_read_once(tmp_path: Path) -> None:
    """/child lives in C:\\inetpub\\s\\child: its web.config belongs to /child, found by both folder walks but
    counted once, and the parent's handler (beside the child's own) still reaches it."""
    own = ('<?xml version="1.0"?>\n<configuration><system.webServer><handlers>'
           '<add name="Own" path="*.own" verb="*" modules="IsapiModule" scriptProcessor="C:\\Vendor\\own.dll" />'
           '</handlers></system.webServer></configuration>\n')
    img = _image(tmp_path, _web(None), child_physical=r"C:\inetpub\s\child")
    (img / "inetpub/s/child/web.config").write_text(own, encoding="utf-8")
    (img / "Vendor/own.dll").write_bytes((img / "Vendor/isapi.dll").read_bytes())
    got = sorted((f.pool, f.application, f.binary) for f in scan(img).findings)
    assert got == [("P64", "/child", "C:\\Vendor\\isapi.dll"), ("P64", "/child", "C:\\Vendor\\own.dll")]
    server = read_server(ServerImage.offline(img, {}), Arch.X64, "test")
    [child] = [a for s in server.sites for a in s.applications if a.path == "/child"]
    assert [e.config_path for e in child.effects] == ["MACHINE/WEBROOT/APPHOST/s/child"]
    assert [h.name for h in child.effects[0].handlers] == ["Own", "Vendor"]  # the deeper level's handler first


def test_site_filters_reach_every_worker_of_the_site_whatever_inherit_in_child_applications(tmp_path: Path) -> None:
    """ISAPI filters load per site (W3SVC-WP 2268 names the site): the child's 64-bit worker loads the x86 filter
    of the site root's web.config even inside <location path="." inheritInChildApplications="false">."""
    web = ('<?xml version="1.0"?>\n<configuration><location path="." inheritInChildApplications="false">'
           '<system.webServer><isapiFilters><filter name="F" path="C:\\Vendor\\isapi.dll" /></isapiFilters>'
           "</system.webServer></location></configuration>\n")
    assert _hits(_image(tmp_path, web)) == {("isapi-filter-arch", "P64", None)}


def _modules_web(modules: str) -> str:
    return (f'<?xml version="1.0"?>\n<configuration>\n  <system.webServer><modules>{modules}</modules>{HANDLER}'
            '</system.webServer>\n</configuration>\n')


SERVER_MODULES = ('<modules><add name="StaticFileModule" /><add name="IsapiModule" /></modules>'
                  '<handlers><add name="StaticFile" path="*" verb="*" modules="StaticFileModule" /></handlers>')


def test_an_isapi_extension_whose_isapimodule_the_application_clears_is_never_loaded(tmp_path: Path) -> None:
    """The site root's web.config clears ``<modules>`` (keeping StaticFileModule) and maps *.vnd to an x86 ISAPI
    extension with modules="IsapiModule": IIS answers those requests with HTTP 500.21 "bad module" (KB 943891) in the
    root and in /child, which inherits the list, and never loads the DLL, so no bitness finding (it said HTTP 500
    0x800700C1 and offered an x64 build that would change nothing); the load map says why. A ``<remove>`` of
    another module keeps the finding; so does a configuration with no ``<modules>`` section at all."""
    cleared = _modules_web('<clear /><add name="StaticFileModule" />')
    img = make_image(tmp_path / "a", apphost(POOLS, site("S", 1, "P32", r"C:\inetpub\s",
                                                         extra_apps=CHILD.format(physical=r"C:\apps\child")),
                                             location=SERVER_MODULES),
                     {"inetpub/s/web.config": cleared, "Vendor/isapi.dll": "isapi_ext_x86.dll",
                      "apps/child/default.htm": "<html></html>"})
    assert _hits(img) == set()
    skipped = [e for e in scan(img, ScanOptions(load_map=True)).loads or () if e.name == "Vendor"]
    assert {e.application for e in skipped} == {"/", "/child"} and all(e.verdict.value == "skipped" for e in skipped)
    assert "HTTP 500.21" in skipped[0].reason and "IsapiModule" in skipped[0].reason
    kept = tmp_path / "b"
    shutil.copytree(img, kept)
    (kept / "inetpub/s/web.config").write_text(_modules_web('<remove name="StaticFileModule" />'), encoding="utf-8")
    assert _hits(kept) == {("isapi-extension-arch", "P64", "/child")}
    assert _hits(_image(tmp_path / "c", _web(None))) == {("isapi-extension-arch", "P64", "/child")}
