"""Our ECMA-335 metadata reader against dnfile (the reader it replaced), field by field.

On every fixture and demo binary, and on real framework assemblies when the machine has them:
Mono's under /usr/lib/mono (Debian ``mono-runtime``, ``libmono-*-cil``, ``mono-devel`` for the
reference assemblies) and the .NET runtime the benchmarks extract (benchmarks/README.md). A sample
of the real ones runs by default; all of them with IISBITNESS_DNFILE_ALL=1 (dnfile takes minutes).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from dnfile_reference import dnfile_info
from pe_fixtures import BIN

from iisbitness.pe.metadata import AssemblyInfo, read_assembly_info

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "src" / "iisbitness" / "demo"
BENCH_CACHE = Path(os.environ.get("IISBITNESS_BENCH_CACHE", Path.home() / ".cache" / "iisbitness-bench"))
REAL_ROOTS = (Path("/usr/lib/mono"), BENCH_CACHE)
SAMPLE = 30
MAX_SAMPLE_SIZE = 1 << 20
"""The default sample stays under 1 MB a file: dnfile needs seconds per MB. -m slow compares all."""


def _fields(info: AssemblyInfo) -> tuple[object, ...]:
    return (info.name, info.version, info.processor_architecture, info.target_framework,
            info.is_reference_assembly, info.assembly_refs, info.pinvoke_modules, info.reason is None)


def _binaries(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()
                  and p.suffix.lower() in (".dll", ".exe", ".bin", ".txt"))


def _real() -> list[Path]:
    found = []
    for root in REAL_ROOTS:
        if root.is_dir():
            found += [p for p in root.rglob("*") if p.suffix.lower() in (".dll", ".exe") and p.is_file()
                      and not p.is_symlink() and p.stat().st_size >= 64]
    return sorted(found)


FIXTURES = _binaries(BIN) + _binaries(DEMO)
REAL = _real()
_SMALL = [p for p in REAL if p.stat().st_size <= MAX_SAMPLE_SIZE]
REAL_SAMPLE = sorted(random.Random(11).sample(_SMALL, min(SAMPLE, len(_SMALL))))


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(REPO)) for p in FIXTURES])
def test_fixture_agrees_with_dnfile(path: Path) -> None:
    assert _fields(read_assembly_info(path)) == _fields(dnfile_info(str(path)))


@pytest.mark.skipif(not REAL, reason="no real assemblies here (apt-get install mono-runtime libmono-system-xml4.0-cil)")
@pytest.mark.parametrize("path", REAL_SAMPLE or [None], ids=[p.name for p in REAL_SAMPLE] or ["none"])
def test_real_assembly_sample_agrees_with_dnfile(path: Path) -> None:
    assert _fields(read_assembly_info(path)) == _fields(dnfile_info(str(path)))


@pytest.mark.slow
@pytest.mark.skipif(not REAL or not os.environ.get("IISBITNESS_DNFILE_ALL"),
                    reason="set IISBITNESS_DNFILE_ALL=1 (about 6 minutes for 2,800 assemblies)")
def test_every_real_assembly_agrees_with_dnfile() -> None:
    diffs = [p for p in REAL if _fields(read_assembly_info(p)) != _fields(dnfile_info(str(p)))]
    assert not diffs, f"{len(diffs)} of {len(REAL)} differ, e.g. {diffs[:5]}"


def test_managed_fixtures_are_really_compared() -> None:
    """The comparison is not vacuous: fixtures carry names, refs, P/Invoke, framework, markers."""
    infos = [read_assembly_info(p) for p in FIXTURES]
    assert sum(i.name is not None for i in infos) >= 10
    assert any(i.pinvoke_modules for i in infos) and any(i.is_reference_assembly for i in infos)
    assert any(i.target_framework for i in infos)


def test_no_noise_on_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    for p in FIXTURES + REAL_SAMPLE:
        read_assembly_info(p)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
