"""A fix that runs a pool at the other bitness takes out a vendor's ``bitness64`` global module; its ``*`` handler
mapping carries ``bitness64`` too (Camstar's ``cepiis.dll``: tests/fixtures/config/real, Gowthamdccpl), so IIS skips
the mapping in the 32-bit worker (facts C7) and its requests go to the next mapping (StaticFile): no 500.21, the
application's code silently stops serving them. The fix says so (text, JSON ``bypassed``) and ranks as one that
breaks requests; a mapping without the preCondition stays a 500.21 (``handlers``)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import REPO, apphost, make_image, site

SCHEMA = json.loads((REPO / "src/iisbitness/formats/schema/scan-2.json").read_text(encoding="utf-8"))
REAL = REPO / "tests/fixtures/config/real/apphost--Gowthamdccpl__AWS-Deployment__applicationHost.config"

MODULE = '<add name="CamstarAppServer" image="C:\\CamstarAppServer\\cepiis.dll" preCondition="bitness64" />'
HANDLER = '<add name="CamstarRequestHandler" path="*" verb="*" modules="CamstarAppServer" preCondition="bitness64" />'


TWIN_MODULE = '<add name="Camstar32" image="C:\\CamstarAppServer\\cepiis32.dll" preCondition="bitness32" />'
TWIN = '<add name="Camstar32Handler" path="*" verb="*" modules="Camstar32" preCondition="bitness32" />'


def _image(tmp_path: Path, handler: str = HANDLER, twin: str = "", *, pool: str = 'managedRuntimeVersion="v4.0"',
           content: tuple[str, str] = ("sites/a/bin/x86only.dll", "managed_x86.dll")) -> Path:
    """The real server's module and handler entries (as found), by default in a v4.0 pool whose site's bin holds an
    x86-only assembly: the pool's flip to 32-bit is the verified fix that takes the module out. ``twin``: the vendor's
    bitness32 mapping of the same path (and its module); ``pool``: the pool's attributes; ``content``: the site's file."""
    real = REAL.read_text("utf-8")
    assert MODULE in real and HANDLER in real
    static = ('<add name="StaticFile" path="*" verb="*" modules="StaticFileModule,DefaultDocumentModule" '
              'resourceType="Either" requireAccess="Read" />')
    location = (f'<modules><add name="CamstarAppServer" preCondition="bitness64" /></modules>\n'
                f'<handlers accessPolicy="Read, Script">\n{handler}\n{twin}\n{static}\n</handlers>')
    modules = MODULE + (TWIN_MODULE if twin else "")
    return make_image(tmp_path, apphost(f'<add name="P" {pool} />', site("A", 1, "P", "C:\\sites\\a"),
                                        f"<globalModules>{modules}</globalModules>", location),
                      {"CamstarAppServer/cepiis.dll": "module_x64.dll", "CamstarAppServer/cepiis32.dll": "module_x86.dll",
                       content[0]: content[1]})


def _scan(img: Path, *args: str) -> str:
    res = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["scan", str(img), *args])
    assert res.exit_code in (0, 1), res.output  # NOTE: 1 with an error finding, 0 with warnings only
    return res.stdout


def test_flip_names_the_bitness64_handler_that_no_longer_applies(tmp_path: Path) -> None:
    img = _image(tmp_path)
    flat = " ".join(_scan(img).split())
    assert "(verified, but P then runs without CamstarAppServer: 1 handler mapping no longer applies)" in flat
    assert ("also: P: the handler mapping naming CamstarAppServer no longer applies (a preCondition false in the "
            "worker then): IIS skips it, and its requests go to the next mapping that matches (StaticFile, say), not "
            "to the application's code: CamstarRequestHandler * (verb *) in A/") in flat
    doc = json.loads(_scan(img, "--format", "json"))
    jsonschema.validate(doc, SCHEMA)
    flip = next(x for x in doc["fixes"] if x["label"] == "run the pool as 32-bit")
    [effect] = [e for e in flip["side_effects"] if e["kind"] == "unloaded"]
    assert effect["bypassed"] == [{"name": "CamstarRequestHandler", "path": "*", "verb": "*", "applications": ["A/"]}]
    assert "handlers" not in effect
    ranked = [x["label"] for x in doc["fixes"] if x["number"] in doc["findings"][0]["fix_numbers"]]
    assert ranked[-1] == "run the pool as 32-bit"


def test_a_handler_without_the_precondition_stays_a_500_21(tmp_path: Path) -> None:
    img = _image(tmp_path, HANDLER.replace(' preCondition="bitness64"', ""))
    doc = json.loads(_scan(img, "--format", "json"))
    flip = next(x for x in doc["fixes"] if x["label"] == "run the pool as 32-bit")
    [effect] = [e for e in flip["side_effects"] if e["kind"] == "unloaded"]
    assert [h["name"] for h in effect["handlers"]] == ["CamstarRequestHandler"] and "bypassed" not in effect


def test_a_flip_onto_the_vendors_bitness32_mapping_bypasses_nothing(tmp_path: Path) -> None:
    """The flip's 32-bit worker serves ``*`` with the vendor's bitness32 mapping: the bitness64 one is skipped, and its
    requests go to the vendor's 32-bit build, not to StaticFile; the fix says no mapping is bypassed (the rule for a
    worker that runs so already says the same), so it is not ranked or refused as one that breaks requests."""
    doc = json.loads(_scan(_image(tmp_path, twin=TWIN), "--format", "json"))
    flip = next(x for x in doc["fixes"] if x["label"] == "run the pool as 32-bit")
    assert not [e for e in flip["side_effects"] if e.get("bypassed") or e.get("handlers")]


def _pool32(tmp_path: Path, handler: str = HANDLER, twin: str = "") -> Path:
    """The same entries served by a 32-bit pool: the bitness64 module is skipped in its worker."""
    return _image(tmp_path, handler, twin, pool='enable32BitAppOnWin64="true"', content=("sites/a/index.htm", "a"))


def _rule(img: Path) -> list[dict[str, object]]:
    doc = json.loads(_scan(img, "--format", "json"))
    jsonschema.validate(doc, SCHEMA)
    return [f for f in doc["findings"] if f["rule"] == "handler-module-skipped"]


def test_a_32bit_pool_serving_the_bitness64_handler_is_warned(tmp_path: Path) -> None:
    [f] = _rule(_pool32(tmp_path))
    assert (f["severity"], f["pool"], f["evidence"]) == ("warning", "P", "read")
    assert "served by the next handler mapping" in str(f["symptom"]) and "CamstarRequestHandler *" in str(f["symptom"])


def test_a_32bit_pool_with_a_handler_without_the_precondition_gets_500_21(tmp_path: Path) -> None:
    [f] = _rule(_pool32(tmp_path, HANDLER.replace(' preCondition="bitness64"', "")))
    assert f["severity"] == "error" and "HTTP 500.21" in str(f["symptom"])


def test_the_vendors_bitness32_mapping_of_the_same_path_is_where_requests_go(tmp_path: Path) -> None:
    res = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["scan", str(_pool32(tmp_path, twin=TWIN)), "--format",
                                                          "json"])
    assert not [f for f in json.loads(res.stdout)["findings"] if f["rule"] == "handler-module-skipped"]
