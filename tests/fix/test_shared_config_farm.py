"""A web farm's shared configuration: the file `fix` writes is the one every node whose redirection.config names the
share runs, so the scan and the plan say so (a side effect on servers whose binaries were never read). Real inputs:
test_shared_config's farm node (the corpus's redirection.config enabled, Nordstrom's applicationHost.config on the
share, an x86-only assembly in the farm site's bin)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import corpus_dir, fixture
from tests.scan.test_shared_config import SHARED, _node

SCHEMAS = Path(__file__).resolve().parents[2] / "src/iisbitness/formats/schema"


def _farm(tmp_path: Path) -> tuple[Path, list[str]]:
    share = tmp_path / "share"
    share.mkdir()
    shutil.copy(corpus_dir("iis-config") / SHARED, share / "applicationHost.config")
    image = _node(tmp_path / "node")
    logging = image / "Program Files (x86)/IIS/Advanced Logging"  # NOTE: what the flip to 32-bit loads, read
    logging.mkdir(parents=True)
    for name in ("ClientLoggingHandler.dll", "AdvancedLoggingModule.dll"):
        shutil.copy(fixture("module_x86.dll"), logging / name)
    return image, ["--share", f"\\\\webfarm-cfg\\IISConfig={share}"]


def test_scan_and_fix_say_the_shared_configuration_reaches_every_node(tmp_path: Path) -> None:
    image, share = _farm(tmp_path)
    scan = CliRunner().invoke(main, ["scan", str(image), *share, "--format", "json", "--quiet"])
    doc = json.loads(scan.stdout)
    assert doc["server"]["shared_config"] == "\\\\webfarm-cfg\\IISConfig"
    jsonschema.validate(doc, json.loads((SCHEMAS / "scan-2.json").read_text(encoding="utf-8")))
    text = CliRunner().invoke(main, ["scan", str(image), *share, "--quiet"]).stdout
    assert "shared configuration that redirection.config names (\\\\webfarm-cfg\\IISConfig)" in " ".join(text.split())
    plan = CliRunner().invoke(main, ["fix", str(image), *share, "--quiet"])
    words = " ".join(plan.stdout.split())
    assert "WARNING: This is the shared configuration that redirection.config names (\\\\webfarm-cfg\\IISConfig): " \
           "every server of the web farm that uses it runs it, and a fix changes it for each of them" in words, words
    fix = json.loads(CliRunner().invoke(main, ["fix", str(image), *share, "--format", "json", "--quiet"]).stdout)
    assert fix["changes"] and fix["shared_config"] == "\\\\webfarm-cfg\\IISConfig"
    jsonschema.validate(fix, json.loads((SCHEMAS / "fix-1.json").read_text(encoding="utf-8")))


def test_a_servers_own_configuration_adds_no_key(tmp_path: Path) -> None:
    """Additive: a document of a server without shared configuration is as before."""
    image, _ = _farm(tmp_path)
    (image / "Windows/System32/inetsrv/config/redirection.config").unlink()
    doc = json.loads(CliRunner().invoke(main, ["scan", str(image), "--format", "json", "--quiet"]).stdout)
    assert "shared_config" not in doc["server"]
