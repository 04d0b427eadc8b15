"""An entry applicationHost.config adds at a ``<location path>`` below a web.config that holds it already is refused
(refused4, note13 item 2).

IIS merges a config path's applicationHost.config ``<location>`` after the web.config files of the URLs above it
(facts B5; "Deep Dive into IIS Configuration with IIS 7 and IIS 8"), so a ``<location path="ikinci.com/api">`` adding
the ``WrapperShim`` handler that the site's root web.config (i-e-b/RawIsapi's, real) adds already, with no
``<remove>``/``<clear/>``, is "Cannot add duplicate collection entry" (HTTP 500.19, 0x800700B7, KB 942055) for every
request at or below ikinci.com/api. It went unsaid: applicationHost.config was judged alone, the web.config files
only against what is above them. The real IIS 8.5 applicationHost.config of c1982/IIS-SharedGitConfig, as in
test_refused_inherited.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import CORPUS
from tests.scan.test_refused import APPHOST, _refused

if not (CORPUS / "iis-config").is_dir():  # NOTE: before the import below: that module skips itself there
    pytest.skip(f"no shared corpus at {CORPUS / 'iis-config'}", allow_module_level=True)
from tests.scan.test_refused_inherited import RAW, _api_image, _coverage

HANDLER = ('<add name="WrapperShim" path="*" verb="*" modules="IsapiModule" '
           'scriptProcessor="C:\\Gits\\RawIsapi\\x64\\Debug\\RawIsapi.dll" />')
WEB = '<?xml version="1.0"?>\n<configuration>\n  <system.web />\n</configuration>\n'


def _located(tmp_path: Path, path: str, app: bool = True) -> tuple[Path, int]:
    """ikinci.com with RAW at its root (and a plain web.config in api, a child application when ``app``), and
    applicationHost.config adding WrapperShim at ``<location path="{path}">``; the line of that add."""
    image, _ = _api_image(tmp_path, WEB, app=app)
    file = image / APPHOST
    text = file.read_text("utf-8")
    block = (f'    <location path="{path}">\n        <system.webServer>\n            <handlers>\n'
             f"                {HANDLER}\n            </handlers>\n        </system.webServer>\n    </location>\n")
    text = text.replace("</configuration>", block + "</configuration>")
    file.write_text(text, "utf-8")
    return image, text[: text.index(HANDLER)].count("\n") + 1


def test_a_location_of_a_child_application_adding_what_the_site_web_config_adds(tmp_path: Path) -> None:
    """ikinci.com/api is not checked, the problem naming applicationHost.config's line, the entry and the web.config
    line it collides with; ikinci.com/ is not refused; said once."""
    image, line = _located(tmp_path, "ikinci.com/api")
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == (APPHOST, line), problem
    raw = RAW[: RAW.index('<add name="WrapperShim"')].count("\n") + 1
    assert f"(added at vhosts/ikinci.com/http/web.config:{raw})" in problem["message"], problem
    assert "IIS answers HTTP 500.19 to every request at or below ikinci.com/api" in problem["message"], problem
    apps = _coverage(image)
    assert apps["ikinci.com/api"]["status"] == "not-checked", apps["ikinci.com/api"]
    assert apps["ikinci.com/api"]["reasons"][0].startswith(
        f"IIS answers every request of it with HTTP 500.19 (it refuses {APPHOST}:{line}, which adds "
        '<add name="WrapperShim"> to system.webServer/handlers a second time)'), apps["ikinci.com/api"]
    assert apps["ikinci.com/"]["status"] != "not-checked", apps["ikinci.com/"]


def test_a_location_of_a_folder_adding_what_the_site_web_config_adds(tmp_path: Path) -> None:
    """The same at ``<location path="ikinci.com/api">`` where api is a folder of ikinci.com/: that application is
    partly checked, and fix plans the server (it is not refused whole)."""
    image, line = _located(tmp_path, "ikinci.com/api", app=False)
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == (APPHOST, line), problem
    app = _coverage(image)["ikinci.com/"]
    assert app["status"] == "partly-checked" and any(f"{APPHOST}: " in r and "0x800700B7" in r
                                                     for r in app["reasons"]), app
    r = CliRunner().invoke(main, ["fix", str(image), "--format", "json"])
    assert r.exit_code in (0, 1), r.output  # NOTE: 2 when a refusal stops fix for the whole server


def test_a_remove_in_the_location_makes_it_legal(tmp_path: Path) -> None:
    """``<remove name="WrapperShim"/>`` before the location's add: IIS takes it, nothing is refused."""
    image, _ = _located(tmp_path, "ikinci.com/api")
    file = image / APPHOST
    text = file.read_text("utf-8")
    file.write_text(text.replace(f"                {HANDLER}", f'                <remove name="WrapperShim" />\n'
                                                               f"                {HANDLER}"), "utf-8")
    r = CliRunner().invoke(main, ["scan", str(image), "--format", "json"])
    assert [p for p in json.loads(r.stdout)["problems"] if p.get("refused")] == []

