"""Bounded, random-access reading of a binary that may be hostile: :class:`Source`.

Every reader in :mod:`iisbitness.pe` goes through a Source, so no module ever reads a whole file,
maps it or runs it. A Source reads the first :data:`HEAD_BYTES` once (the DOS, COFF and optional
headers and the section table almost always sit there) and anything else with one positioned read
of at most :data:`MAX_READ` bytes. A Source built over ranges read ahead on another thread
(:meth:`Source.prefetched`, :mod:`iisbitness.pe.readahead`: the first :data:`MAX_READ` bytes and the
ranges the headers point to) serves reads inside them from memory and any other from the file.

Errors: :class:`InvalidPe` (the bytes are not a loadable PE; its message is the reason shown to the
user) from :meth:`Source.read_at`; :class:`OSError` from a file that vanishes mid-read (callers turn
it into :class:`iisbitness.errors.ImageReadError`).
"""

from __future__ import annotations

import os

from iisbitness.errors import ImageReadError

HEAD_BYTES = 4096
"""Bytes read up front: the headers of every ordinary PE fit (FileAlignment is at least 512)."""

MAX_READ = 1 << 16
"""The most any single structure read may ask for (a section table is at most 96 * 40 bytes)."""


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
"""NOTE: O_BINARY exists only on Windows; O_NONBLOCK keeps a FIFO where a binary should be from blocking
the read (issue 7)."""


def open_binary(path: str | os.PathLike[str]) -> tuple[str, int]:
    """``(name, fd)``: ``path`` as a string and a read-only descriptor of it, which the caller closes.

    Raises:
        ImageReadError: the file cannot be opened ("<path>: cannot read: <reason>").
    """
    name = os.fspath(path)
    try:
        return name, os.open(name, _OPEN_FLAGS)
    except OSError as e:
        raise ImageReadError(f"{name}: cannot read: {e.strerror or e}") from e


class InvalidPe(ValueError):
    """The bytes are not a valid PE image; ``str(e)`` says why (e.g. ``"no MZ signature"``)."""


class Source:
    """Positioned reads over a file descriptor or a bytes object, or over byte ranges of a file read beforehand
    (:meth:`prefetched`) with the descriptor for the rest.

    Attributes:
        head: the first ``min(size, HEAD_BYTES)`` bytes.
        size: total length in bytes (``st_size`` for a file), see :attr:`size`.
    """

    __slots__ = ("_data", "_fd", "_size", "_spans", "head")

    def __init__(self, head: bytes, size: int | None, fd: int | None = None, data: bytes | None = None) -> None:
        self._size = size
        self.head = head
        self._fd = fd
        self._data = data
        self._spans: tuple[tuple[int, bytes], ...] = ()

    @property
    def size(self) -> int:
        """Length of the file. NOTE: a file's is only asked of the OS (fstat) when a read goes
        past the head, which most files never need; this halves the system calls per file."""
        if self._size is None:
            assert self._fd is not None
            self._size = os.fstat(self._fd).st_size
        return self._size

    @classmethod
    def from_bytes(cls, data: bytes) -> Source:
        """A Source over bytes already in memory (tests, fuzzing)."""
        return cls(data[:HEAD_BYTES], len(data), data=data)

    @classmethod
    def from_fd(cls, fd: int, size: int | None = None) -> Source:
        """A Source over an open file descriptor; reads the head now. ``size``: the file's length
        when the caller already has it from a stat.

        Raises:
            OSError: the descriptor cannot be read (a folder, an I/O error).
        """
        head = _pread(fd, HEAD_BYTES, 0)
        return cls(head, len(head) if len(head) < HEAD_BYTES else size, fd=fd)

    @classmethod
    def prefetched(cls, fd: int, spans: tuple[tuple[int, bytes], ...], size: int | None = None) -> Source:
        """A Source over an open file descriptor whose byte ranges ``spans`` (``(offset, bytes)``, the first at
        offset 0) were read already (:mod:`iisbitness.pe.readahead`): reads inside a range are served from it,
        any other from ``fd``; the same bytes as :meth:`from_fd` for a file that did not change meanwhile.
        ``size``: the file's length when known (the first range came up short: the whole file).
        """
        first = spans[0][1]
        src = cls(first[:HEAD_BYTES], size, fd=fd)
        src._spans = spans
        return src

    def _prefetched(self, offset: int, end: int) -> bytes | None:
        """The bytes ``offset..end`` when one prefetched range holds them all (the range itself when equal)."""
        for start, data in self._spans:
            if start <= offset and end <= start + len(data):
                return data if offset == start and end == start + len(data) else data[offset - start : end - start]
        return None

    def read_at(self, offset: int, size: int, what: str = "data") -> bytes:
        """Exactly ``size`` bytes at file offset ``offset``.

        Raises:
            InvalidPe: the range is negative, larger than :data:`MAX_READ`, or past the end of
                the file ("truncated: <what> spans 0x98..0x188 but the file ends at 0x12c").
        """
        end = offset + size
        if offset < 0 or size < 0 or size > MAX_READ:
            raise InvalidPe(f"{what}: bad range offset {offset:#x} size {size:#x}")
        if end <= len(self.head):
            return self.head[offset:end]
        if self._spans and (got := self._prefetched(offset, end)) is not None:
            return got  # NOTE: bytes the file held, so inside it: what a read would give
        if self._size is None and self._fd is not None:
            # NOTE: read first and ask the OS for the size only when the read comes up short: one
            # system call instead of two for the usual in-bounds read (issue 11).
            data = _pread(self._fd, size, offset)
            if len(data) == size:
                return data
        if end > self.size:
            raise InvalidPe(f"truncated: {what} spans {offset:#x}..{end:#x} but the file ends at {self.size:#x}")
        if self._data is not None:
            return self._data[offset:end]
        assert self._fd is not None
        data = _pread(self._fd, size, offset)
        if len(data) < size:  # NOTE: the file shrank after fstat; treat it like a short file.
            raise InvalidPe(f"{what} at offset {offset:#x}: file is shorter than it was a moment ago")
        return data

    def read_span(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset`` in one read, without the :data:`MAX_READ` limit: for a
        region the caller has already capped (the .NET metadata). Fewer at the end of the file,
        b"" past it."""
        if self._spans and offset >= 0 and size > 0 and (got := self._prefetched(offset, offset + size)) is not None:
            return got  # NOTE: read ahead whole: no need to ask the OS for the file's size
        size = max(0, min(size, self.size - offset))
        if offset < 0 or size == 0:
            return b""
        if offset + size <= len(self.head):
            return self.head[offset : offset + size]
        if self._spans and (got := self._prefetched(offset, offset + size)) is not None:
            return got  # NOTE: the range read ahead came up short at the end of the file
        if self._data is not None:
            return self._data[offset : offset + size]
        assert self._fd is not None
        return _pread(self._fd, size, offset)

    def read_upto(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset`` (fewer at the end of the file); b"" past the end."""
        size = max(0, min(size, self.size - offset, MAX_READ))
        if offset < 0 or size == 0:
            return b""
        return self.read_at(offset, size)


def _pread(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    # NOTE: Windows has no os.pread; a Source is never shared between threads, so seek+read is safe.
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)
