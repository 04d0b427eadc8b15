"""``line_replacements``: the text edits SARIF's artifactChanges carry, computed on the changed middle only."""

from __future__ import annotations

import difflib
import random

import pytest

from iisbitness.findings import LineReplacement
from iisbitness.fixes.text import line_replacements


def _apply(before: str, reps: tuple[LineReplacement, ...]) -> str:
    lines = before.splitlines(keepends=True)
    for r in sorted(reps, key=lambda r: r.start, reverse=True):
        lines[r.start - 1:r.end - 1] = [r.text]
    return "".join(lines)


def _whole_file(before: str, after: str) -> tuple[LineReplacement, ...]:
    """difflib over the whole file, as before the trim."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    ops = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    return tuple(LineReplacement(i1 + 1, i2 + 1, "".join(new[j1:j2])) for tag, i1, i2, j1, j2 in ops if tag != "equal")


def test_random_edits_apply_and_match_whole_file_difflib() -> None:
    rng = random.Random(25)
    for _ in range(400):
        before_lines = [f"<add name=\"P{rng.randrange(6)}\" />\n" for _ in range(rng.randrange(0, 30))]
        after_lines = list(before_lines)
        for _ in range(rng.randrange(1, 4)):
            at = rng.randrange(len(after_lines) + 1)
            kind = rng.randrange(3)
            if kind == 0 or not after_lines[at:]:
                after_lines.insert(at, f"<add name=\"N{rng.randrange(3)}\" />\n")
            elif kind == 1:
                after_lines[at] = after_lines[at].replace("/>", 'x="1" />')
            else:
                del after_lines[at]
        before, after = "".join(before_lines), "".join(after_lines)
        got = line_replacements(before, after)
        assert _apply(before, got) == after
        # NOTE: the same edit as difflib over the whole file wherever the change is not ambiguous (repeated lines)
        if len(set(before_lines)) == len(before_lines):
            assert got == _whole_file(before, after)


class _Compared:
    """What ``line_replacements`` hands difflib: the number of lines of each pair of sequences it compares (a
    measure of its work that a loaded machine does not change, unlike CPU seconds)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sizes: list[int] = []
        real = difflib.SequenceMatcher
        sizes = self.sizes

        def counted(isjunk: None, a: list[str], b: list[str], autojunk: bool = True) -> difflib.SequenceMatcher[str]:
            sizes.append(len(a) + len(b))
            return real(isjunk, a, b, autojunk=autojunk)

        monkeypatch.setattr(difflib, "SequenceMatcher", counted)


def test_one_line_in_a_large_file_is_not_difflib_over_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # NOTE: a configuration's repeated lines (</application>, </site>) make difflib over the whole file quadratic:
    # 1.5 s of CPU here before the trim (0.4 s at 1,000 sites, over 9 s at 5,000), a few ms after
    before = "".join(f'      <site name="Site{i}">\n        <application path="/" applicationPool="Pool{i}">\n'
                     "        </application>\n      </site>\n" for i in range(2_000))
    after = before.replace('applicationPool="Pool1000"', 'applicationPool="Pool1000x"')
    compared = _Compared(monkeypatch)
    got = line_replacements(before, after)
    assert got == (LineReplacement(4002, 4003, '        <application path="/" applicationPool="Pool1000x">\n'),)
    assert compared.sizes, "difflib was not counted (imported some other way?)"
    assert max(compared.sizes) <= 10, f"difflib over {max(compared.sizes)} lines for one changed line of 8,000"


def test_two_changes_far_apart_are_two_replacements_not_difflib_between_them(monkeypatch: pytest.MonkeyPatch) -> None:
    # NOTE: a split: a pool inserted near the top, an application moved to it near the end; between them thousands of
    # repeated lines. Setting aside only the common ends left difflib all of them (29 s of 56 on 200 pools' SARIF)
    pools = "".join(f'      <add name="Pool{i}" />\n' for i in range(2_000))
    sites = "".join(f'      <site name="Site{i}">\n        <application path="/" applicationPool="Pool{i}">\n'
                    "        </application>\n      </site>\n" for i in range(2_000))
    before = pools + sites
    after = (pools.replace('"Pool1999" />\n', '"Pool1999" />\n      <add name="Pool1999_x86" />\n')
             + sites.replace('applicationPool="Pool1999"', 'applicationPool="Pool1999_x86"'))
    compared = _Compared(monkeypatch)
    got = line_replacements(before, after)
    assert got == (LineReplacement(2001, 2001, '      <add name="Pool1999_x86" />\n'),
                   LineReplacement(9998, 9999, '        <application path="/" applicationPool="Pool1999_x86">\n'))
    assert _apply(before, got) == after
    assert compared.sizes, "difflib was not counted (imported some other way?)"
    assert max(compared.sizes) <= 10, f"difflib over {max(compared.sizes)} lines for two changes of 10,000"
