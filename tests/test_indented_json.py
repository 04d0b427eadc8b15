"""``formats.indented_json.dumps`` writes what ``json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)``
writes, byte for byte, for any JSON value (and falls back to it for what it does not encode itself)."""

from __future__ import annotations

import enum
import gc
import json
import tracemalloc
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iisbitness.formats import indented_json, inspect_json
from iisbitness.pe.walk import inspect_paths
from tests.conftest import PE_BIN


def stdlib(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)


_text = st.text(st.characters(codec=None, exclude_categories=()))  # NOTE: control characters, lone surrogates
_scalars = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | _text
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner) | st.dictionaries(_text, inner, max_size=5),
    max_leaves=40,
)


@pytest.mark.property
@settings(max_examples=400, deadline=None)
@given(_values)
def test_same_text_as_json_dumps(doc: Any) -> None:
    assert indented_json.dumps(doc) == stdlib(doc)


class Kind(str, enum.Enum):
    IL = "il-only"


class Bits(enum.IntEnum):
    X64 = 64


@pytest.mark.parametrize("doc", [
    {}, [], "", 0, True, None, {"a": {}, "b": [], "c": [[]]},
    {"z": 1, "a": [1, "x\n\t\"\\\u0000\u007f\u2028é"], "m": {"k": (1, 2)}},
    {"kind": Kind.IL, "bits": Bits.X64, Kind.IL: 1},  # str subclasses as values and keys, an IntEnum's number
    {"f": 1.5, "n": [float("nan"), float("inf")]},  # floats: json.dumps's own text
    {1: "a", 2: "b"}, {"a": 1, None: 2},  # keys json.dumps turns into strings (sorted: a TypeError either way)
])
def test_same_text_for_subclasses_floats_and_other_keys(doc: Any) -> None:
    try:
        expected = stdlib(doc)
    except TypeError:
        with pytest.raises(TypeError):
            indented_json.dumps(doc)
        return
    assert indented_json.dumps(doc) == expected


def test_a_value_json_cannot_hold_is_its_type_error() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        indented_json.dumps({"a": object()})


def test_inspect_json_is_the_stdlib_text_of_its_document() -> None:
    files = inspect_paths([PE_BIN], deps_arches=[])
    assert inspect_json.render(files) == stdlib(inspect_json.to_document(files)) + "\n"


def test_the_pieces_are_freed_when_it_returns() -> None:
    """Without the garbage collector, only the text is left when ``dumps`` returns: its pieces (more than the text
    itself) are not held until a collection, while a caller copies the text (``+ "\\n"``; issue 25: a 10,000-pool
    report's peak)."""
    doc = {f"key {i}": [f"value {i}", i, None] for i in range(20_000)}
    gc.disable()
    try:
        tracemalloc.start()
        text = indented_json.dumps(doc)
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        gc.enable()
    assert text == json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)
    assert held < 1.5 * len(text), (held, len(text))
