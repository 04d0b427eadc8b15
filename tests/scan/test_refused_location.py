"""A duplicate collection entry in applicationHost.config at a ``<location path>``: IIS answers HTTP 500.19
(0x800700B7) to the requests at or below that path only (KB 942055), so the applications there are not checked and
the rest of the server is, and ``fix`` plans the rest (review13 R2).

The contoso demo, as shipped, with ``<location path="Intranet">`` adding handler ``DupH`` twice: Intranet/ and
Intranet/timesheets (whose findings the demo has) were reported as if IIS served them ("all 9 applications checked"),
and ``fix`` refused the whole server (exit 2).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import DEMO, fixture

APPHOST = "Windows/System32/inetsrv/config/applicationHost.config"
DUP = '                <add name="DupH" path="*.dup" verb="*" modules="IsapiModule" />\n'


def _image(tmp_path: Path, location: str) -> tuple[Path, int]:
    """The demo with ``<location {location}>`` adding ``DupH`` twice; the line of the second ``<add>``."""
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    file = image / APPHOST
    text = file.read_text("utf-8")
    block = (f"    <location {location}>\n        <system.webServer>\n            <handlers>\n{DUP}{DUP}"
             "            </handlers>\n        </system.webServer>\n    </location>\n</configuration>")
    text = text.replace("</configuration>", block)
    file.write_text(text, "utf-8")
    return image, text[: text.rindex(DUP)].count("\n") + 1


def _run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout


def _scan(image: Path) -> dict[str, Any]:
    code, out = _run("scan", str(image), "--format", "json")
    assert code in (0, 1), out
    return dict(json.loads(out))


@pytest.mark.parametrize("inherit", [True, False])
def test_a_location_duplicate_refuses_the_applications_at_or_below_it(tmp_path: Path, inherit: bool) -> None:
    """Intranet/ (and Intranet/timesheets, unless the location says inheritInChildApplications="false") are not
    checked, the reason naming applicationHost.config:line and the key; their findings are gone; the rest of the
    server is checked as before."""
    image, line = _image(tmp_path, 'path="Intranet"' + ("" if inherit else ' inheritInChildApplications="false"'))
    doc = _scan(image)
    [problem] = [p for p in doc["problems"] if p.get("refused")]
    assert (problem["file"], problem["line"]) == (APPHOST, line)
    assert "IIS answers HTTP 500.19 to every request at or below Intranet; the applications there were not checked" \
        in problem["message"], problem
    apps = {a["application"]: a for a in doc["coverage"]["applications"]}
    refused = ["Intranet/", "Intranet/timesheets"] if inherit else ["Intranet/"]
    for name, app in apps.items():
        if name in refused:
            assert app["status"] == "not-checked", app
            assert app["reasons"][0].startswith(
                f"IIS answers every request of it with HTTP 500.19 (it refuses {APPHOST}:{line}, which adds "
                '<add name="DupH"> to system.webServer/handlers a second time): none of its loads happens'), app
            assert app["reasons"][0].endswith("once that applicationHost.config is corrected, scan again"), app
        else:
            assert not any("500.19" in r for r in app["reasons"]), app
    served = {f"{f['site']}{f['application']}" for f in doc["findings"]
              if f["rule"] != "iis-manager-32bit-assembly" and f.get("site")}
    assert "Default Web Site/" in served and not served & set(refused), served
    text = " ".join(_run("scan", str(image))[1].split())
    assert "all 9 applications checked" not in text and f"{len(refused)} of 9 applications not checked" in text


def test_fix_plans_the_rest_of_the_server(tmp_path: Path) -> None:
    """fix no longer refuses the server (exit 2): it plans the other pools' fixes, and a fix that runs Intranet's
    pool at another architecture is not verified, saying IIS refuses Intranet's configuration."""
    image, line = _image(tmp_path, 'path="Intranet"')
    code, out = _run("fix", str(image), "--format", "json")
    assert code in (0, 1), out
    plan = json.loads(out)
    assert plan["chosen"] and all(c["pool"] != "IntranetPool" for c in plan["chosen"]), plan["chosen"]
    said = " ".join(left["reason"] for left in plan["left"])
    assert f"{APPHOST}:{line}" in said and "Intranet/" in said, said


def test_a_server_wide_duplicate_still_refuses_fix(tmp_path: Path) -> None:
    """The same duplicate at ``<location path="">`` (every site): no application is refused alone, so fix plans
    nothing, as before (exit 2)."""
    image, _ = _image(tmp_path, 'path=""')
    code, out = _run("fix", str(image))
    assert code == 2, out
    assert all(a["status"] != "not-checked" for a in _scan(image)["coverage"]["applications"])


def test_a_folder_duplicate_is_its_application_s_alone(tmp_path: Path) -> None:
    """The duplicate at ``<location path="Intranet/reports">``, a folder of Intranet/ that no application is at or
    below: IIS answers 500.19 to the requests at or below that folder only. Intranet/ is partly checked (the problem
    among its reasons), Intranet/timesheets and the rest of the server checked as before, and fix plans the server
    (it refused the whole server with exit 2)."""
    image, line = _image(tmp_path, 'path="Intranet/reports"')
    doc = _scan(image)
    [problem] = [p for p in doc["problems"] if p.get("refused")]
    assert (problem["file"], problem["line"]) == (APPHOST, line)
    assert ("IIS answers HTTP 500.19 to every request at or below Intranet/reports; Intranet/ is partly checked"
            in problem["message"]), problem
    apps = {a["application"]: a for a in doc["coverage"]["applications"]}
    assert apps["Intranet/"]["status"] == "partly-checked", apps["Intranet/"]
    assert f"{APPHOST}: {problem['message']}" in apps["Intranet/"]["reasons"]
    assert not any("500.19" in r for name, a in apps.items() if name != "Intranet/" for r in a["reasons"]), apps
    code, out = _run("fix", str(image), "--format", "json")
    assert code in (0, 1), out
    assert json.loads(out)["chosen"]


HANDLER = ('  <system.webServer>\n    <handlers>\n      <add name="WebConnection_wc" path="*.wc" verb="*" '
           'modules="IsapiModule" scriptProcessor="C:\\inetpub\\wconnect\\bin\\wc.dll" />\n    </handlers>\n'
           '  </system.webServer>\n</configuration>')


def test_a_fix_held_back_by_a_web_config_iis_refuses_says_so_plainly(tmp_path: Path) -> None:
    """The demo's root web.config adds handler WebConnection_wc, so wconnect's adds it again (0x800700B7): a fix
    that runs wconnect's pool at another architecture is not verified, in one sentence naming the file and line (no
    coverage reason quoted inside it, no "what to give the scan": nothing is to be given, the file is to be
    corrected; review13 R6)."""
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    root = image / "inetpub/wwwroot/web.config"
    root.write_text(root.read_text("utf-8").replace("</configuration>", HANDLER), "utf-8")
    code, out = _run("fix", str(image), "--format", "json")
    assert code in (0, 1), out
    [said] = [left["reason"] for left in json.loads(out)["left"] if "wconnect" in left["reason"]]
    assert ("run the pool as 32-bit is not verified: IIS refuses the configuration of Default Web Site/wconnect "
            "(inetpub/wconnect/web.config:5, HTTP 500.19), so what it loads at that architecture is unknown until "
            "that is corrected") in said, said
    assert "scan again" not in said and "what to give" not in said, said


def test_check_app_on_a_server_refusing_the_application_exits_2(tmp_path: Path) -> None:
    """check-app --server --site Intranet/timesheets under the location duplicate: the application is not checked
    (IIS answers it with 500.19 whatever the build), which is "could not check": exit 2, after the report, the
    server's file and line on stderr. It used to exit 0 or 1 on a report of an application never analysed; the
    same build on an application elsewhere on that server is still judged on its findings."""
    image, line = _image(tmp_path, 'path="Intranet"')
    pub = tmp_path / "publish"
    (pub / "bin").mkdir(parents=True)
    shutil.copyfile(fixture("managed_anycpu.dll"), pub / "bin" / "managed_anycpu.dll")
    (pub / "web.config").write_text('<?xml version="1.0"?>\n<configuration><system.web /></configuration>\n')
    r = CliRunner().invoke(main, ["check-app", str(pub), "--server", str(image), "--site", "Intranet/timesheets",
                                  "--format", "json"])
    assert r.exit_code == 2, (r.stdout, r.stderr)
    [app] = json.loads(r.stdout)["coverage"]["applications"]
    assert app["status"] == "not-checked", app
    assert f"{APPHOST}:{line}: " in r.stderr and "so Intranet/timesheets was not checked" in r.stderr, r.stderr
    r = CliRunner().invoke(main, ["check-app", str(pub), "--server", str(image), "--site", "Legacy/"])
    assert r.exit_code in (0, 1), (r.stdout, r.stderr)
