"""Collection keys compared as IIS_schema.xml declares them (refused4, note13 item 1).

IIS_schema.xml declares the key ``name`` of ``globalModules``, ``handlers``, ``modules`` and ``isapiFilters``
``caseSensitive="true"``: a child application's ``<add name="wrappershim">`` beside the ``WrapperShim`` it inherits
is a second handler, not a duplicate (no HTTP 500.19) and not a replacement; a ``<remove name="WRAPPERSHIM"/>``
takes nothing out, so an ``<add name="WrapperShim">`` after it is a duplicate (0x800700B7). The real IIS 8.5
applicationHost.config (c1982/IIS-SharedGitConfig) and the real web.config of i-e-b/RawIsapi, as in
test_refused_inherited, changed in one place each.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.image.server_image import ServerImage
from iisbitness.model.source import DuplicateEntry
from tests.conftest import CORPUS
from tests.scan.test_refused import APPHOST, _line, _refused, _scan

if not (CORPUS / "iis-config").is_dir():  # NOTE: before the import below: that module skips itself there
    pytest.skip(f"no shared corpus at {CORPUS / 'iis-config'}", allow_module_level=True)
from tests.scan.test_refused_inherited import RAW, SHIM, _api_image, _coverage


def _handlers(image: Path, app: str) -> list[str]:
    server = read_server(ServerImage.offline(image), Arch.X64, "test")
    [found] = [a for s in server.sites for a in s.applications if f"{a.site}{a.path}" == app]
    return [h.name for h in found.effects[0].handlers]


def test_an_add_differing_in_case_is_a_second_entry(tmp_path: Path) -> None:
    """``<add name="wrappershim">`` in the child application: IIS keeps both entries (the key is case-sensitive), so
    nothing is refused and the child's handlers hold both; before, the child's replaced the inherited one."""
    api = RAW.replace(SHIM, '<add name="wrappershim"', 1)
    image, _ = _api_image(tmp_path, api)
    assert _handlers(image, "ikinci.com/api").count("WrapperShim") == 1
    assert "wrappershim" in _handlers(image, "ikinci.com/api")
    assert _coverage(image)["ikinci.com/api"]["status"] != "not-checked"


def test_a_remove_differing_in_case_leaves_the_add_a_duplicate(tmp_path: Path) -> None:
    """``<remove name="WRAPPERSHIM"/>`` before the child's ``<add name="WrapperShim">`` removes nothing: the add is
    a duplicate (0x800700B7), and the problem says the remove differs in case; before, it was taken as legal."""
    api = RAW.replace(f"            {SHIM}", f'            <remove name="WRAPPERSHIM" />\n            {SHIM}', 1)
    image, _ = _api_image(tmp_path, api)
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == ("vhosts/ikinci.com/http/api/web.config", _line(api, SHIM))
    assert "set to 'WrapperShim'" in problem["message"], problem
    assert (f'<remove name="WRAPPERSHIM"> at vhosts/ikinci.com/http/api/web.config:{_line(api, SHIM) - 1} differs '
            "in case") in problem["message"], problem
    assert _coverage(image)["ikinci.com/api"]["status"] == "not-checked"


def test_the_refused_problem_names_the_duplicate_entry(tmp_path: Path) -> None:
    """A duplicate's problem carries the entry (:attr:`Problem.duplicate`), which coverage names, not words matched in
    its message."""
    image, _ = _api_image(tmp_path, RAW)
    server = read_server(ServerImage.offline(image), Arch.X64, "test")
    [api] = [a for s in server.sites for a in s.applications if f"{a.site}{a.path}" == "ikinci.com/api"]
    assert api.refused is not None
    assert api.refused.duplicate == DuplicateEntry("system.webServer/handlers", "add", "name", "WrapperShim")


CHEF = "david-garcia-garcia__iischef__iischef.core__IIS__.well-known__acme-challenge__web.config"


def test_a_mime_map_the_server_maps_already_refuses_the_web_config(tmp_path: Path) -> None:
    """staticContent, which the scan reads for nothing else: iischef's real web.config maps ``.`` after removing it
    (legal, nothing said); mapping ``.json`` instead, which the server maps already (its applicationHost.config), with
    no ``<remove>`` of it, is "Cannot add duplicate collection entry of type 'mimeMap'" (0x800700B7): IIS refuses the
    whole web.config, so ikinci.com/ is not checked. It was reported as if IIS served it."""
    chef = (CORPUS / "iis-config" / CHEF).read_text("utf-8")
    image, _ = _api_image(tmp_path, RAW, root=chef)
    assert [p for p in json.loads(_scan(image, "json")[1])["problems"] if p.get("refused")] == []
    changed = chef.replace('<mimeMap fileExtension="." ', '<mimeMap fileExtension=".json" ', 1)
    assert changed != chef
    image, apphost = _api_image(tmp_path / "json", RAW, root=changed)
    server = _line(apphost, '<mimeMap fileExtension=".json"')
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == ("vhosts/ikinci.com/http/web.config", _line(changed, '.json"'))
    assert ('<mimeMap fileExtension=".json"> in system.webServer/staticContent adds an entry the collection already '
            f"holds there (added at {APPHOST}:{server})") in problem["message"], problem
    apps = _coverage(image)
    assert apps["ikinci.com/"]["status"] == "not-checked", apps["ikinci.com/"]
    assert ('which adds <mimeMap fileExtension=".json"> to system.webServer/staticContent a second time'
            in apps["ikinci.com/"]["reasons"][0]), apps["ikinci.com/"]
