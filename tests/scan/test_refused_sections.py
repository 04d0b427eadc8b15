"""Duplicates in sections the scan reads for nothing else (httperr): IIS refuses the whole web.config (HTTP 500.19,
0x800700B7, KB 942055), so every application at or below it fails, bitness aside.

The real IIS 8.5 applicationHost.config (c1982/IIS-SharedGitConfig: stock ``<error statusCode="404">``, ``default.htm``
and ``index.html`` default documents, an ``X-Name`` custom header, ``TRACE`` denied, ``bin`` hidden) with real
web.config files of the corpus as ikinci.com's root web.config, each changed in one place. Keys as IIS_schema.xml
declares them: ``httpErrors``' combined key ``statusCode`` + ``subStatusCode`` (default ``-1``), ``verbs``' ``verb``
case-sensitive, the others not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.image.server_image import ServerImage
from iisbitness.model.source import DuplicateEntry
from tests.conftest import CORPUS, corpus_dir
from tests.scan.test_refused import APPHOST, _image, _line, _refused, _scan

if not (CORPUS / "iis-config").is_dir():  # NOTE: before the import below: that module skips itself there
    pytest.skip(f"no shared corpus at {CORPUS / 'iis-config'}", allow_module_level=True)
from tests.scan.test_refused_inherited import RAW, _api_image, _coverage


def _corpus(name: str) -> str:
    return (corpus_dir("iis-config") / name).read_text("utf-8")


BONCODE = _corpus("cyberious__puppet-boncode__files__web.config")
RICK = _corpus("RickStrahl__WebConnection-WebDemo__web__web.config")
COLLINS = _corpus("collinsauve__AspNetCoreTest__WebApplication2__Web.config")
CHEF = _corpus("david-garcia-garcia__iischef__iischef.core__IIS__.well-known__acme-challenge__web.config")
HTTP_ERRORS = '<httpErrors existingResponse="PassThrough" />'
LIMITS = '<requestLimits maxAllowedContentLength="524288000" />'
ROOT = "vhosts/ikinci.com/http/web.config"


def _root(tmp_path: Path, text: str, old: str, new: str) -> Path:
    """ikinci.com (with its child application /api, RawIsapi's real web.config) whose root web.config is ``text`` with
    ``old`` replaced by ``new`` (once; ``old`` must occur)."""
    assert old in text
    image, _ = _api_image(tmp_path, RAW, root=text.replace(old, new, 1))
    return image


def _not_refused(image: Path) -> None:
    apps = _coverage(image)
    assert apps["ikinci.com/"]["status"] != "not-checked", apps["ikinci.com/"]


def test_an_error_page_the_server_has_for_the_status_refuses_the_web_config(tmp_path: Path) -> None:
    """``<error statusCode="404" path=...>`` in the web.config's ``<httpErrors>``, which the server lists already (its
    stock 404 page, subStatusCode -1 by default), with no ``<remove statusCode="404"/>``: IIS refuses the whole
    web.config, so ikinci.com/ and its child application are not checked, the problem and the coverage reason naming
    the combined key. It was reported as if IIS ran it."""
    error = '<error statusCode="404" path="/nf.htm" responseMode="ExecuteURL" />'
    image = _root(tmp_path, BONCODE, HTTP_ERRORS, f'<httpErrors existingResponse="PassThrough">{error}</httpErrors>')
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == (ROOT, _line(BONCODE, HTTP_ERRORS))
    server = _line(_image(tmp_path / "plain", None)[1], '<error statusCode="404"') + 3  # NOTE: _api_image's 3 lines
    message = problem["message"]
    assert ('<error statusCode="404" subStatusCode="-1"> in system.webServer/httpErrors adds an entry the collection '
            f"already holds there (added at {APPHOST}:{server})") in message, message
    assert "combined key attributes 'statusCode, subStatusCode' set to '404, -1'" in message, message
    assert '<remove statusCode="404" subStatusCode="-1"/> (or <clear/>) before it makes it legal' in message, message
    apps = _coverage(image)
    assert apps["ikinci.com/"]["status"] == apps["ikinci.com/api"]["status"] == "not-checked", apps
    assert ('which adds <error statusCode="404" subStatusCode="-1"> to system.webServer/httpErrors a second time'
            in apps["ikinci.com/"]["reasons"][0]), apps["ikinci.com/"]
    server_model = read_server(ServerImage.offline(image), Arch.X64, "test")
    [root] = [a for s in server_model.sites for a in s.applications if f"{a.site}{a.path}" == "ikinci.com/"]
    assert root.refused is not None
    assert root.refused.duplicate == DuplicateEntry("system.webServer/httpErrors", "error", "statusCode, subStatusCode",
                                                    "404, -1")


@pytest.mark.parametrize("error", [
    '<error statusCode="404" subStatusCode="2" path="/nf.htm" />',
    '<remove statusCode="404" /><error statusCode="404" path="/nf.htm" />',
    '<remove statusCode="0404" subStatusCode="-1" /><error statusCode="404" path="/nf.htm" />',
])
def test_another_substatus_or_a_remove_first_is_legal(tmp_path: Path, error: str) -> None:
    """A 404.2 page is another entry (the key combines both codes); a ``<remove>`` naming the status (its subStatusCode
    -1 by default, and numbers compared as numbers) takes the stock page out first: nothing refused."""
    image = _root(tmp_path, BONCODE, HTTP_ERRORS, f'<httpErrors existingResponse="PassThrough">{error}</httpErrors>')
    assert _refused_or_none(image) == []
    _not_refused(image)


def _refused_or_none(image: Path) -> list[str]:
    """The messages of the image's refused problems (none expected)."""
    return [p["message"] for p in json.loads(_scan(image, "json")[1])["problems"] if p.get("refused")]


def test_a_default_document_the_server_lists_without_the_clear(tmp_path: Path) -> None:
    """WebConnection's web.config clears the default documents before adding ``Default.htm`` and ``index.html``: legal.
    Without its ``<clear/>`` both are duplicates of the server's ``default.htm`` and ``index.html`` (the key
    ``value`` has no case): two refusals, in line order."""
    clear = '\t\t\t\t<clear/>\n\t\t\t\t<add value="default.wp"/>'
    assert _refused_or_none(_api_image(tmp_path / "as-is", RAW, root=RICK)[0]) == []
    image = _root(tmp_path, RICK, clear, '\t\t\t\t<add value="default.wp"/>')
    first, second = _refused(image)
    changed = RICK.replace(clear, '\t\t\t\t<add value="default.wp"/>', 1)
    assert (first["file"], first["line"]) == (ROOT, _line(changed, '<add value="Default.htm"/>'))
    assert (second["file"], second["line"]) == (ROOT, _line(changed, '<add value="index.html"/>'))
    assert '<add value="Default.htm"> in system.webServer/defaultDocument/files adds an entry' in first["message"]
    assert _coverage(image)["ikinci.com/"]["status"] == "not-checked"


def test_a_custom_header_the_server_adds(tmp_path: Path) -> None:
    """iischef's web.config adds ``Cache-Control`` (legal); adding ``x-name``, which the server adds as ``X-Name``,
    is a duplicate (``name`` has no case): refused."""
    assert _refused_or_none(_api_image(tmp_path / "as-is", RAW, root=CHEF)[0]) == []
    image = _root(tmp_path, CHEF, '<add name="Cache-Control"', '<add name="x-name"')
    [problem] = _refused(image)
    assert problem["line"] == _line(CHEF, '<add name="Cache-Control"')
    assert '<add name="x-name"> in system.webServer/httpProtocol/customHeaders adds an entry' in problem["message"]
    assert _coverage(image)["ikinci.com/"]["status"] == "not-checked"


@pytest.mark.parametrize(("added", "refused"), [
    ('<hiddenSegments><add segment="BIN" /></hiddenSegments>', "hiddenSegments"),
    ('<fileExtensions><add fileExtension=".CONFIG" allowed="true" /></fileExtensions>', "fileExtensions"),
    ('<verbs><add verb="TRACE" allowed="true" /></verbs>', "verbs"),
    ('<verbs><add verb="trace" allowed="true" /></verbs>', None),
])
def test_request_filtering_entries_the_server_holds(tmp_path: Path, added: str, refused: str | None) -> None:
    """collinsauve's web.config sets requestFiltering's request limits (legal); in their place a hidden segment or a
    file extension the server lists already, in any case, or the verb ``TRACE`` it denies already, is a duplicate;
    ``trace`` is another verb (IIS_schema.xml declares ``verb`` case-sensitive): nothing refused."""
    assert _refused_or_none(_api_image(tmp_path / "as-is", RAW, root=COLLINS)[0]) == []
    image = _root(tmp_path, COLLINS, LIMITS, added)
    if refused is None:
        assert _refused_or_none(image) == []
        return
    [problem] = _refused(image)
    assert problem["line"] == _line(COLLINS, LIMITS)
    assert f"in system.webServer/security/requestFiltering/{refused} adds an entry" in problem["message"], problem


def test_applicationhost_listing_an_error_page_twice(tmp_path: Path) -> None:
    """applicationHost.config's own ``<httpErrors>`` lists 404 twice: IIS fails the section for every site (HTTP
    500.19), said once for the server at the second entry's line."""
    stock = '            <error statusCode="404" prefixLanguageFilePath="%SystemDrive%\\inetpub\\custerr" path="404.htm" />\n'
    image, text = _image(tmp_path, (stock, stock + stock.replace('path="404.htm"', 'path="other.htm"')))
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == (APPHOST, _line(text, 'path="other.htm"'))
    assert "IIS answers HTTP 500.19 to every request of every site" in problem["message"], problem


def test_an_error_attribute_the_server_locks(tmp_path: Path) -> None:
    """The stock ``<httpErrors lockAttributes="allowAbsolutePathsWhenDelegated,defaultPath">``: a web.config setting
    ``defaultPath`` is refused (0x80070021, iis-docs "How to Use Locking in IIS 7.0 Configuration"), now that
    ``httpErrors`` is judged; ``existingResponse``, as BonCode's web.config sets it, is not locked."""
    image = _root(tmp_path, BONCODE, HTTP_ERRORS, '<httpErrors defaultPath="C:\\errors\\e.htm" />')
    [problem] = _refused(image)
    assert problem["message"].startswith("HTTP 500.19 (0x80070021, KB 942055)"), problem
    assert '<httpErrors defaultPath="C:\\errors\\e.htm"> in system.webServer/httpErrors sets an attribute locked at ' \
           in problem["message"], problem
