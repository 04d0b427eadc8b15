"""``--share \\\\server\\share=PATH``: an offline folder standing for a UNC share (issue: UNC content offline).

A site whose physicalPath is on a file server was "not checked" offline with no option to map the share, so an IIS 6
/ Server 2008 machine (no Python 3.11 there for the live scan or ``collect``) had no workable advice. The share name
is the real one of the corpus (``\\\\bti-eic-sql2\\EIC Inventory``, a ``virtualDirectoryDefaults`` physicalPath of
dalawton's applicationHost.config), with a space in it; the application is the demo's Default Web Site moved onto it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from iisbitness.api import ScanOptions, scan
from iisbitness.cli import main
from iisbitness.cli.options import parse_shares
from iisbitness.image.archive import zip_name
from iisbitness.image.paths import unc_share
from iisbitness.image.server_image import ServerImage
from iisbitness.report import CoverageStatus
from tests.conftest import DEMO, corpus_dir, fixture
from tests.image.test_live_roots import machine

SHARE = "\\\\bti-eic-sql2\\EIC Inventory"
ROOT = SHARE + "\\Web Root"
WEB_CONFIG = f"""<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <system.webServer>
    <handlers>
      <add name="LegacyIsapi" path="*.leg" verb="*" modules="IsapiModule"
           scriptProcessor="{ROOT}\\legacy\\legacy_isapi.dll" resourceType="Unspecified" />
    </handlers>
  </system.webServer>
</configuration>
"""


def test_the_share_name_is_the_corpus_one() -> None:
    """The share used here is the one a real applicationHost.config names (so the shape is real, space and all)."""
    real = corpus_dir("iis-config-2") / "applicationhost--dalawton__eic-inventory__applicationHost.config"
    assert f'physicalPath="{SHARE}"' in real.read_text(encoding="utf-8")


def _demo_on_a_share(tmp_path: Path) -> tuple[Path, Path]:
    """``(image, share copy)``: the IIS 10 demo whose Default Web Site lives on ``\\\\bti-eic-sql2\\EIC Inventory\\Web
    Root``, with a 32-bit ISAPI extension there that its web.config maps and the restriction list allows."""
    img, share = tmp_path / "img", tmp_path / "share"
    shutil.copytree(DEMO / "contoso-iis10", img)
    share.mkdir()
    shutil.move(img / "inetpub" / "wwwroot", share / "Web Root")
    (share / "Web Root" / "legacy").mkdir()
    shutil.copyfile(fixture("isapi_ext_x86.dll"), share / "Web Root" / "legacy" / "legacy_isapi.dll")
    (share / "Web Root" / "web.config").write_text(WEB_CONFIG, encoding="utf-8")
    host = img / "Windows" / "System32" / "inetsrv" / "config" / "applicationHost.config"
    text = host.read_text(encoding="utf-8")
    text = text.replace('physicalPath="%SystemDrive%\\inetpub\\wwwroot"', f'physicalPath="{ROOT}"')
    allow = f'<add path="{ROOT}\\legacy\\legacy_isapi.dll" allowed="true" description="Legacy" />\n'
    text = text.replace("</isapiCgiRestriction>", allow + "</isapiCgiRestriction>")
    host.write_text(text, encoding="utf-8")
    return img, share


def _scan(*args: object) -> Result:
    return CliRunner().invoke(main, ["scan", *(str(a) for a in args), "--quiet"])


def test_an_application_on_an_unmapped_share_names_the_option(tmp_path: Path) -> None:
    img, _ = _demo_on_a_share(tmp_path)
    report = scan(img)
    gap = report.unchecked()[0]  # NOTE: then its child application /wconnect, partly checked
    assert (gap.application, gap.status) == ("Default Web Site/", CoverageStatus.NOT_CHECKED)
    assert gap.reasons == (f"physicalPath {ROOT} is on the UNC share {SHARE}, which is not part of the image",)
    # NOTE: forward slashes and double quotes: it pastes into sh, PowerShell and cmd.exe (the share name has a space)
    assert gap.remedy.startswith('--share "//bti-eic-sql2/EIC Inventory=/path/to/copy" (a folder holding a copy of the '
                                 "share, with Web Root in it), or scan on the server itself"), gap.remedy
    assert not [f for f in report.findings if "LegacyReports" in (f.binary or "") or "legacy_isapi" in (f.binary or "")]


def test_with_share_the_application_is_checked_through_the_copy(tmp_path: Path) -> None:
    """Given as ``\\\\server\\share=`` or ``//server/share=``, in any case: the application is checked, its bin and
    web.config read from the copy: the demo's LegacyReports.dll error is back, and the web.config's 32-bit ISAPI
    extension on the share is an error at the web.config's line, named as on the share."""
    img, share = _demo_on_a_share(tmp_path)
    for given in (f"{SHARE}={share}", f"//BTI-EIC-SQL2/eic inventory={share}"):
        res = _scan(img, "--share", given, "--format", "json")
        assert res.exit_code == 1, res.output
        doc = json.loads(res.stdout)
        assert doc["coverage"]["complete"] is True, doc["coverage"]
        rules = {(f["rule"], Path((f["binary"] or "").replace("\\", "/")).name) for f in doc["findings"]}
        assert {("managed-assembly-arch", "LegacyReports.dll"), ("isapi-extension-arch", "legacy_isapi.dll")} <= rules
        [isapi] = [f for f in doc["findings"] if f["rule"] == "isapi-extension-arch"
                   and (f["binary"] or "").endswith("legacy_isapi.dll")][:1]
        head = "//" + given.partition("=")[0].lstrip("\\/").replace("\\", "/")
        assert (isapi["config"]["file"], isapi["config"]["line"]) == (f"{head}/Web Root/web.config", 5), isapi
    # NOTE: the same findings as the demo itself, where the application sits on C: (one more: the ISAPI extension)
    demo = {(f.rule, f.pool) for f in scan(DEMO / "contoso-iis10").findings}
    moved = scan(img, ScanOptions(shares={SHARE: share}))
    assert demo <= {(f.rule, f.pool) for f in moved.findings}
    assert not moved.unchecked()


def test_a_share_copy_keeps_the_image_protections(tmp_path: Path) -> None:
    """A link in the share's copy that leads out of it is named and not followed, as on a drive; ``\\\\?\\UNC\\``
    names the same file; the share's own folder is found case-insensitively; another share stays unmapped."""
    c, d, unc = machine(tmp_path)
    copy = unc / "fileserver" / "sites"
    outside = tmp_path / "outside.dll"
    shutil.copyfile(fixture("managed_x86.dll"), outside)
    os.symlink(outside, copy / "app" / "bin" / "Out.dll")
    img = ServerImage.offline(c, {"D": d}, {"\\\\FileServer\\Sites": copy})
    hit = img.locate(r"\\fileserver\SITES\app\bin\farm.dll")
    assert hit.found and hit.shown == "//FileServer/Sites/app/bin/Farm.dll"
    assert img.host_of(hit.shown) == copy / "app" / "bin" / "Farm.dll"
    assert img.locate(r"\\?\UNC\fileserver\sites\app\bin\Farm.dll").host == hit.host
    out = img.locate(r"\\fileserver\sites\app\bin\Out.dll")
    assert out.host is None and "outside the server image" in (out.problem or "")
    other = img.locate(r"\\fileserver\archive\x.dll")
    assert other.problem == "UNC share: not part of the server image (use --share //fileserver/archive=/path/to/copy)"


def test_bad_share_values_exit_2(tmp_path: Path) -> None:
    """Every command taking --share (scan, fix, collect, check-app --server) reads it with the one parser of the
    shared CLI options (cli.options.parse_shares): the same usage error for each bad value, exit 2."""
    img, share = _demo_on_a_share(tmp_path)
    publish = tmp_path / "publish"
    publish.mkdir()
    commands = (["scan", str(img)], ["fix", str(img)], ["collect", str(img), "-o", str(tmp_path / "x.zip")],
                ["check-app", str(publish), "--server", str(img), "--site", "Default Web Site/"])
    for value in (f"bti-eic-sql2={share}", f"{ROOT}={share}", f"{SHARE}={tmp_path / 'absent'}", f"C:\\x={share}",
                  SHARE):
        errors = set()
        for command in commands:
            res = CliRunner().invoke(main, [*command, "--share", value])
            assert res.exit_code == 2 and "--share" in res.output and "Traceback" not in res.output, (value, res.output)
            errors.add(res.stderr.splitlines()[-1])
        assert len(errors) == 1, (value, errors)
    assert parse_shares((f"//bti-eic-sql2/EIC Inventory={share}",)) == {SHARE: share}


def test_collect_with_share_then_scan_zip_is_the_same_report(tmp_path: Path) -> None:
    """collect of an image with --share puts the share under UNC/ in the zip, as the live collect does: scanning the
    zip gives the scan with --share; --share on a zip is refused (the zip holds what was collected)."""
    img, share = _demo_on_a_share(tmp_path)
    out = tmp_path / "server.zip"
    res = CliRunner().invoke(main, ["collect", str(img), "--share", f"{SHARE}={share}", "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    a = _scan(img, "--share", f"{SHARE}={share}", "--format", "json")
    b = _scan(out, "--format", "json")
    assert a.exit_code == b.exit_code == 1
    assert a.stdout.replace(str(img), "X") == b.stdout.replace(str(out), "X")
    refused = _scan(out, "--share", f"{SHARE}={share}")
    assert refused.exit_code == 2 and "--share does not apply to a collected zip" in refused.stderr
    # NOTE: the command it gives pastes into sh, PowerShell and cmd.exe alike (a \\server\share= did not in sh)
    assert "--share //server/share=/path/to/copy -o x.zip" in refused.stderr


def test_fix_and_check_app_take_share_too(tmp_path: Path) -> None:
    """fix reads the same server as scan (the share's findings and fixes); check-app --server checks a build
    against it with the share mapped (the other applications on the share are not the check's problem)."""
    img, share = _demo_on_a_share(tmp_path)
    without = CliRunner().invoke(main, ["fix", str(img)])
    res = CliRunner().invoke(main, ["fix", str(img), "--share", f"{SHARE}={share}"])
    assert without.exit_code == res.exit_code == 0, res.output
    assert "(iis7+, 14 findings)" in " ".join(without.stdout.split())
    assert "(iis7+, 18 findings)" in " ".join(res.stdout.split()), res.stdout
    publish = tmp_path / "publish"
    (publish / "bin").mkdir(parents=True)
    shutil.copyfile(fixture("managed_x86.dll"), publish / "bin" / "Shop.dll")
    res = CliRunner().invoke(main, ["check-app", str(publish), "--server", str(img), "--site", "Default Web Site/",
                                    "--share", f"{SHARE}={share}", "--format", "json"])
    assert res.exit_code == 1, res.output


def test_unc_share_parts() -> None:
    assert unc_share(r"\\fs\sites\app\bin") == ("fs", "sites", "app\\bin")
    assert unc_share(r"\\?\UNC\fs\sites") == ("fs", "sites", "")
    assert unc_share("//fs/s/a") == ("fs", "s", "a")
    for p in (r"\\fs", r"\\?\C:\x", "C:\\x", r"\\.\pipe\x", ""):
        assert unc_share(p) is None, p


def test_an_iis6_application_on_a_share_is_checked_with_share(tmp_path: Path) -> None:
    """The case the option is for: an IIS 6 server (no Python 3.11 there, so no live scan or collect) whose wconnect
    application's Path is on a file server; its copy given with --share, the application is checked."""
    img, share = tmp_path / "img", tmp_path / "share"
    shutil.copytree(DEMO / "w2003-iis6", img)
    shutil.copytree(img / "inetpub" / "wconnect", share / "wconnect")
    metabase = img / "Windows" / "System32" / "inetsrv" / "MetaBase.xml"
    text = metabase.read_text(encoding="utf-8")
    assert 'Path="c:\\inetpub\\wconnect"' in text
    metabase.write_text(text.replace('Path="c:\\inetpub\\wconnect"', 'Path="\\\\fileserver\\sites\\wconnect"'),
                        encoding="utf-8")
    gap = scan(img).unchecked()[0]
    assert gap.application.endswith("wconnect") and gap.remedy.startswith("--share //fileserver/sites=/path/to/copy")
    res = _scan(img, "--share", f"//fileserver/sites={share}", "--fail-on", "never")
    assert res.exit_code == 0 and "; all 2 applications checked;" in " ".join(res.stdout.split()), res.stdout


def test_a_share_copy_inside_the_image_is_named_as_the_share(tmp_path: Path) -> None:
    """A copy of the share kept inside the C: folder (image/shares/sites) names its files as on the share; one given
    as the C: folder itself (a slip) does not rename every C: file."""
    c = tmp_path / "C"
    (c / "shares" / "sites" / "app").mkdir(parents=True)
    (c / "inetpub").mkdir()
    (c / "shares" / "sites" / "app" / "web.config").write_text("<configuration/>")
    (c / "inetpub" / "web.config").write_text("<configuration/>")
    img = ServerImage.offline(c, shares={"\\\\fs\\sites": c / "shares" / "sites"})
    assert img.locate(r"\\fs\sites\app\web.config").shown == "//fs/sites/app/web.config"
    assert img.locate(r"C:\inetpub\web.config").shown == "inetpub/web.config"
    assert zip_name(img, c / "shares" / "sites" / "app" / "web.config") == "UNC/fs/sites/app/web.config"
    slip = ServerImage.offline(c, shares={"//fs/sites": c})
    assert slip.locate(r"C:\inetpub\web.config").shown == "inetpub/web.config"
    assert zip_name(slip, c / "inetpub" / "web.config") == "C/inetpub/web.config"
    assert slip.host_of(slip.locate(r"\\fs\sites\inetpub\web.config").shown or "") == c / "inetpub" / "web.config"


def test_an_application_folder_linked_out_of_the_share_copy_says_so(tmp_path: Path) -> None:
    """With the share mapped, an application folder that is a link leading out of the copy is not "on a share
    that is not part of the image": the coverage gives the image's own reason, and no --share advice."""
    img, share = _demo_on_a_share(tmp_path)
    outside = tmp_path / "elsewhere"
    shutil.move(str(share / "Web Root"), outside)
    os.symlink(outside, share / "Web Root")
    gap = scan(img, ScanOptions(shares={SHARE: share})).unchecked()[0]
    assert "not part of the image" not in " ".join(gap.reasons) and "outside the server image" in " ".join(gap.reasons)
    assert "--share" not in gap.remedy


def test_the_share_remedy_pastes_into_a_posix_shell_as_it_is(tmp_path: Path) -> None:
    """The remedy coverage gives (``--share "//bti-eic-sql2/EIC Inventory=/path/to/copy"``: forward slashes, quoted
    for the space) run by sh with the copy's path put in: the application is then checked. The backslash form used
    to lose its backslashes in sh and split at the space (user audit, 2026-12-06); the same quoting holds in
    PowerShell and cmd.exe (double quotes, no ``$``, backtick or ``%`` inside)."""
    import subprocess
    import sys

    img, share = _demo_on_a_share(tmp_path)
    gap = scan(img).unchecked()[0]
    option = gap.remedy.split(" (a folder", 1)[0].replace("/path/to/copy", str(share))
    assert option == f'--share "//bti-eic-sql2/EIC Inventory={share}"' and " " not in str(share)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(["sh", "-c", f"{sys.executable} -m iisbitness scan {img} {option} --format json --quiet"],
                         capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 1, out.stderr
    assert json.loads(out.stdout)["coverage"]["complete"] is True


def test_a_hidden_share_s_remedy_keeps_its_dollar_in_sh() -> None:
    """A hidden share (``sites$``, ``IIS Config$``) is double-quoted, as cmd.exe needs (it keeps single quotes, and
    ``--share`` then refused them): a ``$`` before ``=`` is itself in sh and PowerShell too. A ``$`` before a name
    would be a variable there: single quotes."""
    import subprocess

    from iisbitness.image.paths import share_argument

    assert share_argument("fs", "sites$") == '--share "//fs/sites$=/path/to/copy"'
    assert share_argument("fs", "IIS Config$") == '--share "//fs/IIS Config$=/path/to/copy"'
    assert share_argument("fs", "a$b") == "--share '//fs/a$b=/path/to/copy'"
    for server, name in (("fs", "sites$"), ("fs", "IIS Config$"), ("fs", "a$b"), ("fs", "Web Sites"), ("fs", "sites")):
        option = share_argument(server, name)
        out = subprocess.run(["sh", "-c", f"printf '%s\\n' {option}"], capture_output=True, text=True, check=True)
        assert out.stdout.splitlines() == ["--share", f"//{server}/{name}=/path/to/copy"], option
        assert parse_shares((out.stdout.splitlines()[1].replace("/path/to/copy", "/"),)) == {
            f"\\\\{server}\\{name}": Path("/")}
