"""``iisbitness explain`` on real texts as users paste them (pasted_cases.toml): the verdict each must get, through
the CLI's stdin in both formats, also when the paste comes with Windows line ends and trailing blanks."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from tests.explain.test_kb_cases import wrap60

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = tomllib.loads((HERE / "pasted_cases.toml").read_text("utf-8"))["case"]
SCHEMA = json.loads(resources.files("iisbitness.formats").joinpath("schema/explain-1.json").read_text("utf-8"))


def _explain(text: str, fmt: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["explain", "--format", fmt], input=text.encode("utf-8"))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


def _verdict(doc: dict[str, Any]) -> tuple[str, str]:
    """``(lead, bitness)`` as pasted_cases.toml spells them, from explain's JSON document."""
    ranked = [(c["rank"], c["rule"]) for c in doc["causes"]]
    ranked += [(o["rank"], f"not:{o['id']}") for o in doc["not_bitness"]]
    lead = min(ranked)[1] if ranked else "none"
    order = {"low": 1, "medium": 2, "high": 3}
    best = max((c["confidence"] for c in doc["causes"]), key=order.__getitem__, default="none")
    return lead, best


def test_cases_are_many_and_named_once() -> None:
    names = [c["name"] for c in CASES]
    assert len(names) >= 40 and len(set(names)) == len(names)
    assert all(c["source"].startswith(("http://", "https://")) for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_pasted_text_gets_its_verdict(case: dict[str, Any]) -> None:
    code, out = _explain(case["text"], "json")
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    lead, best = _verdict(doc)
    assert (lead if "lead" in case else None, best) == (case.get("lead"), case["bitness"])
    assert code == (1 if lead == "none" else 0)
    assert doc["bitness_likely"] is (best == "high" and lead in {c["rule"] for c in doc["causes"]})
    shown = {f"not:{o['id']}" for o in doc["not_bitness"]}
    assert set(case.get("shows", ())) <= shown
    assert set(case.get("entries", ())) <= {x["id"] for x in doc["explanations"]}
    assert set(case.get("causes", ())) <= {c["rule"] for c in doc["causes"]}
    assert set(case.get("steps", ())) <= {step["command"] for step in doc["next_steps"]}
    text_code, text = _explain(case["text"], "text")
    assert text_code == code and text.strip()


def _notepad(text: str) -> str:
    """A paste from Notepad or a Windows console: CRLF line ends, blanks at line ends and after the text."""
    return "\r\n".join(line + "  " for line in text.split("\n")) + "\r\n\r\n"


@pytest.mark.parametrize("reshape", [_notepad, wrap60], ids=["crlf-and-blanks", "wrapped-at-60"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_line_ends_blanks_and_wrapping_change_nothing(case: dict[str, Any], reshape: Callable[[str], str]) -> None:
    """The same text with Windows line ends and trailing blanks, or hard-wrapped at 60 columns by a mail client
    or a forum, gets the same verdict."""
    pasted = reshape(case["text"])
    assert _verdict(json.loads(_explain(pasted, "json")[1])) == _verdict(json.loads(_explain(case["text"], "json")[1]))
