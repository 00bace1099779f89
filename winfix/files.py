"""Finding manifest files, reading them within limits, and writing every output safely.

What this module guarantees (README "Reliability / Files and output"):

- a file is replaced atomically: the new content goes to a temporary file beside
  it (``.NAME.XXXXXXXX.winfix``), is flushed and fsynced, and is renamed over the
  old one, so a crash or a full disk leaves the old content or the new, never a
  mix; mode, owner and group are kept (owner and group where the process may);
- a file that changed after winfix read it (append, replacement, removal) is not
  replaced: the other writer's content stays, and the run exits 2;
- a hard-linked file is not replaced (a rename would split the links silently);
- the temporary file has no name until its content is complete (Linux O_TMPFILE),
  so a killed run leaves nothing; where the file system lacks that, temporary files a
  killed run left behind are removed by the next write to the same directory, once
  older than :data:`STALE_AFTER` and only if their name has winfix's exact pattern;
- every byte written to a stream is checked (Python's buffered writer can
  return a short count on a full disk without raising) and flushed; a failure
  is an :class:`OutputError`;
- a directory walk reports an unreadable folder as an error, skips non-regular
  files (a FIFO would block the run) and symbolic links that leave the tree
  given on the command line, each with a note.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from winfix.errors import InputError, WinfixError
from winfix.spool import Spool

YAML_SUFFIXES = (".yaml", ".yml")
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
STDIN = "-"
TEMP_SUFFIX = ".winfix"
# A temporary file of winfix's own: "." + the target's name + "." + 8 hex digits + ".winfix".
TEMP_NAME = re.compile(r"\A\..+\.[0-9a-f]{8}\.winfix\Z")
# Writing even a 64 MiB file takes seconds; an hour-old temporary file belongs to no live run.
STALE_AFTER = 3600.0
_CLEANED: set[Path] = set()


# Why a walk passes over a path (winfix.pipeline.Skip carries them as notes).
NOT_REGULAR = "not a regular file (FIFO, socket or device)"
LINK_OUT = "symbolic link that leads out of the tree being walked: not read, not written through"
LINK_DIR = "symbolic link to a directory: not followed"


class OutputError(WinfixError):
    """An output (stdout, a report, a patch directory) could not be written completely."""


class Skipped(WinfixError):
    """A path found by walking a directory that winfix does not read; the message says why."""


class RefusedWrite(OSError):
    """winfix will not replace this file; ``strerror`` says why (callers print it as an OSError)."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EPERM, reason)


@dataclass(frozen=True)
class Target:
    """An input: a named file, a file found by walking a directory, or stdin."""

    path: str
    walked: bool = False  # found in a directory: non-manifests are skipped, not errors
    error: str | None = None  # the walk could not read this folder (an error, exit 2)
    skip: str | None = None  # the walk found it but winfix does not read it (a note)

    @property
    def is_stdin(self) -> bool:
        return self.path == STDIN


@dataclass(frozen=True)
class Loaded:
    """The bytes of an input, and what its file looked like when they were read."""

    data: bytes
    # (st_dev, st_ino, st_size, st_mtime_ns) when read, which _check_unchanged compares;
    # not the whole stat_result, held for every waiting file of a run (~600 bytes each).
    # None for stdin and pipes.
    stat: tuple[int, int, int, int] | None = None
    # An input past ``spool_past`` (``load``): its bytes wait here, and ``data`` is empty.
    spool: Spool | None = None


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


# Whether a walk goes into a folder (True) or reads a file (False) it found:
# winfix.selection's answer (.gitignore, exclude). A path named on the command line is
# never asked about: it is always read, as ruff does.
Keep = Callable[[Path, bool], bool]


def _keep_all(path: Path, is_dir: bool) -> bool:
    return True


def discover(paths: list[str], keep: Keep = _keep_all) -> Iterator[Target]:
    for raw in paths:
        if raw == STDIN:
            yield Target(STDIN)
            continue
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path, os.path.realpath(path), keep)
        else:
            yield Target(raw)


def _walk(folder: Path, root: str, keep: Keep) -> Iterator[Target]:
    """Manifests under ``folder`` in name order; directory symlinks are not followed."""
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        yield Target(str(folder), walked=True,
                     error=f"cannot read directory: {exc.strerror or exc}")
        return
    subfolders: list[Path] = []
    for entry in entries:
        path = Path(folder) / entry.name
        if entry.is_dir(follow_symlinks=False):
            if not entry.name.startswith(".") and keep(path, True):
                subfolders.append(path)
            continue
        if not entry.name.endswith(YAML_SUFFIXES) or not keep(path, False):
            continue
        yield walked_target(path, root)
    for sub in subfolders:
        yield from _walk(sub, root, keep)


def walked_target(path: str | Path, root: str | Path) -> Target:
    """A file found under ``root`` (a walk, or the bot's worktree), as winfix treats it.

    A symbolic link is followed only while it stays inside ``root``; a FIFO, socket or
    device is skipped (reading a FIFO would block the run).
    """
    name, top = str(path), os.path.realpath(root)
    if os.path.islink(name):
        real = os.path.realpath(name)
        if os.path.commonpath([top, real]) != top:
            return Target(name, walked=True, skip=LINK_OUT)
        if os.path.isdir(real):
            return Target(name, walked=True, skip=LINK_DIR)
    try:
        mode = os.stat(name).st_mode
    except OSError:
        return Target(name, walked=True)  # the read reports it (a dangling link is an error)
    if not stat.S_ISREG(mode):
        return Target(name, walked=True, skip=NOT_REGULAR)
    return Target(name, walked=True)


def read(
    target: Target, max_bytes: int = DEFAULT_MAX_BYTES, *, stdin: BinaryIO | None = None
) -> bytes:
    """The bytes of one input; stdin is ``stdin`` when given (a host's rendered stream)."""
    return load(target, max_bytes, stdin=stdin).data


def load(
    target: Target,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    stdin: BinaryIO | None = None,
    spool_past: int | None = None,
) -> Loaded:
    """Read an input within ``max_bytes``, remembering the file's state for :func:`write_atomic`.

    ``spool_past``: an input longer than this many bytes is copied into a ``Spool`` (on
    disk) instead, for ``winfix.chunks`` to read in pieces: one read, so every piece is
    of the same content, and the bytes ``write_atomic`` compares the file with.
    Raises InputError (unreadable, too large) or Skipped (a walked non-regular file).
    """
    name = "<stdin>" if target.is_stdin else target.path
    if target.error is not None:
        raise InputError(target.error, file=name)
    if target.skip is not None:
        raise Skipped(target.skip)
    if spool_past is not None:
        if target.is_stdin:
            return _spooled(stdin or sys.stdin.buffer, max_bytes, spool_past, name)
        return _spooled_file(target, max_bytes, spool_past)
    try:
        if target.is_stdin:
            data = (stdin if stdin is not None else sys.stdin.buffer).read(max_bytes + 1)
            info = None
        else:
            data, info = _read_file(target, max_bytes)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None
    if len(data) > max_bytes:  # stdin, or a file that grew (or a FIFO) since stat
        raise _too_large(name, None, max_bytes)
    return Loaded(data, _identity(info) if info is not None else None)


def _spooled(stream: BinaryIO, max_bytes: int, past: int, name: str) -> Loaded:
    """An input read in blocks: its bytes when it ends within ``past``, else its spool
    (a full temporary directory is the spool's OSError, which names it)."""
    spool = Spool(past, "the input")
    while spool.size <= max_bytes:
        try:
            block = stream.read(min(_BLOCK, max_bytes + 1 - spool.size))
        except OSError as exc:
            spool.close()
            raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None
        if not block:
            break
        spool.write(block)
    if spool.size > max_bytes:
        spool.close()
        raise _too_large(name, None, max_bytes)
    if not spool.on_disk:
        data = spool.read_at(0, spool.size)
        spool.close()
        return Loaded(data)
    spool.flush()
    return Loaded(b"", spool=spool)


_BLOCK = 1 << 20  # bytes of an input read at a time into a spool


def _read_file(target: Target, max_bytes: int) -> tuple[bytes, os.stat_result | None]:
    handle, info = _open_file(target, max_bytes)
    with handle:
        return handle.read(max_bytes + 1), info


def _open_file(target: Target, max_bytes: int) -> tuple[BinaryIO, os.stat_result | None]:
    """The file, open for reading, and its stat when it is a regular file."""
    # A walked path is opened without blocking: a FIFO that appeared after the walk
    # looked at it must not hang the run (open(2): O_NONBLOCK on a FIFO returns at once).
    flags = os.O_RDONLY
    if target.walked:
        flags |= os.O_NONBLOCK
    fd = os.open(target.path, flags)
    handle = os.fdopen(fd, "rb")
    try:
        info = os.fstat(fd)
        regular = stat.S_ISREG(info.st_mode)
        if target.walked and not regular:
            raise Skipped(NOT_REGULAR)
        if regular and info.st_size > max_bytes:  # refuse a huge file before reading it
            raise _too_large(target.path, info.st_size, max_bytes)
        os.set_blocking(fd, True)
    except BaseException:
        handle.close()
        raise
    return handle, info if regular else None


def _spooled_file(target: Target, max_bytes: int, past: int) -> Loaded:
    """A file as ``_spooled`` reads stdin, with the state it had when read."""
    try:
        handle, info = _open_file(target, max_bytes)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=target.path) from None
    with handle:
        loaded = _spooled(handle, max_bytes, past, target.path)
    return replace(loaded, stat=_identity(info) if info is not None else None)


def _too_large(name: str, size: int | None, limit: int) -> InputError:
    """Refused before parsing. ``size`` is None for a stream (only "more than" is known)."""
    mib = 1024 * 1024
    shown = f"is {size / mib:.1f} MiB, larger than" if size is not None else "is larger than"
    return InputError(
        f"input {shown} the {limit / mib:g} MiB limit (raise it with --max-size)", file=name
    )


# ---------------------------------------------------------------------------
# Writing files


def write_atomic(
    path: str | Path, data: bytes | Iterable[bytes], *, expect: Loaded | None = None
) -> None:
    """Create or replace ``path`` with ``data`` (bytes, or pieces of them written one after
    another: a report made as it is written) via a temporary file, fsync and rename.

    The temporary file sits beside the target (a rename within one directory is
    atomic), so a crash leaves either the old or the new content, never a mix. A
    symbolic link is followed: the file it points to is replaced, the link stays.
    ``expect``: what the file held when it was read; if it changed since (other
    content, another inode, removed), nothing is replaced and RefusedWrite is raised.
    Raises OSError (RefusedWrite included) on failure; the target is then untouched.
    """
    target = Path(os.path.realpath(path))
    try:
        current: os.stat_result | None = target.stat()
    except FileNotFoundError:
        if expect is not None:
            raise RefusedWrite("removed while winfix ran; nothing written") from None
        current = None
    if current is not None and current.st_nlink > 1:
        raise RefusedWrite(
            f"has {current.st_nlink} hard links; replacing it would leave the other links "
            "with the old content: give it a name of its own (cp, then mv over it) first"
        )
    if target.parent not in _CLEANED:  # once per folder and process: a walk writes many
        _CLEANED.add(target.parent)
        clean_stale(target.parent)
    # What secrets.token_hex(4) returns, without importing secrets (hmac, hashlib,
    # random: ~3 ms of every start-up that writes a file or a report, issue 16).
    temp = target.parent / f".{target.name}.{os.urandom(4).hex()}{TEMP_SUFFIX}"
    # 0o666 & ~umask for a new file, as open(2) would create it; 0o600 until chmod otherwise.
    fd, unnamed = _open_temp(target.parent, temp, 0o600 if current is not None else 0o666)
    try:
        try:
            if current is not None:
                _keep_owner(fd, current)
                os.fchmod(fd, stat.S_IMODE(current.st_mode))
            for piece in (data,) if isinstance(data, bytes) else data:
                _write_all(fd, piece)
            os.fsync(fd)
            if expect is not None:
                _check_unchanged(target, expect)
            if unnamed:  # a name only now that the content is complete
                _link_unnamed(fd, temp)
        finally:
            os.close(fd)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _open_temp(folder: Path, temp: Path, mode: int) -> tuple[int, bool]:
    """A temporary file for ``folder``: unnamed (O_TMPFILE) where the file system has it,
    so that a killed run leaves nothing behind; else created as ``temp``."""
    unnamed = getattr(os, "O_TMPFILE", 0)
    if unnamed and os.path.isdir("/proc/self/fd"):
        try:
            return os.open(folder, unnamed | os.O_WRONLY, mode), True
        except OSError:
            pass  # EOPNOTSUPP, EISDIR, EINVAL: this file system has no unnamed files
    return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), False


def _link_unnamed(fd: int, temp: Path) -> None:
    """Give an O_TMPFILE file a name: linkat(2) of /proc/self/fd/N with AT_SYMLINK_FOLLOW,
    as open(2) describes. os.link uses link(2), which does not follow the /proc link,
    unless a directory fd is given, hence ``src_dir_fd``."""
    proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(str(fd), temp, src_dir_fd=proc, follow_symlinks=True)
    finally:
        os.close(proc)


def _keep_owner(fd: int, current: os.stat_result) -> None:
    """Owner and group as before where the process may (root may; others, their groups)."""
    for uid, gid in ((current.st_uid, current.st_gid), (-1, current.st_gid)):
        try:
            os.fchown(fd, uid, gid)
            return
        except PermissionError:
            continue


def _check_unchanged(target: Path, expect: Loaded) -> None:
    """The file still is the one read, with the bytes read (mtime alone is too coarse)."""
    try:
        now = target.stat()
    except FileNotFoundError:
        raise RefusedWrite("removed while winfix ran; nothing written") from None
    same = expect.stat is not None and _identity(now) == expect.stat
    if same:
        with open(target, "rb") as handle:
            if expect.spool is not None:  # a large file, read in chunks: block by block
                same = all(handle.read(len(block)) == block for block in expect.spool.chunks())
                same = same and not handle.read(1)
            else:
                same = handle.read(len(expect.data) + 1) == expect.data
    if not same:
        raise RefusedWrite("changed while winfix ran; left as the other writer made it, "
                           "nothing written: run winfix again")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # pragma: no cover - os.write raises instead (ENOSPC, EIO)
            raise OSError(errno.EIO, "short write")
        view = view[written:]


def write_new(path: Path, data: bytes) -> None:
    """Write a file that must not exist yet (inside a folder being built), fsynced."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_stale(
    folder: Path,
    pattern: re.Pattern[str] = TEMP_NAME,
    *,
    directories: bool = False,
    now: float | None = None,
) -> list[Path]:
    """Remove what a killed run of winfix left in ``folder``; returns what was removed.

    Only entries whose name matches ``pattern`` (winfix's exact naming), of the
    expected type (regular files, or with ``directories`` real folders), last
    modified more than :data:`STALE_AFTER` seconds ago: a live run's are fresh.
    """
    limit = (time.time() if now is None else now) - STALE_AFTER
    removed: list[Path] = []
    try:
        with os.scandir(folder) as scan:
            entries = [e for e in scan if pattern.match(e.name)]
    except OSError:
        return removed  # the write that follows reports a folder it cannot use
    for entry in entries:
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            kind = stat.S_ISDIR if directories else stat.S_ISREG
            if kind(info.st_mode) and info.st_mtime < limit:
                if directories:
                    import shutil  # here only: start-up (bench/startup.py)

                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


# ---------------------------------------------------------------------------
# Writing streams


def write_stream(stream: BinaryIO, data: bytes, name: str = "stdout") -> None:
    """Write all of ``data`` and flush; raise OutputError if any byte could not be written.

    ``BufferedWriter.write`` may return a short count on a full disk instead of
    raising, so the count is checked and the rest written again (which raises).
    A broken pipe (the reader left: ``| head``) stays a BrokenPipeError.
    """
    write_chunks(stream, (data,), name)


def write_chunks(stream: BinaryIO, chunks: Iterable[bytes], name: str = "stdout") -> None:
    """:func:`write_stream` of the concatenation of ``chunks``, made one after another (a
    fixed stream encoded piece by piece needs no second whole copy of it, issue 16)."""
    try:
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                written = stream.write(view)
                if written is None or written <= 0:
                    raise OSError(errno.EIO, "short write")
                view = view[written:]
        stream.flush()
    except BrokenPipeError:
        discard(stream)
        raise
    except OSError as exc:
        discard(stream)
        raise OutputError(f"cannot write to {name}: {exc.strerror or exc}") from None


def discard(stream: object) -> None:
    """Point a failed stream's descriptor at /dev/null, so that the interpreter's
    final flush of what is still buffered does not fail a second time (exit 120)."""
    fileno = getattr(stream, "fileno", None)
    if fileno is None:
        return
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        target = fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, target)
        os.close(devnull)
