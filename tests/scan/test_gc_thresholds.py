"""A scan raises the garbage collector's thresholds while it runs (issue 11) and leaves the process as it found
it: after overlapping scans in threads, and when the host turned automatic collection off."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from iisbitness.api import ScanOptions, scan
from tests.conftest import DEMO


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    before, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*before)
    (gc.enable if enabled else gc.disable)()


def test_overlapping_scans_in_threads_restore_the_thresholds() -> None:
    gc.set_threshold(700, 10, 10)
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        scan(DEMO / "contoso-iis10")

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gc.get_threshold() == (700, 10, 10)


def test_a_host_without_automatic_collection_is_left_alone() -> None:
    """Threshold 0 (automatic collection off) stays 0 during the scan, not only after it."""
    seen: list[tuple[int, int, int]] = []
    gc.set_threshold(0, 10, 10)
    scan(DEMO / "contoso-iis10", ScanOptions(progress=lambda *_: seen.append(gc.get_threshold())))
    assert seen and set(seen) == {(0, 10, 10)} and gc.get_threshold() == (0, 10, 10)
    gc.set_threshold(700, 10, 10)
    gc.disable()
    seen.clear()
    scan(DEMO / "contoso-iis10", ScanOptions(progress=lambda *_: seen.append(gc.get_threshold())))
    assert seen and set(seen) == {(700, 10, 10)} and not gc.isenabled()
