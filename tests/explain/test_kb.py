"""The knowledge base file: loads, is complete, and rejects malformed data."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from iisbitness.explain.kb import SCAN_RULE_IDS, KnowledgeBase, KnowledgeBaseError, Specificity, parse_kb

HERE = Path(__file__).parent


def test_every_entry_has_causes_sources_and_meaning(kb: KnowledgeBase) -> None:
    for e in kb.entries:
        assert e.causes or e.specificity is Specificity.NOT_BITNESS, e.id
        assert e.sources, e.id
        assert e.meaning and e.title, e.id
        assert e.patterns or e.weak or e.hints or e.codes or e.events or e.http, e.id


def test_every_rule_is_described_with_checks(kb: KnowledgeBase) -> None:
    assert set(kb.rules) == set(SCAN_RULE_IDS)
    for info in kb.rules.values():
        assert info.checks and info.summary


def test_every_rule_is_reachable(kb: KnowledgeBase) -> None:
    named = {c.rule for e in kb.entries for c in e.causes}
    assert named == set(SCAN_RULE_IDS)


def test_every_entry_has_a_test_string(kb: KnowledgeBase) -> None:
    cases = tomllib.loads((HERE / "kb_cases.toml").read_text("utf-8"))
    missing = [e.id for e in kb.entries if not cases.get(e.id, {}).get("texts")]
    assert not missing
    assert not set(cases) - {e.id for e in kb.entries} - {"negative"}


def test_required_event_ids_are_covered(kb: KnowledgeBase) -> None:
    # facts sheet section H and D6
    wanted = {("w3svc-wp", i) for i in (2214, 2220, 2268, 2274, 2280, 2281, 2282, 2295, 2296, 2298)}
    wanted |= {("was", 5002), ("was", 5009), ("was", 5139), ("w3svc", 1009), ("ancm", 1010)}
    have = {(k.family, k.event_id) for e in kb.entries for k in e.events}
    assert wanted <= have


def test_required_codes_are_covered(kb: KnowledgeBase) -> None:
    for code in (0x800700C1, 0x8007000B, 0xC000007B, 0x8007007E, 0x8007041D, 0x80040154, 0x800A01AD):
        assert kb.by_code(code), hex(code)


def test_http_statuses_are_covered(kb: KnowledgeBase) -> None:
    for status in ("500.30", "500.31", "500.32", "500.33", "500.34", "500.35", "500.36", "500.37", "502.5", "503"):
        assert kb.by_http(status), status


def test_sysmon_is_not_an_iis_provider(kb: KnowledgeBase) -> None:
    assert kb.family_of("Microsoft-Windows-Sysmon", "w3wp.exe") is None
    assert kb.family_of("Microsoft-Windows-Security-Auditing", "C:\\Windows\\System32\\inetsrv\\w3wp.exe") is None
    assert kb.family_of("ASP.NET 4.0.30319.0") == "aspnet"
    assert kb.family_of("IIS Express AspNetCore Module") == "ancm"
    assert kb.family_of("Application Error", "Faulting application name: backgroundTaskHost.exe") is None
    assert kb.family_of("Application Error", "Faulting application name: w3wp.exe") == "crash"


_MINIMAL = """
[[provider]]
family = "w3svc-wp"
names = ["W3SVC-WP"]
[[entry]]
id = "x"
kind = "code"
specificity = "specific"
title = "t"
meaning = "m"
codes = ["0x800700C1"]
causes = [{ rule = "RULE", why = "w" }]
sources = [{ key = "S1", ref = "r" }]
"""


@pytest.mark.parametrize(("edit", "message"), [
    (lambda s: s.replace("RULE", "no-such-rule"), "unknown scan rule"),
    (lambda s: s.replace('codes = ["0x800700C1"]', "patterns = ['(unclosed']"), "bad regular expression"),
    (lambda s: s.replace('kind = "code"', 'kind = "poem"'), "unknown kind"),
    (lambda s: s.replace('codes = ["0x800700C1"]', 'events = ["nope:1"]'), "unknown provider family"),
    (lambda s: s + s[s.index("[[entry]]"):], "duplicate entry ids"),
    (lambda s: s.replace("[[entry]]", "[[entry"), "knowledge.toml"),
    (lambda s: s.replace('specificity = "specific"\n', ""), "'specificity' is required"),
    (lambda s: s.replace('"specific"', '"very"'), "unknown specificity"),
    (lambda s: s.replace('"specific"', '"not-bitness"'), "needs a 'not_bitness' line"),
    (lambda s: s.replace('causes = [{ rule = "binary-missing", why = "w" }]', ""), "'causes' is required"),
    (lambda s: s.replace('title = "t"', 'title = "t"\noverrides = ["nope"]'), "overrides unknown entries"),
    (lambda s: s.replace('title = "t"', 'title = "t"\nspecific_in = { contexts = ["nope"], elsewhere = "suggestive" }'),
     "names known contexts"),
    (lambda s: s.replace('title = "t"', 'title = "t"\nspecific_in = { contexts = ["nope"] }'),
     "'specific_in' needs 'elsewhere'"),
    (lambda s: s.replace('title = "t"', 'title = "t"\nspecific_in = { contexts = [], elsewhere = "suggestive" }'),
     "at least one of its 'contexts'"),
    (lambda s: s.replace('title = "t"', 'title = "t"\nelsewhere = "suggestive"'), "belongs in the 'specific_in' table"),
    (lambda s: s + '\n[[context]]\nid = "c"\ntitle = "t"\ncues = ["x"]\nprefer = []\nrules_out = ["nope"]\n',
     "rules out unknown scan rules"),
    (lambda s: s + '\n[[context]]\nid = "c"\ntitle = "t"\ncues = ["x"]\nprefer = []\nunlikely = ["nope"]\n',
     "finds unknown scan rules unlikely"),
])
def test_malformed_knowledge_is_rejected(edit: object, message: str) -> None:
    text = _MINIMAL.replace("RULE", "binary-missing") if message != "unknown scan rule" else _MINIMAL
    text = edit(text)  # type: ignore[operator]
    with pytest.raises(KnowledgeBaseError, match=message):
        parse_kb(text)


def test_minimal_knowledge_parses() -> None:
    kb = parse_kb(_MINIMAL.replace("RULE", "binary-missing"))
    assert kb.by_code(0x800700C1)[0].id == "x"


def test_rule_ids_exist_in_scan() -> None:
    """Every rule a cause may name is a real scan rule, and every scan rule but binary-invalid (a damaged file,
    no symptom of its own) can be named: a rule added to scan without an explain cause (gac-assembly-arch,
    pool-undefined, isapi-not-allowed) fails here. bin-reference-assembly is not bitness: explain's own
    ``reference-assembly`` cause (not-bitness) says it without naming the rule."""
    rules = pytest.importorskip("iisbitness.rules")
    ids = {str(r.id) for r in rules.RULES}
    assert set(SCAN_RULE_IDS) <= ids
    assert ids - set(SCAN_RULE_IDS) == {"binary-invalid", "bin-reference-assembly"}


def test_every_entry_states_specificity_and_not_bitness_entries_say_what_instead(kb: KnowledgeBase) -> None:
    for e in kb.entries:
        assert isinstance(e.specificity, Specificity), e.id
        if e.specificity is Specificity.NOT_BITNESS:
            assert e.not_bitness and e.read_next, e.id
        if e.specificity is Specificity.GENERIC and e.kind.value in ("http", "event") and e.id.startswith(
                ("http-500-3", "event-ancm")):
            assert e.read_next, e.id  # generic ASP.NET Core evidence says what to read next


def test_only_architecture_evidence_is_specific(kb: KnowledgeBase) -> None:
    """Issue 15: the entries allowed to make a cause HIGH, and nothing else."""
    specific = {e.id for e in kb.entries if e.specificity is Specificity.SPECIFIC}
    assert specific == {"bad-exe-format", "w3svc-start-193", "bad-format", "only-supports-arch", "event-2274",
                        "event-2282", "http-500-32", "event-ancm-1008", "http-500-34", "http-500-35",
                        # messages that name the architecture themselves: no 64-bit Jet 4.0 exists; the
                        # OracleClient text says "64 bit mode with the 32 bit Oracle client"
                        "jet-oledb-64bit", "oracle-client-bitness",
                        # issue 23: a BadImageFormatException whose message names no assembly comes from a
                        # P/Invoke of a native DLL (an assembly of the other architecture names itself)
                        "pinvoke-bad-format"}
    assert kb.entry("bad-format").code_specificity is Specificity.SUGGESTIVE


def test_explain_schema_names_every_rule_a_cause_may_name() -> None:
    """explain --format json is validated against explain-1.json, whose rule enum must follow SCAN_RULE_IDS (a
    cause naming gac-assembly-arch made the 'Could not load file or assembly' report invalid)."""
    schema = json.loads(resources.files("iisbitness.formats").joinpath("schema/explain-1.json").read_text("utf-8"))
    assert set(schema["$defs"]["rule"]["enum"]) == set(SCAN_RULE_IDS)


def test_scan_rule_ids_are_the_rules_registry_but_binary_invalid() -> None:
    """SCAN_RULE_IDS is written out (importing the rules would load every rule, the load plan and the PE reader
    into ``explain``, about 0.3 s): it must name exactly the registry's rules, but ``binary-invalid`` and
    ``bin-reference-assembly`` (not bitness: explain's ``reference-assembly`` cause names no scan rule)."""
    from iisbitness.rules import RULES

    assert len(set(SCAN_RULE_IDS)) == len(SCAN_RULE_IDS)
    assert set(SCAN_RULE_IDS) == {r.id for r in RULES} - {"binary-invalid", "bin-reference-assembly"}
