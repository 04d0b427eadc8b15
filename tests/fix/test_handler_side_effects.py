"""A fix that takes a global module out of a worker names the handler mappings whose ``modules`` name it: their
requests then fail with HTTP 500.21 "Handler ... has a bad module ... in its module list" (KB 943891). Said on the
fix's own line and beside its commands (text), in JSON (additive ``handlers``) and in HTML; the fix ranks after
those that break no request (user audit, 2026-12-06)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from iisbitness.arch import Arch
from iisbitness.cli import main
from iisbitness.findings import EffectKind, Fix, SideEffect
from iisbitness.fixes.verify import _rank
from tests.conftest import REPO, corpus_dir, make_image

SCHEMA = json.loads((REPO / "src/iisbitness/formats/schema/scan-2.json").read_text(encoding="utf-8"))

MLBAKERAK = "mlbakerak__WinIRISBuild__applicationHost.config"
"""A real server's configuration: InterSystems' CSP gateway, global module CSPms (no preCondition), named by nine
handler mappings (``modules="CSPms"``: *.cxw, *.zen, *.cls, ...) of three applications, in DefaultAppPool (x64)."""

HANDLERS = ["CSPGatewayManagement *.cxw", "CSPGateway_zen *.zen", "CSPGateway_cls *.cls", "CSPGateway_csp *.csp",
            "CSPGateway_jpg *.jpg", "CSPGateway_gif *.gif", "CSPGateway_png *.png", "CSPGateway_css *.css",
            "CSPGateway_js *.js"]
APPS = ["Default Web Site/csp", "Default Web Site/iris/csp", "Default Web Site/iris/isc"]


def _image(tmp_path: Path) -> Path:
    """That server with an x86 build of CSPms.dll where the configuration names it (a copy; the corpus is never
    edited)."""
    return make_image(tmp_path, corpus_dir("iis-config") / MLBAKERAK,
                      {"Inetpub/CSPGateway/CSPms.dll": "module_x86.dll"})


def _scan(img: Path, *args: str) -> str:
    res = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["scan", str(img), *args])
    assert res.exit_code == 1, res.output
    return res.stdout


def test_precondition_fix_names_the_handler_mappings_it_breaks_in_text(tmp_path: Path) -> None:
    text = _scan(_image(tmp_path))
    flat = " ".join(text.split())  # NOTE: wrapped to the terminal's width
    assert ('preCondition="bitness32" (verified, but DefaultAppPool then runs without CSPms: HTTP 500.21 on 9 '
            'handler mappings)') in flat
    fixes = text.split("\nFixes ", 1)[1]
    block = fixes.split("preCondition:bitness32", 1)[1]
    also = " ".join(line.strip() for line in block.split("also: ", 1)[1].split("\n\n", 1)[0].splitlines())
    assert also == ("DefaultAppPool: HTTP 500.21 on the handler mappings that name CSPms: " + ", ".join(HANDLERS)
                    + " (verb *) in " + ", ".join(APPS))
    ps = _scan(_image(tmp_path / "ps"), "--shell", "powershell")
    assert "also: DefaultAppPool: HTTP 500.21 on the handler mappings that name CSPms: CSPGatewayManagement *.cxw" in ps


def test_precondition_fix_names_the_handler_mappings_in_json_and_html(tmp_path: Path) -> None:
    img = _image(tmp_path)
    doc = json.loads(_scan(img, "--format", "json"))
    jsonschema.validate(doc, SCHEMA)
    fix = next(x for x in doc["fixes"] if x["label"] == 'preCondition="bitness32"')
    [effect] = fix["side_effects"]
    assert (effect["kind"], effect["name"], effect["pool"]) == ("unloaded", "CSPms", "DefaultAppPool")
    assert [f"{h['name']} {h['path']}" for h in effect["handlers"]] == HANDLERS
    assert all(h["verb"] == "*" and h["applications"] == APPS for h in effect["handlers"])
    flip = next(x for x in doc["fixes"] if x["label"] == "run the pool as 32-bit")
    assert all("handlers" not in e for e in flip["side_effects"])  # NOTE: additive: absent where none breaks
    html = _scan(img, "--format", "html")
    assert "HTTP 500.21 on the handler mappings that name CSPms: CSPGatewayManagement *.cxw" in html


def test_a_fix_that_breaks_handler_mappings_ranks_after_one_that_only_unloads() -> None:
    def fix(label: str, handlers: tuple[tuple[str, str, str, tuple[str, ...]], ...]) -> Fix:
        return Fix(summary=label, label=label, commands=("x",), verified=True, side_effects=(
            SideEffect(EffectKind.UNLOADED, "P", "w3wp.exe", "M", "global-module", False, False, Arch.X64, Arch.X64,
                       handlers=handlers),))

    breaks = fix("breaks", (("H", "*.h", "*", ("S/",)),))
    assert [x.label for x in _rank([breaks, fix("unloads", ())])] == ["unloads", "breaks"]


def test_fix_takes_a_fix_that_breaks_handler_mappings_only_by_number(tmp_path: Path) -> None:
    img = _image(tmp_path)
    res = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["fix", str(img)])
    assert "No verified fix to make" in res.stdout and "HTTP 500.21" in res.stdout and "--fix N" in res.stdout
    res = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["fix", str(img), "--fix", "3"])
    assert "preCondition=\"bitness32\"" in res.stdout and "HTTP 500.21 on the handler mappings" in res.stdout
