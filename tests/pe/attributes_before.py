"""The assembly-attribute read as it was before issue 25's second round (main at ``c8d81f0``), kept as a reference.

It walks the Assembly's CustomAttribute rows first to last, finding the first with a binary search written
out in Python, and compares names through a helper; the product's shortcuts (the walk last first without a
TargetFramework name, ``bisect`` over a view of the Parent column) must give what this gives on any input,
damaged ones included (tests/pe/test_metadata_attributes.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.pe import metadata as md


def attributes_before(t: md._Tables) -> tuple[str | None, bool]:
    framework: str | None = None
    is_ref = False
    tf_names = t.occurrences(md._TARGET_FRAMEWORK[1])
    ref_names = t.occurrences(md._REFERENCE_ASSEMBLY[1])
    if tf_names == frozenset() and ref_names == frozenset():
        return None, False

    def named(names: frozenset[int] | None, index: int, text: bytes) -> bool:
        return index in names if names is not None else t.string_is(index, text)

    found_tf = False
    for namespace, name, value in _types_before(t):
        if named(ref_names, name, md._REFERENCE_ASSEMBLY[1]):
            is_ref = is_ref or t.string_is(namespace, md._REFERENCE_ASSEMBLY[0])
        elif named(tf_names, name, md._TARGET_FRAMEWORK[1]) and t.string_is(namespace, md._TARGET_FRAMEWORK[0]):
            framework, found_tf = md._first_string_arg(t.blob(value)), True
        if (found_tf or tf_names == frozenset()) and (is_ref or ref_names == frozenset()):
            break
    return framework, is_ref


def _types_before(t: md._Tables) -> Iterator[tuple[int, int, int]]:
    """The old walk: a binary search for the first Assembly row when sorted, first to last; types resolved with
    :meth:`_Tables.row` (the old loop read the same columns with its own Structs)."""
    data, ca, ca_off = t._data, t._formats[md._CUSTOMATTRIBUTE], t._offsets[md._CUSTOMATTRIBUTE]
    count = t.rows[md._CUSTOMATTRIBUTE]
    is_sorted = bool(t._sorted >> md._CUSTOMATTRIBUTE & 1)
    lo, hi = 0, count
    while is_sorted and lo < hi:
        mid = (lo + hi) // 2
        if ca.unpack_from(data, ca_off + ca.size * mid)[0] < md._HAS_CA_ASSEMBLY:
            lo = mid + 1
        else:
            hi = mid
    for i in range(lo, count):
        parent, ctor, value = t.row(md._CUSTOMATTRIBUTE, i + 1)
        if parent != md._HAS_CA_ASSEMBLY:
            if is_sorted:
                return
            continue
        kind, at = ctor & 7, ctor >> 3
        if kind == 3 and 0 < at <= t.rows[md._MEMBERREF]:
            parent_type = t.row(md._MEMBERREF, at)[0]
            if parent_type & 7 > 1:
                continue
            table, at = (md._TYPEREF if parent_type & 7 else md._TYPEDEF), parent_type >> 3
        elif kind == 2:
            table, at = md._TYPEDEF, t.method_owner(at)
        else:
            continue
        if 0 < at <= t.rows[table]:
            columns = t.row(table, at)
            yield columns[2], columns[1], value
