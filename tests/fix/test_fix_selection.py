"""``fix --select``: the findings the selection leaves out are said, in text as scan says them and in JSON."""

from __future__ import annotations

import json

import jsonschema
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import DEMO, REPO

FIX_SCHEMA = json.loads((REPO / "src/iisbitness/formats/schema/fix-1.json").read_text())


def test_fix_with_a_selection_says_the_findings_it_leaves_out() -> None:
    args = ["fix", str(DEMO / "contoso-iis10"), "--select", "com-inproc-arch"]
    text = CliRunner().invoke(main, args).output
    first, rest = text.split("\n", 1)
    assert first.endswith("(iis7+, 1 finding)")
    assert " ".join(rest.split()).startswith("15 more findings of rules not selected (global-module-arch, "
                                             "native-library-arch, managed-assembly-arch, pool-arch-conflict and "
                                             "3 more: --select/--ignore), not shown.")
    doc = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).output)
    jsonschema.validate(doc, FIX_SCHEMA)
    assert doc["unreported"]["global-module-arch"] == 7 and sum(doc["unreported"].values()) == 15
    whole = CliRunner().invoke(main, ["fix", str(DEMO / "contoso-iis10"), "--format", "json"]).output
    assert "unreported" not in json.loads(whole)
    assert "not shown" not in CliRunner().invoke(main, ["fix", str(DEMO / "contoso-iis10")]).output
