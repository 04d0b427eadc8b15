"""Bring the next binaries into the page cache from a helper process, a bounded window ahead of the parser, and
parse them there, ahead of the parser, where two cores can share the work (issue 25).

A scan of a cold server (its files not in the page cache; content on a SAN or a file share) waits for the disk at
each binary it parses. :mod:`iisbitness.pe.readahead`'s threads read ahead, but in CPython every one of their
reads hands the GIL back and forth with the parsing thread: on fast local storage and two cores that costs the
parser more than the disk does (benchmarks/README.md, issue 25, fourth round). :class:`Prefetch` instead forks a
helper process (POSIX, with ``posix_fadvise``) that holds no GIL the parser needs: it is given the files the scan
will parse, in that order, through a pipe, and asks the kernel to read, with ``posix_fadvise(POSIX_FADV_WILLNEED)``
(which starts the reads and does not wait for them: many in flight), the bytes the parser will read of each: the
first :data:`~iisbitness.pe.readahead.FIRST_READ` bytes, and for a larger file the ranges its headers point to
(:func:`iisbitness.pe.readahead.ranges_past`: COR20 header, CLR metadata up to
:data:`~iisbitness.pe.readahead.MAX_AHEAD_BYTES`, ReadyToRun header; a native image's load config), which it finds
by reading that file's head into a scratch buffer.

Parsing there too (fifth round): where the scan may run on two cores or more
(:func:`~iisbitness.pe.readahead.usable_cores`, the CPU affinity: on one, the helper's parse would take the parser's
own time), the helper also parses the files it is given: each plain .NET assembly
(:func:`iisbitness.pe.classify.plain_read`, the parser's own code; nearly every file of a ``bin`` folder) gives an
answer of plain data (:data:`_Answers`: the number of its shape, made of its image key, AssemblyRef rows and P/Invoke
module names, each key, row and shape sent once) on a pipe of its own, in :mod:`marshal` frames; any other file it
can read (a ReadyToRun or native image, a file that is no PE: seventh round) its facts as the parser's general
readers give them (:func:`iisbitness.pe.classify.general_read`). :meth:`Prefetch.take` hands the parser the facts
built from an answer with the parser's own code (:func:`iisbitness.pe.classify.plain_image`, as
:func:`~iisbitness.pe.classify._plain` builds them from its own read, or :func:`~iisbitness.pe.classify.general_facts`;
and the dependency names the references give, :func:`iisbitness.pe.deps.assembly_dependencies`, worked out once per
shape for plain files), or None: the parser then reads the file
itself, as without the helper. So whatever the helper does (slow, dead, a file it may not open, a frame that cannot
be read: then no more answers are read), the report is the same; only the time changes. A rescan (the first files
in the page cache) starts a helper only to parse, and only for :data:`WARM_START_FILES` files or more on two cores
that are not busy now and were not over the last minute (:func:`_core_free`): with both cores to itself its parse took a fifth to
a quarter off a warm scan of 9,648 assemblies (1.21 -> 0.95 s, 1.05 -> 0.75 s), on a machine loaded by other
processes it made the scan slower (4.84 -> 5.51 s, as the fifth round had found), and below about 800 files the
fork costs what the parse saves (benchmarks/README.md, issue 25, twelfth round).

In what order (sixth round): the helper parses the files in the parser's order, from the first the parser has not
nearly reached (:data:`LEAD`: it would answer too late) on, as far ahead as the files given allow (it is given every
``bin`` file before planning starts, :func:`iisbitness.loadplan.build.build`), opening each once to bring it in and
parse it (:data:`OPENED` of them open ahead, their first reads asked for). Taking an answer and planning its file
costs the parser about as much as the helper's parse of it, so a helper that starts first stays ahead to the end;
one slowed down (a loaded machine) is caught up with, and from then on parses the files just past the parser's. Tried
and measured worse: parsing from the last file backwards, to meet the parser in the middle (the helper idles once
they meet, while the parser still takes and plans every answered file; benchmarks/README.md, issue 25, sixth round).

Bounded: the helper brings files in for the parser at most :data:`WINDOW_FILES` files and
:data:`~iisbitness.pe.readahead.MAX_AHEAD_BYTES` of ranges ahead of it (whose progress, the first file given it has
not reached, it reads from a shared page), holds at most :data:`~iisbitness.pe.readahead.THREADS` large files and
:data:`OPENED` files to parse open, skips what the parser has passed, and stops bringing files in when they turn out
to be in the page cache already (:data:`~iisbitness.pe.readahead.WARM_STREAK` in a row: a helper that does not parse
then ends); it does not start for a scan of fewer than :data:`START_FILES` files, nor when the first are in the page
cache (a rescan) and it would not parse, the machine is loaded or the scan has fewer than :data:`WARM_START_FILES`
files; a helper started for a rescan brings nothing in. Its answers not yet taken are at most those of the files given and not reached: what its pipe
holds (:data:`PIPE_BYTES`, about 10,000 answers; the helper waits while it is full) and what the parser read of
it. It opens only the paths it is given
(files of the image's ``bin`` folders, none through a folder that leads out of the image), read-only, not following
a last symbolic link, regular files only; it never maps, loads or runs one. The parser never waits for it: it
writes paths to a pipe that does not block (what does not fit waits in memory) and its progress to the shared page,
and reads answers from a pipe that does not block. It ends with the scan (:meth:`Prefetch.close`, also on an
exception or Ctrl-C, and when the object is collected: killed and reaped through a pidfd where Linux has one,
``pidfd_open`` 5.3+, so a host that reaps children itself cannot have let its pid go to another process), and by
itself when the parent goes away (end of file on the pipe, a pipe with no reader, or a new parent); it ignores
Ctrl-C, which the parent handles.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import marshal
import mmap
import os
import select
import signal
import stat
import struct
import time
import weakref
from collections import deque
from collections.abc import Iterable

from iisbitness.pe import readahead
from iisbitness.pe.classify import (
    GeneralFacts,
    PlainFields,
    PlainKey,
    PlainRead,
    general_facts,
    general_read,
    plain_fields,
    plain_read,
)
from iisbitness.pe.deps import assembly_dependencies
from iisbitness.pe.metadata import AssemblyRef, AssemblyReferences, RefKey, plain_refs
from iisbitness.pe.readahead import (
    FIRST_READ,
    MAX_AHEAD_BYTES,
    PROBE_EVERY,
    Parsed,
    ReadAhead,
    ranges_past,
)
from iisbitness.pe.source import HEAD_BYTES, InvalidPe, Source
from iisbitness.pe.types import PeImage

PROCESS = True
"""Read ahead from a helper process where the platform allows (:data:`CAN_FORK`); False: on threads."""

CAN_FORK = hasattr(os, "fork") and hasattr(os, "posix_fadvise") and hasattr(os, "preadv")
"""Whether this platform has what the helper needs (Linux, the BSDs; not Windows or macOS)."""

WINDOW_FILES = 128
"""Files the helper may be ahead of the parser: reads in flight at once on slow storage (a share, a SAN)."""

START_FILES = 64
"""The helper starts once the scan has given this many files: a smaller scan has little to overlap (a fork, and a
process, for nothing)."""

WARM_START_FILES = 800
"""The helper starts for a rescan (the first files in the page cache), only to parse, where it parses (two cores) and
the scan has given this many files before the parser's first read (:meth:`Prefetch.take`; where the helper parses,
every ``bin`` file is given before planning starts, :func:`iisbitness.loadplan.build.build`): below, the fork and the helper's start cost about what its parse saves (benchmarks/README.md, issue 25, twelfth
round, medians of 10 to 15 with both cores free: 298 files 21 -> 22 ms, 678 files 43 -> 37 ms and 47 -> 51 ms, 966
files 73 -> 58 ms and 124 -> 89 ms)."""

WARM_SAMPLE = 8
"""Files among the first :data:`START_FILES` whose heads are looked up in the page cache before the helper starts:
when all are there (a rescan), it does not start."""

_CHUNK = 1 << 20
"""Bytes asked for per ``posix_fadvise`` call. NOTE: Linux reads at most the larger of a device's read-ahead window
(``read_ahead_kb``, 128 KB by default) and its largest request (``max_sectors_kb``, 512 KB to 4 MB on most disks)
per call (``force_page_cache_ra``; 8 MB measured here), and each call is a request of its own: 128 KB calls made
16% more requests than 8 MB calls on this machine (benchmarks/README.md, issue 25, fourth round). A device with a
smaller limit gets the start of each MB; the parser reads the rest of what it needs itself."""

_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None)
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _NO_FOLLOW
"""NOTE: O_NONBLOCK: a FIFO does not block the open; O_NOFOLLOW: a last component that is a symbolic link is not
followed (it may lead out of the image; the parser resolves such a file itself)."""

_PROGRESS = struct.Struct("<q")
"""The shared page: at 0 the parser's progress (the order number of the next file it has not reached), written only
by the parser; at :data:`_WARM` a byte written only by the helper: 1 when it stopped because the files are warm; at
:data:`_SENT` the order number past the last file whose answer the helper has written to its pipe, written only by
the helper. NOTE: no lock: a torn read of the progress only moves the helper's window for a moment, one of the
answers sent only makes the parser read the pipe for nothing or miss an answer (it reads that file itself)."""

_WARM = 8

_SENT = 16

_SHARED_BYTES = _SENT + _PROGRESS.size

_POLL = 0.0005
"""Seconds the helper first sleeps while it is a whole window ahead of the parser, doubled each time up to
:data:`_POLL_MAX`."""

_POLL_MAX = 0.05

PARSE = True
"""Let the helper also parse the files it is given, where the scan may use two cores or more (:func:`~iisbitness.pe.readahead.usable_cores`);
False: it only brings them in."""

LEAD = 2
"""Files past the parser's progress that the helper does not parse: the parser reaches them before the helper's
answer would (it would parse them twice)."""

_BATCH = 32
"""Answers the helper sends at once, fewer when the parser is close behind (within :data:`_NEAR` files)."""

_NEAR = 4 * _BATCH
"""Files past the parser's progress within which each answer is sent at once."""

_TRIM = 4096
"""Files parsed (or passed) after which the helper lets go of their paths."""

OPENED = 32
"""Files the helper holds open ahead of its parse, their first reads asked for: reads in flight while it parses."""

_MAX_REFS = 1 << 16
"""Distinct AssemblyRef rows the helper numbers; past them (a hostile server) it parses no more."""

PIPE_BYTES = 1 << 20
"""The size asked for each pipe to the helper and back (:func:`_widen`)."""

_FRAME = struct.Struct("<Iqqb")
"""The head of one frame of the helper's answers on its pipe: the length of what follows (a :mod:`marshal` dump of
:data:`_Answers`), the order numbers of its first and last files, and 1 when it numbers image keys,
AssemblyRef rows or shapes not sent before (else 0): the parser decodes a frame only when it reaches its first file,
or when it numbers what later frames use (issue 25, eighth round, flowcpu2: a file not answered no longer pays for
decoding the answers to files the parser has passed)."""

_Identity = tuple[int, int, int, int, int]
"""What says a file is the one the helper read: ``(st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns)``."""

_Shape = tuple[int, tuple[int, ...], tuple[str, ...]]
"""What a plain file's facts are made of besides its path: ``(image key number, AssemblyRef numbers, P/Invoke
modules)``."""

_Answers = tuple[list[PlainKey], list[RefKey], list[_Shape], list[tuple[int, int, _Identity]],
                 list[tuple[int, GeneralFacts, _Identity]]]
"""A frame of the helper's answers: the image keys, AssemblyRef rows and shapes (:data:`_Shape`) not sent before
(each numbered in the order sent, from 0), then per plain file parsed ``(order, shape number, identity)`` (issue 25,
eighth round, flowcpu2: the parser builds a shape's facts once, and per file only its PeImage from them), and per
other file parsed (ReadyToRun, native, not a PE) ``(order, its facts as plain data, identity)``: the identity
(:func:`_identity`) of the file as the helper read it, which :meth:`Prefetch.take` compares with the file's when the
parser reaches it."""

_Answer = tuple[int, _Identity] | tuple[GeneralFacts, _Identity]
"""What the parser keeps of a file's answer until it reaches the file: a plain file's shape number, or another
file's facts; and its identity."""

_Built = tuple[PlainFields, tuple[AssemblyRef, ...], tuple[str, ...], tuple[tuple[str, str], ...] | None]
"""The facts of a plain file's shape (:data:`_Shape`): its PeImage's fields after ``path``
(:func:`~iisbitness.pe.classify.plain_fields`), AssemblyRefs, P/Invoke modules and dependency names (None when its
references are not all of them)."""


def _identity(st: os.stat_result) -> _Identity:
    """The identity of a file's contents for an answer: a file replaced, written to (its times change), deleted, or
    made a link to another between the helper's read and the parser's turn has another, or none."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class Prefetch:
    """The helper process's parser side: :meth:`files_ahead` gives it files in the order the parser will read
    them, :meth:`take` tells it the parser reached one (and gives the file's facts when the helper parsed it),
    :meth:`close` ends it. Same calls as :class:`~iisbitness.pe.readahead.ReadAhead`."""

    def __init__(self, parse: bool | None = None) -> None:
        """``parse``: whether the helper may also parse the files (None: :data:`PARSE`); False for a caller that does
        not use its answers (``inspect``, :func:`iisbitness.pe.walk.inspect_paths`, which shows what the helper's
        parse does not read): it then only brings files in, and does not start for a rescan."""
        self.stopped = False
        """True once reading ahead is off (the first files were in the page cache, the helper found the files warm or
        could not start, or closed)."""
        self.files = 0
        """Files given to the helper."""
        self.started = False
        """Whether enough files were given to start the helper (:data:`START_FILES`); :attr:`pid` says whether it
        was."""
        self.pid = 0
        """The helper's process id (0: never started)."""
        self._rescan = False
        """Whether the first files were found in the page cache: the helper, when it starts, only parses."""
        self._given: dict[str, int] = {}
        """Files given and not reached by the parser: their order numbers."""
        self._progress = 0
        """The order number of the first file given that the parser has not reached (what the helper is told)."""
        self._reached: set[int] = set()
        """Order numbers past :attr:`_progress` the parser reached out of order (a dependency read before its
        turn)."""
        self._out = bytearray()
        """Paths (NUL-terminated) not yet written to the pipe: it was full."""
        self._wfd = -1
        self._shared: mmap.mmap | None = None
        self._end: weakref.finalize[[int, int, int, int], Prefetch] | None = None
        self.parses = (PARSE if parse is None else parse) and readahead.usable_cores() >= 2
        """Whether the helper also parses the files (``parse``, else :data:`PARSE`; and two cores or more to run on: on
        one, its parse would take the parser's time)."""
        self.answered = 0
        """Files whose facts the helper gave (for tests and benchmarks)."""
        self._rfd = -1
        """The helper's answers (a pipe that does not block), -1 when it does not parse or they are no longer read."""
        self._inbox = bytearray()
        self._frames: deque[tuple[int, int, bool, bytearray]] = deque()
        """The frames received and not decoded: ``(first, last, numbers new keys, rows or shapes, marshal dump)``,
        in the order sent (:data:`_FRAME`)."""
        self._seen = 0
        """The order number past the last file of the frames received: an answer to a file before it is among
        :attr:`_frames` or :attr:`_answers`, or was never sent."""
        self._answers: dict[int, _Answer] = {}
        """Per order number, the facts the helper sent (:data:`_Answers`) and the parser has not reached."""
        self._keys: list[PlainKey] = []
        self._refs: list[AssemblyRef] = []
        self._ref_sets: dict[tuple[int, ...], tuple[AssemblyRef, ...]] = {}
        """The references of each set of AssemblyRef numbers answered: one tuple for the files that share it (the
        same assembly in many sites' ``bin``)."""
        self._shapes: list[_Shape] = []
        self._built: dict[int, _Built] = {}
        """Per shape number answered, its facts (the dependency names by
        :func:`~iisbitness.pe.deps.assembly_dependencies`): worked out once per shape, shared by the files of it."""

    def files_ahead(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Bring ``paths`` in, in this order (the order the parser will read them)."""
        if self.stopped:
            return
        given, seq = self._given, self.files
        new: list[str] = []
        for p in paths:
            key = os.fspath(p)
            if key in given or "\0" in key:
                continue
            given[key] = seq
            seq += 1
            new.append(key)
        if new:
            new.append("")  # NOTE: each path NUL-terminated, all encoded at once (not an fsencode per file)
            self._out += os.fsencode("\0".join(new))
        self.files = seq
        if self.pid == 0:
            if not self.started:
                if seq < START_FILES:
                    return
                self.started = True
                self._rescan = _warm(list(given)[:START_FILES:max(1, START_FILES // WARM_SAMPLE)])
                if self._rescan and not (self.parses and _core_free()):
                    # NOTE: a rescan on one core, or on a loaded machine: nothing to bring in, and no fork (whose
                    # copy-on-write costs) for a parse that would take the parser's own time or wait for a core
                    self.close()
                    return
            if self._rescan and seq < WARM_START_FILES:
                return  # NOTE: too few files yet for the helper's parse to pay; more may come before the first take
            self._start(self._rescan)
            if self.stopped:
                return
        self._send()

    def take(self, path: str | os.PathLike[str]) -> Parsed | None:
        """The parser is about to read ``path``: the helper need not bring it, or anything given before it, in.
        Its facts when the helper parsed it (as :func:`~iisbitness.pe.classify.read_image_and_references` gives them:
        :func:`~iisbitness.pe.classify.plain_image` of what :func:`~iisbitness.pe.classify.plain_read` read there, or
        :func:`~iisbitness.pe.classify.general_facts` of what :func:`~iisbitness.pe.classify.general_read` read; with
        the dependency names where its references are all of them, else the references), else None: the parser
        reads the file itself (through the page cache). Never waits for the helper."""
        key = os.fspath(path)
        seq = self._given.pop(key, None)
        if seq is None or self._shared is None:
            if self.started and self.pid == 0 and not self.stopped:
                self.close()  # NOTE: a rescan of fewer than WARM_START_FILES files given before the parser's first read
            return None
        shared = self._shared
        progress = self._progress
        if seq == progress:
            progress += 1
            reached = self._reached
            while reached and progress in reached:
                reached.remove(progress)
                progress += 1
            self._progress = progress
            _PROGRESS.pack_into(shared, 0, progress)
        elif seq > progress:
            # NOTE: read before its turn (a dependency): the files before it are still to be read, so the helper goes
            # on with them, unless this leaves them far behind (files given and never read: a cut bin folder)
            self._reached.add(seq)
            if seq - progress > WINDOW_FILES // 2:
                self._progress = seq + 1 - WINDOW_FILES // 2
                self._reached = {s for s in self._reached if s > self._progress}
                _PROGRESS.pack_into(shared, 0, self._progress)
        if self._out and seq % 16 == 0:
            self._send()
        if shared[_WARM]:
            self.close()  # NOTE: the helper found the files warm and ended
            return None
        if self._rfd < 0:
            return None
        answer = self._answers.pop(seq, None)
        if answer is None:
            # NOTE: the pipe is read only when the helper says it wrote an answer for this file or a later one, and
            # frames are decoded only up to this file's: a file not answered pays for no answers but its own
            if seq >= self._seen and _PROGRESS.unpack_from(shared, _SENT)[0] > seq:
                self._receive(seq)
            elif self._frames and self._frames[0][0] <= seq:
                self._decode(seq)
            else:
                return None
            answer = self._answers.pop(seq, None)
            if answer is None:
                return None
        try:
            shape, identity = answer
            if isinstance(shape, int):  # NOTE: typed as _Answer says (a shape number, or another file's facts)
                image, references, found = self._plain(key, shape)
            else:
                image, references, found = self._general(key, shape)
        except (AttributeError, IndexError, TypeError, ValueError):
            self.close()  # NOTE: a defect: the parser reads every file itself from now on
            return None
        try:
            st = os.stat(key)  # NOTE: through a last link, as the parser opens it
        except (OSError, ValueError):
            return None
        if _identity(st) != identity:
            return None  # NOTE: changed since the helper read it (a deploy mid-scan): the parser reads it as it is now
        self.answered += 1
        return Parsed(image, references, found)

    def _plain(self, key: str, shape: int,
               ) -> tuple[PeImage, AssemblyReferences | None, tuple[tuple[str, str], ...] | None]:
        """The facts of the plain file ``key`` of shape number ``shape``: its headers (one call with the shape's
        fields, :func:`~iisbitness.pe.classify.plain_image`'s) and, worked out once per shape, its dependency names, or
        its references when those are not all of them (mixed-mode: its imports count too). Raises what a number
        never sent raises (IndexError, ValueError)."""
        built = self._built.get(shape)
        if built is None:
            if shape < 0:
                raise ValueError(shape)
            number, ids, modules = self._shapes[shape]
            if number < 0:
                raise ValueError(number)
            fields = plain_fields(self._keys[number])
            refs = self._references(ids)
            found = assembly_dependencies(PeImage(key, *fields), refs, modules)
            built = self._built[shape] = (fields, refs, modules, found)
        fields, refs, modules, found = built
        image = PeImage(key, *fields)
        if found is None:
            return image, AssemblyReferences(key, refs, modules), None
        return image, None, found

    @staticmethod
    def _general(key: str, facts: GeneralFacts,
                 ) -> tuple[PeImage, AssemblyReferences | None, tuple[tuple[str, str], ...] | None]:
        """The facts of another file ``key`` from its answer (:func:`~iisbitness.pe.classify.general_facts`), with
        its dependency names instead of its references where those are all of them and were read whole. Raises
        ValueError, TypeError for facts the helper never sends."""
        image, references = general_facts(key, facts)
        if references is None or references.reason is not None:
            return image, references, None
        found = assembly_dependencies(image, references.assembly_refs, references.pinvoke_modules)
        return image, None if found is not None else references, found

    def _references(self, ids: tuple[int, ...]) -> tuple[AssemblyRef, ...]:
        """The AssemblyRefs numbered ``ids`` in the answers; one tuple per set of numbers (the same assembly in many
        sites' ``bin``). Raises IndexError, ValueError for a number never sent."""
        refs = self._ref_sets.get(ids)
        if refs is None:
            if min(ids, default=0) < 0:
                raise ValueError(ids)
            refs = self._ref_sets[ids] = tuple([self._refs[i] for i in ids])
        return refs

    def close(self) -> None:
        """Stop: end the helper (killed and reaped: it holds nothing but open files to read)."""
        self.stopped = True
        self._given.clear()
        self._out.clear()
        if self._end is not None:
            self._end()
        self._shared = None
        self._rfd = -1
        self._answers.clear()
        self._frames.clear()

    def _receive(self, upto: int | None = None) -> None:
        """Take in the frames the helper has sent (:data:`_FRAME`), without waiting for more, and decode those up to
        the file numbered ``upto`` (:meth:`_decode`; None: all)."""
        inbox = self._inbox
        while True:
            try:
                chunk = os.read(self._rfd, 1 << 16)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:  # NOTE: the helper is gone
                self.close()
                return
            inbox += chunk
            if len(chunk) < 1 << 16:
                break
        at, frames, size = 0, self._frames, _FRAME.size
        while len(inbox) - at >= size:
            n, first, last, new = _FRAME.unpack_from(inbox, at)
            if len(inbox) - at - size < n:
                break
            frames.append((first, last, new != 0, inbox[at + size : at + size + n]))
            self._seen = max(self._seen, last + 1)
            at += size + n
        del inbox[:at]
        self._decode(upto)

    def _decode(self, upto: int | None) -> None:
        """Decode the frames received (:data:`_Answers`) whose first file is numbered ``upto`` or before (None: all):
        their answers to files the parser has not reached, and to ``upto`` (the file being taken), kept for it. A
        frame of files all passed is dropped undecoded, unless it numbers image keys, AssemblyRef rows or shapes (later
        frames use those numbers)."""
        frames, answers, progress = self._frames, self._answers, self._progress
        if upto is not None:
            progress = min(progress, upto)  # NOTE: the file being taken is passed already, its answer wanted
        try:
            while frames and (upto is None or frames[0][0] <= upto):
                _, last, new, data = frames.popleft()
                if last < progress and not new:
                    continue
                keys, refs, shapes, records, others = marshal.loads(data)
                if new:
                    self._keys += keys
                    self._refs += plain_refs(refs)
                    self._shapes += shapes
                if last < progress:
                    continue
                for seq, shape, identity in records:
                    if seq >= progress:
                        answers[seq] = (shape, identity)
                for seq, facts, identity in others:
                    if seq >= progress:
                        answers[seq] = (facts, identity)
        except (AttributeError, EOFError, IndexError, TypeError, ValueError):
            self.close()
            return
        if len(answers) > len(self._given) + WINDOW_FILES:
            # NOTE: answers for files the parser read before they came (out of order), or never will: each answer
            # is of a file given and not reached but these, so they are looked for only when there are a window of
            # them
            for seq in [s for s in answers if s < progress]:
                del answers[seq]

    def _start(self, warm: bool = False) -> None:
        """Fork the helper (``warm``: only to parse, bringing nothing in); :attr:`stopped` when it cannot be."""
        rfd = wfd = answers = answered = -1
        try:
            rfd, wfd = os.pipe()
            _widen(wfd)  # NOTE: room for ~15,000 paths
            os.set_blocking(wfd, False)
            if self.parses:
                answers, answered = os.pipe()
                _widen(answered)  # NOTE: room for ~10,000 answers, which the parser takes in only as it goes
                os.set_blocking(answers, False)
            shared = mmap.mmap(-1, _SHARED_BYTES)  # NOTE: anonymous and MAP_SHARED: the same page in both processes
        except OSError:  # NOTE: out of descriptors or memory: no reading ahead, nothing left open
            _close(rfd, wfd, answers, answered)
            self.stopped = True
            return
        parent = os.getpid()
        # NOTE: SIGINT blocked from before the fork until the child runs in its try (it never unblocks it): a Ctrl-C
        # reaches the whole process group, and must not raise KeyboardInterrupt in a copy of the caller's stack
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pid = os.fork()
            if pid == 0:
                _child(rfd, wfd, shared, parent, answered, warm)  # NOTE: never returns
            # NOTE: before SIGINT is unblocked: a Ctrl-C pending since the fork raises when the mask is restored, and
            # the helper must be tracked by then (else never killed, and the pipe it waits on never closed)
            _close(rfd, answered)
            self._end = weakref.finalize(self, _end, pid, _pidfd(pid), wfd, answers)
            self.pid, self._wfd, self._shared, self._rfd = pid, wfd, shared, answers
        except OSError:
            _close(rfd, wfd, answers, answered)
            self.stopped = True
            return
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def _send(self) -> None:
        """Write what the pipe takes of the paths not sent; never blocks."""
        out = self._out
        while out:
            try:
                n = os.write(self._wfd, out[: 1 << 16])
            except BlockingIOError:
                return
            except OSError:  # NOTE: the helper is gone (EPIPE)
                self.close()
                return
            del out[:n]


def _widen(fd: int) -> None:
    """Make the pipe of ``fd`` hold :data:`PIPE_BYTES` (Linux, ``F_SETPIPE_SZ``; up to ``/proc/sys/fs/pipe-max-size``,
    1 MB by default; 64 KB elsewhere): a writer that does not block, or does not wait, for that much."""
    with contextlib.suppress(AttributeError, OSError):
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _close(*fds: int) -> None:
    for fd in fds:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)


def _pidfd(pid: int) -> int:
    """A descriptor of the process ``pid`` (Linux 5.3+, ``pidfd_open``), -1 where there is none: signalled and
    waited for through it, the helper cannot be mistaken for a process that took its pid (on a host that reaps
    children itself, the helper's pid may be reused once it has ended)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return -1


def _end(pid: int, pidfd: int, wfd: int, answers: int) -> None:
    """End the helper ``pid`` (through ``pidfd`` when there is one) and close the pipes' ends ``wfd`` and
    ``answers``."""
    _close(wfd, answers)
    if pid <= 0:
        return  # NOTE: never a process group
    if pidfd >= 0:
        try:
            with contextlib.suppress(OSError):  # NOTE: ESRCH: it has ended (and may have been reaped by the host)
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            os.waitid(os.P_PIDFD, pidfd, os.WEXITED)  # NOTE: Linux 5.4+
            return
        except ChildProcessError:
            return  # NOTE: reaped by the host already: no pid to wait for, or to reuse
        except (AttributeError, OSError):
            pass  # NOTE: no waitid on a pidfd here: waited for by its pid (killed: it is ours until reaped)
        finally:
            _close(pidfd)
    else:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)  # NOTE: a killed process is reaped at once (a read in flight finishes first)


def _head_cached(fd: int, size: int, buffer: bytearray) -> bool:
    """Whether the first :data:`~iisbitness.pe.source.HEAD_BYTES` of ``fd`` (``size`` bytes long) are in the page
    cache: a read that may not wait for the disk (Linux ``preadv(RWF_NOWAIT)``, 4.14+) gets them all. False where
    that cannot be told (no ``RWF_NOWAIT``, or not on this file system)."""
    if _NOWAIT is None:
        return False
    try:
        return os.preadv(fd, [buffer], 0, _NOWAIT) >= min(size, HEAD_BYTES)
    except OSError:  # NOTE: BlockingIOError: not cached; EOPNOTSUPP: not known
        return False


def _core_free() -> bool:
    """Whether a core is free for the helper of a rescan: at this moment no other task is runnable on the cores this
    process may use beyond one (Linux ``/proc/loadavg``'s running count, less this process), and over the last minute
    the load (``os.getloadavg``, which counts this process's own recent work) stayed below those cores; where no
    running count is known, the load average below the cores less one. False on one core, or where neither is known.

    NOTE: with other processes' work on both cores (load 6 to 9 of 2), the helper's parse of warm files made the scan
    slower (4.84 -> 5.51 s, median of 8), with both to itself faster (1.21 -> 0.95 s; benchmarks/README.md, issue 25,
    twelfth round). The one-minute average alone kept the helper off a quiet two-core machine that had just scanned
    (its own scan's load, 1.0 to 1.4), and on a machine of 64 cores with this process pinned to two (a container's
    cpuset) it compared 64 cores' load with 63; the running count is a moment's sample, the average guards it. The
    running count is machine-wide: where this process is pinned to fewer cores, tasks on the others count as well
    (no helper: the safe side)."""
    cores = readahead.usable_cores()
    if cores < 2:
        return False
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return False
    running = _running()
    if running is None:
        return load < cores - 1
    return running - 1 <= cores - 2 and load < cores


def _running() -> int | None:
    """The tasks runnable on the machine at this moment, this one among them (the fourth field of Linux's
    ``/proc/loadavg``, ``running/total``; proc(5)), or None where it cannot be read."""
    try:
        with open("/proc/loadavg", "rb") as file:
            return int(file.read().split()[3].split(b"/")[0])
    except (OSError, IndexError, ValueError):
        return None


def _warm(paths: list[str]) -> bool:
    """Whether ``paths`` (at least one opened) all have their heads in the page cache."""
    buffer, seen = bytearray(HEAD_BYTES), 0
    for path in paths:
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except (OSError, ValueError):
            continue
        try:
            if not _head_cached(fd, os.fstat(fd).st_size, buffer):
                return False
            seen += 1
        except OSError:
            return False
        finally:
            os.close(fd)
    return seen > 0


def read_ahead(threads: int | None = None) -> ReadAhead | Prefetch:
    """The read-ahead a scan of a cold server uses: a helper process (:class:`Prefetch`) where the platform allows
    and :data:`PROCESS`, threads (:class:`~iisbitness.pe.readahead.ReadAhead`) elsewhere (Windows) where they pay
    (:func:`~iisbitness.pe.readahead.worth_threads`, judged at the first files); none (a stopped ReadAhead) when
    ``threads`` (default :data:`iisbitness.pe.readahead.THREADS`) is 0."""
    threads = readahead.THREADS if threads is None else threads
    if threads > 0 and PROCESS and CAN_FORK:
        return Prefetch()
    return ReadAhead(threads, judge=True)


def _child(rfd: int, wfd: int, shared: mmap.mmap, parent: int, answers: int, warm: bool = False) -> None:
    """The helper, in the forked process: runs :func:`_bring_in` (parsing too when ``answers``, the pipe for its
    answers, is open; bringing nothing in when ``warm``), then ends the process, whatever happens (a copy of the caller's stack must never go on
    running)."""
    try:
        gc.disable()  # NOTE: a collection would write to every object's page, copying the parent's memory
        os.close(wfd)
        keep = sorted(fd for fd in (rfd, answers) if fd >= 0)
        with contextlib.suppress(OSError):  # NOTE: none of the parent's files (its output, pipes, sockets) held here
            for lo, hi in zip([0] + [fd + 1 for fd in keep], [*keep, max(os.sysconf("SC_OPEN_MAX"), 1 << 16)]):
                os.closerange(lo, hi)
        _bring_in(rfd, shared, parent, parser=_Parser(answers, shared) if answers >= 0 else None, bringing=not warm)
    except BaseException:  # noqa: BLE001, S110 - nothing to tell: the parser reads every file itself anyway
        pass
    finally:
        os._exit(0)


def _bring_in(rfd: int, shared: mmap.mmap, parent: int, reader: _Reader | None = None,
              parser: _Parser | None = None, bringing: bool = True) -> None:
    """The helper's loop: take in the NUL-terminated paths of ``rfd`` as they come (to its end), bring the next
    ones in for the parser (``reader``), at most a window ahead of its progress in ``shared``, and with a
    ``parser`` parse them (it answers on a pipe of its own) as far ahead as they go, between those; returns when
    the parent is gone or the files are warm and it does not parse (then says so in ``shared``). ``bringing``
    False: the files are known warm (a rescan), nothing is brought in, only parsed.

    NOTE: every path given is taken in at once (sixth round): the fifth round's helper took in only those of the
    window, and so parsed at most a window ahead; the parser, which takes an answer about as fast as the helper
    parses, caught up with it, and the two then raced for the same files (a third of them parsed by the parser)."""
    reader = reader or _Reader()
    paths: list[bytes] = []
    buffer, front, given = b"", 0, True
    poll = select.poll()
    poll.register(rfd, select.POLLIN)
    pause = _POLL
    while True:
        while given and poll.poll(0):  # NOTE: every path given so far, so that the helper parses as far ahead as they go
            chunk = os.read(rfd, 1 << 16)
            given = bool(chunk)  # NOTE: the end: the parent is gone (what was given is done first, as it was)
            buffer = _paths(buffer + chunk, paths, parser)
        progress = reader.passed(shared)
        front = max(front, progress)  # NOTE: what the parser passed is not brought in (slow storage)
        worked = False
        while bringing and front < len(paths) and front < progress + WINDOW_FILES and reader.held <= MAX_AHEAD_BYTES:
            if parser is None or not parser.has(front):
                if not reader.bring(front, paths[front]):
                    if parser is None:
                        shared[_WARM] = 1
                        return
                    bringing = False  # NOTE: warm files: nothing to bring in, still files to parse
                worked = True
                progress = reader.passed(shared)
            front = max(front + 1, progress)
        if parser is not None and parser.parse_one(progress):
            pause = _POLL
            continue
        if reader.finish_one() or worked:
            # NOTE: a large file's head is read (waiting for it) only when there is nothing to parse, or when more
            # than THREADS wait (_Reader.bring)
            continue
        if parser is not None:
            parser.flush()
        if not bringing or front >= len(paths):  # NOTE: nothing to do until more paths come
            chunk = os.read(rfd, 1 << 16) if given else b""
            if not chunk:
                return
            buffer = _paths(buffer + chunk, paths, parser)
            continue
        time.sleep(pause)  # NOTE: a window ahead of the parser, which is busy elsewhere (verifying fixes)
        pause = min(2 * pause, _POLL_MAX)
        if os.getppid() != parent:
            return


def _paths(buffer: bytes, paths: list[bytes], parser: _Parser | None) -> bytes:
    """Add the NUL-terminated paths of ``buffer`` to ``paths`` (and ``parser``'s); the rest of ``buffer``."""
    *new, rest = buffer.split(b"\0")
    if parser is not None:
        parser.push(len(paths), new)
    paths += new
    return rest


class _Parser:
    """What the helper parses, in order and as far ahead of the parser as the files given allow, and its answers
    to the parser (:data:`_Answers`, in frames on the pipe ``wfd``)."""

    def __init__(self, wfd: int, shared: mmap.mmap | None = None) -> None:
        self.wfd = wfd
        self.shared = shared
        """Where the parser is told how far the answers written go (:data:`_SENT`); None: it is not told."""
        self.todo: list[tuple[int, bytes]] = []
        """``(order, path)`` of the files given, in order; those from :attr:`at` on are not parsed yet."""
        self.at = 0
        self.opened: dict[int, tuple[int, os.stat_result]] = {}
        """The next files to parse, opened and asked for (:data:`OPENED`): their descriptors and stats, by order."""
        self._next = 0
        """The next file of :attr:`todo` to open."""
        self._mine = bytearray()
        """Per order number, 1 once the helper opened the file to parse it (and brought it in so)."""
        self.keys: dict[PlainKey, int] = {}
        self.refs: dict[RefKey, int] = {}
        self.shapes: dict[_Shape, int] = {}
        """The image keys, AssemblyRef rows and shapes sent, by their numbers (the parser's lists, the other way
        round)."""
        self.answers: _Answers = ([], [], [], [], [])
        """What is not yet sent."""

    def push(self, seq: int, paths: list[bytes]) -> None:
        """The files ``paths`` were given, numbered from ``seq``."""
        self.todo += zip(range(seq, seq + len(paths)), paths)
        self._mine += bytes(len(paths))

    def has(self, seq: int) -> bool:
        """Whether the helper opened file ``seq`` to parse it (it brought it in too)."""
        return bool(self._mine[seq])

    def parse_one(self, progress: int) -> bool:
        """Parse the next file that the parser has not nearly reached (:data:`LEAD`); False when there is none. A
        file not plain (:func:`~iisbitness.pe.classify.plain_read`), or that cannot be read, gets no answer: the
        parser reads it itself (and says why it cannot)."""
        todo, opened, at = self.todo, self.opened, self.at
        while at < len(todo) and todo[at][0] < progress + LEAD:
            skipped = opened.pop(todo[at][0], None)  # NOTE: the parser reached it first
            if skipped is not None:
                _close(skipped[0])
            at += 1
        if at >= len(todo):
            self.at = at
            self.flush()
            return False
        seq, path = todo[at]
        self.at = at + 1
        if at >= _TRIM:
            del todo[:at]
            self.at, self._next = 1, max(self._next - at, 1)
        self._open_next(progress)  # NOTE: their reads in flight while this one is parsed
        read = _read(path, opened.pop(seq, None))
        if read is None or len(self.refs) > _MAX_REFS:
            return True
        plain, general, identity = read
        new_keys, new_refs, new_shapes, records, others = self.answers
        if plain is None:
            assert general is not None
            others.append((seq, general, identity))
            if len(records) + len(others) >= _BATCH or seq < progress + _NEAR:
                self.flush()
            return True
        key, rows, modules = plain
        keys, refs = self.keys, self.refs
        number = keys.get(key)
        if number is None:
            number = keys[key] = len(keys)
            new_keys.append(key)
        ids = []
        for row in rows:
            i = refs.get(row)
            if i is None:
                i = refs[row] = len(refs)
                new_refs.append(row)
            ids.append(i)
        shape = (number, tuple(ids), modules)
        shaped = self.shapes.get(shape)
        if shaped is None:
            shaped = self.shapes[shape] = len(self.shapes)
            new_shapes.append(shape)
        records.append((seq, shaped, identity))
        if len(records) + len(others) >= _BATCH or seq < progress + _NEAR:
            self.flush()
        return True

    def _open_next(self, progress: int) -> None:
        """Open the next files to parse, up to :data:`OPENED`, and ask for their first reads (``posix_fadvise``,
        as :meth:`_Reader.bring` does): each opened once, to bring it in and to parse it."""
        todo, opened = self.todo, self.opened
        nxt = max(self._next, self.at)
        while len(opened) < OPENED and nxt < len(todo):
            seq, path = todo[nxt]
            nxt += 1
            if seq < progress + LEAD:
                continue
            self._mine[seq] = 1
            try:
                fd = os.open(path, _OPEN_FLAGS)
            except (OSError, ValueError):
                continue  # NOTE: _read tries again, and gives no answer
            try:
                st = os.fstat(fd)
                if stat.S_ISREG(st.st_mode) and st.st_size:
                    os.posix_fadvise(fd, 0, min(st.st_size, FIRST_READ), os.POSIX_FADV_WILLNEED)
                    opened[seq] = (fd, st)
                    continue
            except OSError:
                pass
            os.close(fd)
        self._next = nxt

    def flush(self) -> None:
        """Send the answers not yet sent (waits while the pipe is full: the parser reads it as it goes)."""
        keys, refs, shapes, records, others = self.answers
        if not records and not others:
            return
        first = min(records[0][0] if records else others[0][0], others[0][0] if others else records[0][0])
        last = max(records[-1][0] if records else others[-1][0], others[-1][0] if others else records[-1][0])
        data = marshal.dumps(self.answers)
        self.answers = ([], [], [], [], [])
        out = memoryview(_FRAME.pack(len(data), first, last, bool(keys or refs or shapes)) + data)
        while out:
            out = out[os.write(self.wfd, out) :]
        if self.shared is not None:
            _PROGRESS.pack_into(self.shared, _SENT, last + 1)


def _read(path: bytes, opened: tuple[int, os.stat_result] | None = None,
          ) -> tuple[PlainRead | None, GeneralFacts | None, _Identity] | None:
    """:func:`~iisbitness.pe.classify.plain_read` of the regular file ``path`` (not through a last symbolic link),
    or of its descriptor and stat when ``opened`` (then closed), or when it is not plain (a ReadyToRun or native
    image, or not a PE), :func:`~iisbitness.pe.classify.general_read` of it, as the parser decides between them
    (:func:`~iisbitness.pe.classify.read_image_and_references`); and the file's identity as it was before the read
    (:func:`_identity`); None when it is not a regular file or cannot be read."""
    if opened is None:
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except (OSError, ValueError):
            return None
    else:
        fd = opened[0]
    try:
        st = os.fstat(fd) if opened is None else opened[1]
        if not stat.S_ISREG(st.st_mode):
            return None
        src = Source.from_fd(fd, st.st_size)
        try:
            read = plain_read(src)
        except (OSError, InvalidPe):
            read = None  # NOTE: as the parser: the general readers read it again and say what failed
        if read is not None:
            return read, None, _identity(st)
        general = general_read(src, os.fsdecode(path))
        return None if general is None else (None, general, _identity(st))
    except Exception:  # noqa: BLE001 - whatever it is, the parser reads the file itself and says it
        return None
    finally:
        os.close(fd)


class _Reader:
    """What the helper brings in and holds: the files whose heads are being read (their ranges next), and the
    bytes asked for per order number, until the parser passes them."""

    def __init__(self) -> None:
        self.large: deque[tuple[int, int]] = deque()
        """``(order, fd)`` of files larger than the first read: their ranges are found once their head is in."""
        self.ahead: list[tuple[int, int]] = []
        """A heap of ``(order, bytes)`` asked for and not yet passed by the parser."""
        self.held = 0
        """Bytes of ranges asked for past the first reads and not yet passed by the parser."""
        self.progress = 0
        self.warm = 0
        self.head = bytearray(HEAD_BYTES)
        self.first = bytearray(FIRST_READ)

    def passed(self, shared: mmap.mmap) -> int:
        """The parser's progress; forgets what it passed."""
        progress: int = _PROGRESS.unpack_from(shared, 0)[0]
        self.progress = progress
        ahead = self.ahead
        while ahead and ahead[0][0] < progress:
            self.held -= heapq.heappop(ahead)[1]
        return progress

    def bring(self, seq: int, path: bytes) -> bool:
        """Ask for the file's first read (and, for a large one, later its ranges); False when the files are warm."""
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except (OSError, ValueError):
            return True  # NOTE: the parser opens it and says why it cannot
        keep = False
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
                return True
            os.posix_fadvise(fd, 0, min(st.st_size, FIRST_READ), os.POSIX_FADV_WILLNEED)
            # NOTE: looked up after the reads are asked for: a read that may not wait, of a page not cached, starts
            # a read of its own (Linux's read-ahead), one more disk request where requests are what storage limits
            if _NOWAIT is not None and (self.warm > 0 or seq % PROBE_EVERY == 0):
                cached = _head_cached(fd, st.st_size, self.head)
                self.warm = self.warm + 1 if cached else 0
                if self.warm >= readahead.WARM_STREAK:
                    return False
                if cached:
                    return True
            if st.st_size > FIRST_READ:
                self.large.append((seq, fd))
                keep = True
                if len(self.large) > readahead.THREADS:
                    self.finish_one()
        except OSError:
            pass
        finally:
            if not keep:
                os.close(fd)
        return True

    def finish_one(self) -> bool:
        """Ask for the ranges of the oldest large file (reading its head: waits for the disk); False when none."""
        if not self.large:
            return False
        seq, fd = self.large.popleft()
        try:
            if seq >= self.progress:
                n = os.preadv(fd, [self.first], 0)
                asked = 0
                for offset, size in ranges_past(fd, bytes(self.first[:n]), []):
                    size = min(size, MAX_AHEAD_BYTES - self.held - asked)
                    for at in range(offset, offset + max(size, 0), _CHUNK):
                        os.posix_fadvise(fd, at, min(_CHUNK, offset + size - at), os.POSIX_FADV_WILLNEED)
                    asked += max(size, 0)
                if asked:
                    self.held += asked
                    heapq.heappush(self.ahead, (seq, asked))
        except OSError:
            pass
        finally:
            os.close(fd)
        return True

    def finish_all(self) -> None:
        while self.finish_one():
            pass
