"""A web.config IIS refuses for what it inherits is reported and left out as one IIS refuses alone.

A real IIS 8.5 applicationHost.config (c1982/IIS-SharedGitConfig) and a real web.config (i-e-b/RawIsapi, which adds
a ``WrapperShim`` ISAPI handler; danieleteti/delphimvcframework's, which sets ``directoryBrowse``), copied into
temporary images and changed in one place each:

- the same web.config in a child application (or a folder) below the site's root adds ``WrapperShim`` again, which
  it inherits from the root's: HTTP 500.19, 0x800700B7 "Cannot add duplicate collection entry" (KB 942055); a
  ``<remove>`` or ``<clear/>`` before it makes it legal;
- applicationHost.config adds a handler twice at one level: IIS refuses it for every site (not per application);
- a handler locked with ``lockItem="true"`` that the web.config removes, a ``lockElements="remove"`` collection, and
  a section a parent web.config locks with ``<location path="api" overrideMode="Deny">``: 0x80070021 (iis-docs "How
  to Use Locking in IIS 7.0 Configuration").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, corpus_dir
from tests.scan.test_refused import APPHOST, _image, _line, _refused, _scan

if not (CORPUS / "iis-config").is_dir():  # NOTE: every test here reads the corpus (a clone without shared/ beside it)
    pytest.skip(f"no shared corpus at {CORPUS / 'iis-config'}", allow_module_level=True)
RAW = (corpus_dir("iis-config") / "i-e-b__RawIsapi__web.config").read_text("utf-8")
DELPHI = (corpus_dir("iis-config") / "danieleteti__delphimvcframework__samples__ISAPI__bin__web.config").read_text(
    "utf-8")
ROOT = '<virtualDirectory path="/" physicalPath="C:\\vhosts\\ikinci.com\\http" logonMethod="ClearText" />\n'
API_APP = ('                </application>\n                <application path="/api" applicationPool="ikinci.com">\n'
           '                    <virtualDirectory path="/" physicalPath="C:\\vhosts\\ikinci.com\\http\\api" />\n')
"""The edit giving the site ikinci.com a child application /api in the folder api below its root."""
SHIM = '<add name="WrapperShim"'


def _api_image(tmp_path: Path, api: str, root: str = RAW, app: bool = True) -> tuple[Path, str]:
    """ikinci.com with ``root`` as its root web.config and ``api`` as api/web.config, api a child application when
    ``app``, else a folder of the root application."""
    edit = (ROOT + "                </application>\n", ROOT + API_APP + "                </application>\n") if app else None
    return _image(tmp_path, edit, {"vhosts/ikinci.com/http/web.config": root,
                                   "vhosts/ikinci.com/http/api/web.config": api})


def _coverage(image: Path) -> dict[str, dict[str, Any]]:
    doc = json.loads(_scan(image, "json")[1])
    return {a["application"]: a for a in doc["coverage"]["applications"]}


def test_a_child_application_adding_a_handler_it_inherits(tmp_path: Path) -> None:
    """The child application's web.config adds ``WrapperShim`` again: IIS answers every request of it with 500.19
    (0x800700B7), naming the file, line and key. It was analysed as if IIS ran it; now it is not checked, and the
    root application, whose web.config IIS takes, still is."""
    image, _ = _api_image(tmp_path, RAW)
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == ("vhosts/ikinci.com/http/api/web.config", _line(RAW, SHIM))
    message = problem["message"]
    assert message.startswith("HTTP 500.19 (0x800700B7, KB 942055) for every request at or below vhosts/ikinci.com/http/api: "
                              "<add name=\"WrapperShim\"> in system.webServer/handlers adds an entry the collection already holds "
                              "there (added at "
                              f"vhosts/ikinci.com/http/web.config:{_line(RAW, SHIM)}): IIS says \"Cannot add duplicate "
                              "collection entry of type 'add' with unique key attribute 'name' set to 'WrapperShim'\""
                              ), message
    assert message.endswith("this web.config is left out"), message
    apps = _coverage(image)
    assert apps["ikinci.com/api"]["status"] == "not-checked", apps["ikinci.com/api"]
    assert apps["ikinci.com/api"]["reasons"][0].startswith(
        "IIS answers every request of it with HTTP 500.19 (it refuses vhosts/ikinci.com/http/api/web.config:")
    assert apps["ikinci.com/"]["status"] != "not-checked", apps["ikinci.com/"]


@pytest.mark.parametrize("first", ['<remove name="WrapperShim" />', "<clear />"])
def test_a_remove_or_clear_before_the_add_makes_it_legal(tmp_path: Path, first: str) -> None:
    """The same child web.config with ``<remove name="WrapperShim"/>`` (or ``<clear/>``) first: IIS takes it."""
    api = RAW.replace(f"            {SHIM}", f"            {first}\n            {SHIM}", 1)
    assert api != RAW
    image, _ = _api_image(tmp_path, api)
    doc = json.loads(_scan(image, "json")[1])
    assert [p for p in doc["problems"] if p.get("refused")] == []
    assert _coverage(image)["ikinci.com/api"]["status"] != "not-checked"


def test_a_folder_adding_a_handler_it_inherits(tmp_path: Path) -> None:
    """In a folder of the root application (no application of its own), the duplicate refuses the folder's requests
    only: the application is partly checked, the folder's web.config named, not the whole application refused."""
    image, _ = _api_image(tmp_path, RAW, app=False)
    [problem] = _refused(image)
    assert problem["file"] == "vhosts/ikinci.com/http/api/web.config" and "0x800700B7" in problem["message"]
    app = _coverage(image)["ikinci.com/"]
    assert app["status"] == "partly-checked", app
    assert any(r.startswith("vhosts/ikinci.com/http/api/web.config: HTTP 500.19 (0x800700B7") for r in app["reasons"])
    # NOTE: the folder named: "at or below this folder" in the application's line read as the application's (R9)
    assert any("for every request at or below vhosts/ikinci.com/http/api: " in r for r in app["reasons"]), app


def test_a_web_config_adding_one_handler_twice(tmp_path: Path) -> None:
    """Two ``<add name="WrapperShim">`` in one file (a copy made twice): the second is refused, at its own line."""
    add = next(line for line in RAW.splitlines() if SHIM in line)
    web = RAW.replace(add, f"{add}\n{add}", 1)
    image, _ = _image(tmp_path, None, {"vhosts/ikinci.com/http/web.config": web})
    [problem] = _refused(image)
    assert problem["line"] == _line(RAW, SHIM) + 1 and "'WrapperShim'" in problem["message"], problem
    assert _coverage(image)["ikinci.com/"]["status"] == "not-checked"


def test_applicationhost_adding_a_handler_twice_is_refused_for_every_site(tmp_path: Path) -> None:
    """applicationHost.config's own ``<location path="">`` adds ``StaticFile`` twice: IIS fails every site's
    requests; the problem says so once, for the server, and the applications are checked as written."""
    text = (corpus_dir("iis-config") / "c1982__IIS-SharedGitConfig__applicationHost.config").read_text("utf-8-sig")
    static = next(line for line in text.splitlines() if '<add name="StaticFile"' in line)
    image, _ = _image(tmp_path, (static, f"{static}\n{static}"))
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == (APPHOST, _line(text, '<add name="StaticFile"') + 1)
    assert "IIS answers HTTP 500.19 to every request of every site" in problem["message"], problem
    assert "set to 'StaticFile'" in problem["message"] and "0x800700B7" in problem["message"]
    assert not problem.get("unread")
    assert all(a["status"] != "not-checked" or "500.19" not in a["reasons"][0] for a in _coverage(image).values())


def test_a_web_config_removing_a_handler_locked_by_lock_item(tmp_path: Path) -> None:
    """``lockItem="true"`` on the server's ``OPTIONSVerbHandler`` (``<location path="">``): the real web.config's
    ``<remove name="OPTIONSVerbHandler"/>`` at Default Web Site's root is refused (0x80070021)."""
    text = (corpus_dir("iis-config") / "c1982__IIS-SharedGitConfig__applicationHost.config").read_text("utf-8-sig")
    options = '<add name="OPTIONSVerbHandler" path="*" verb="OPTIONS" modules="ProtocolSupportModule" '
    image, _ = _image(tmp_path, (options, options + 'lockItem="true" '), {"inetpub/wwwroot/web.config": RAW})
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == ("inetpub/wwwroot/web.config", _line(RAW, '<remove name="OPTIONS'))
    assert problem["message"].startswith(
        "HTTP 500.19 (0x80070021, KB 942055) for every request at or below inetpub/wwwroot: <remove "
        f"name=\"OPTIONSVerbHandler\"> in system.webServer/handlers removes an entry locked at {APPHOST}:"
        f"{_line(text, options)} (lockItem=\"true\")"
    ), problem
    assert _coverage(image)["Default Web Site/"]["status"] == "not-checked"


def test_a_web_config_removing_from_a_collection_whose_remove_is_locked(tmp_path: Path) -> None:
    """``lockElements="remove"`` on the server's ``<handlers>`` of ``<location path="">``: the first ``<remove>`` of
    the real web.config is refused; without the lock, IIS takes the file."""
    text = (corpus_dir("iis-config") / "c1982__IIS-SharedGitConfig__applicationHost.config").read_text("utf-8-sig")
    handlers = text[text.index('<location path="" overrideMode="Allow">'):]
    handlers = handlers[handlers.index("<handlers"):]
    handlers = handlers[:handlers.index(">") + 1]
    locked = handlers.replace("<handlers", '<handlers lockElements="remove"')
    image, _ = _image(tmp_path, (handlers, locked), {"inetpub/wwwroot/web.config": RAW})
    problems = _refused(image)
    removes = [n for n, line in enumerate(RAW.splitlines(), 1) if "<remove name=" in line and "X-Powered-By" not in line]
    assert [p["line"] for p in problems] == removes and len(removes) == 5, problems
    assert all("in system.webServer/handlers: the collection's <remove> directive is locked at " + APPHOST in p["message"] for p in problems)
    assert all('lockElements="remove"' in p["message"] for p in problems)
    image, _ = _image(tmp_path / "unlocked", None, {"inetpub/wwwroot/web.config": RAW})
    doc = json.loads(_scan(image, "json")[1])
    assert [p for p in doc["problems"] if p.get("refused")] == []


@pytest.mark.parametrize(("path", "inherit"), [("api", True), ("api", False), (".", True), (".", False)])
def test_a_section_a_parent_web_config_locks(tmp_path: Path, path: str, inherit: bool) -> None:
    """The root web.config locks ``directoryBrowse`` for api (``<location path="api" overrideMode="Deny">``) or for
    its own level (``path="."``): the child application's real web.config, which sets it, is refused (0x80070021), as
    a lock of applicationHost.config would refuse it; it was analysed as if IIS ran it. A lock in a location with
    ``inheritInChildApplications="false"`` whose settings stop above the child application (``path="."``) is taken to
    bind the child application too, and the problem says that this is assumed (at ``path="api"`` they reach it)."""
    lock = (f'<location path="{path}" overrideMode="Deny"' + ("" if inherit else ' inheritInChildApplications="false"')
            + '>\n<system.webServer>\n<directoryBrowse enabled="false" />\n</system.webServer>\n</location>\n'
            "</configuration>")
    root = RAW.replace("</configuration>", lock)
    image, _ = _api_image(tmp_path, DELPHI, root)
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == ("vhosts/ikinci.com/http/api/web.config",
                                                  _line(DELPHI, "<directoryBrowse"))
    assert problem["message"].startswith(
        "HTTP 500.19 (0x80070021) for every request at or below vhosts/ikinci.com/http/api: this web.config sets "
        f"system.webServer/directoryBrowse, which is locked there (<location path=\"{path}\" overrideMode=\"Deny\"> "
        f"at vhosts/ikinci.com/http/web.config:{_line(root, '<location path=')}"), problem
    assert ("inheritInChildApplications=\"false\": that its lock still binds this child application is ASSUMED"
            in problem["message"]) is (path == "." and not inherit)
    assert _coverage(image)["ikinci.com/api"]["status"] == "not-checked"


@pytest.mark.parametrize("lock", ['lockAttributes="accessPolicy"', 'lockAttributes="*"',
                                  'lockAllAttributesExcept="runAllManagedModulesForAllRequests"'])
def test_a_web_config_setting_an_attribute_the_server_locks(tmp_path: Path, lock: str) -> None:
    """The server's ``<handlers>`` locks its ``accessPolicy`` (by name, all, or all but another): the real
    web.config's ``<handlers accessPolicy="Read, Execute, Script">`` is refused at its line (0x80070021; "Simply
    specifying the attribute in the web.config file causes a configuration failure")."""
    text = (corpus_dir("iis-config") / "c1982__IIS-SharedGitConfig__applicationHost.config").read_text("utf-8-sig")
    handlers = text[text.index('<location path="" overrideMode="Allow">'):]
    handlers = handlers[handlers.index("<handlers"):]
    handlers = handlers[:handlers.index(">") + 1]
    image, _ = _image(tmp_path, (handlers, handlers.replace("<handlers", f"<handlers {lock}")),
                      {"inetpub/wwwroot/web.config": RAW})
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == ("inetpub/wwwroot/web.config", _line(RAW, "<handlers"))
    assert problem["message"].startswith(
        "HTTP 500.19 (0x80070021, KB 942055) for every request at or below inetpub/wwwroot: <handlers accessPolicy=\"Read, "
        f"Execute, Script\"> in system.webServer/handlers sets an attribute locked at {APPHOST}:"), problem
    assert f"({lock})" in problem["message"], problem


@pytest.mark.parametrize("inherit", [True, False])
def test_a_lock_of_applicationhost_in_a_location_not_inherited_by_child_applications(tmp_path: Path,
                                                                                    inherit: bool) -> None:
    """applicationHost.config locks ``directoryBrowse`` for the site (``<location path="ikinci.com"
    overrideMode="Deny">``), with ``inheritInChildApplications="false"`` or without: the child application's real
    web.config, which sets it, is refused either way; with the attribute, the problem (and so the application's
    'not checked' reason) says that the lock reaching the child application is assumed. It said nothing of it."""
    ikinci = ROOT + "                </application>\n"
    image, _ = _image(tmp_path, ("</configuration>", '<location path="ikinci.com" overrideMode="Deny"'
                                 + ("" if inherit else ' inheritInChildApplications="false"')
                                 + '>\n<system.webServer>\n<directoryBrowse enabled="false" />\n</system.webServer>\n'
                                 "</location>\n</configuration>"),
                      {"vhosts/ikinci.com/http/web.config": RAW, "vhosts/ikinci.com/http/api/web.config": DELPHI})
    cfg = image / APPHOST
    cfg.write_text(cfg.read_text("utf-8").replace(ikinci, ROOT + API_APP + "                </application>\n"), "utf-8")
    [problem] = _refused(image)
    assert problem["file"] == "vhosts/ikinci.com/http/api/web.config" and "0x80070021" in problem["message"]
    said = "where the folder of this web.config is in a child application below it, that the lock still binds it is ASSUMED"
    assert (said in problem["message"]) is not inherit, problem
    app = _coverage(image)["ikinci.com/api"]
    assert app["status"] == "not-checked" and any(said in r for r in app["reasons"]) is not inherit, app


def test_iis_manager_finding_of_an_application_iis_refuses_says_what_it_assumes(tmp_path: Path) -> None:
    """The contoso demo with its Default Web Site root web.config adding the server's ``StaticFile`` handler again
    (no ``<remove>``): the application is not checked, but IIS Manager still loads its ``bin``; whether its Handler
    Mappings / Modules pages reach the Add Managed dialogs past the configuration error is documented nowhere, so the
    finding stays and says that it assumes so. Intranet/timesheets, whose configuration IIS takes, says nothing of it."""
    import shutil

    from tests.conftest import DEMO

    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    web = image / "inetpub/wwwroot/web.config"
    web.write_text(web.read_text("utf-8").replace(
        "</configuration>", '  <system.webServer>\n    <handlers>\n      <add name="StaticFile" path="*" verb="*" '
        'modules="StaticFileModule" resourceType="Either" requireAccess="Read" />\n    </handlers>\n'
        "  </system.webServer>\n</configuration>"), "utf-8")
    doc = json.loads(_scan(image, "json")[1])
    refused = [p for p in doc["problems"] if p.get("refused")]
    assert [(p["file"], "set to 'StaticFile'" in p["message"]) for p in refused] == [
        ("inetpub/wwwroot/web.config", True)], refused
    found = {f["application"] or f["site"]: f for f in doc["findings"] if f["rule"] == "iis-manager-32bit-assembly"}
    assumed = "this finding ASSUMES they do"
    root = next(f for f in doc["findings"] if f["rule"] == "iis-manager-32bit-assembly" and f["site"] == "Default Web Site"
                and f["application"] in ("/", None))
    assert assumed in root["cause"] and "IIS refuses this application's configuration (inetpub/wwwroot/web.config:" in (
        root["cause"]), root["cause"]
    assert all(assumed not in f["cause"] for f in found.values() if f["site"] != "Default Web Site"), found
    # NOTE: no "the site itself is not affected" just before saying IIS answers it with 500.19 (review13 R10); a site
    # whose configuration IIS takes still reads so
    assert "not affected" not in root["cause"], root["cause"]
    assert all("the site itself is not affected by this." in f["cause"] for f in found.values()
               if f["site"] != "Default Web Site"), found
