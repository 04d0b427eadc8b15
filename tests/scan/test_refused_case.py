"""Collection keys compared as IIS_schema.xml declares them (refused4, note13 item 1).

IIS_schema.xml declares the key ``name`` of ``globalModules``, ``handlers``, ``modules`` and ``isapiFilters``
``caseSensitive="true"``: a child application's ``<add name="wrappershim">`` beside the ``WrapperShim`` it inherits
is a second handler, not a duplicate (no HTTP 500.19) and not a replacement; a ``<remove name="WRAPPERSHIM"/>``
takes nothing out, so an ``<add name="WrapperShim">`` after it is a duplicate (0x800700B7). The real IIS 8.5
applicationHost.config (c1982/IIS-SharedGitConfig) and the real web.config of i-e-b/RawIsapi, as in
test_refused_inherited, changed in one place each.
"""

from __future__ import annotations

from pathlib import Path

from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.image.server_image import ServerImage
from iisbitness.model.source import DuplicateEntry
from tests.scan.test_refused import _line, _refused
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
