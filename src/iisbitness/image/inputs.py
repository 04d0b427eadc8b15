"""What a scan read from the machine: the paths of the files and folders it opened or listed.

``scan --cache`` keeps the whole report of a scan with the identity of every input it read, and serves it
again while none of them changed (:mod:`iisbitness.scan.report_cache`, issue 25). The readers say what they
read with :func:`note`, a no-op unless a scan is :func:`recording`; the image's own listing does it, and so do
the few readers that still open files themselves (configuration XML, pages scanned for COM, the registry hive,
``*.runtimeconfig.json``). Binaries are not noted here: :class:`iisbitness.pe.facts.BinaryFacts` knows every
file and folder it read.

NOTE: a context variable, not a parameter through every reader: one hook where the reading happens, so that
one door for every read (the image) records in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

_LOG: ContextVar[dict[str, None] | None] = ContextVar("iisbitness_inputs", default=None)


def note(path: Path | str) -> None:
    """Say that the scan read (or listed) ``path``; nothing when no scan is recording."""
    log = _LOG.get()
    if log is not None:
        log[str(path)] = None


@contextmanager
def recording() -> Iterator[dict[str, None]]:
    """Record every :func:`note` made in this context (and threads started with a copy of it); yields the
    paths noted, in order, as the keys of a dict."""
    log: dict[str, None] = {}
    token = _LOG.set(log)
    try:
        yield log
    finally:
        _LOG.reset(token)
