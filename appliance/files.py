"""Files the admin hands us or we keep for them: read safely, written whole or not at all.

A path can name a FIFO with no writer (open blocks forever), `/dev/zero` behind a symlink (reads
never end) or a directory. Every file we are handed (token files, dumps) is opened without
blocking, checked to be a regular file, and read only up to its limit; anything else is an error
naming the file, what it is and the fix.

What we write (the status token, the machine config, talosconfig) is private (0600 from the
start) and atomic: a new file in the same directory renamed over the old one, so a kill at any
moment leaves the old content or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["describe_mode", "open_regular", "read_regular", "write_private"]


def describe_mode(mode: int) -> str:
    """What a non-regular file is, in the words `ls -l` would suggest."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


@contextlib.contextmanager
def open_regular(
    path: Path, *, what: str, limit: int, error: Callable[[str], Exception]
) -> Iterator[tuple[BinaryIO, int]]:
    """Open `path` for reading if it is a regular file of at most `limit` bytes.

    Yields the binary handle and the size. O_NONBLOCK makes opening a FIFO return at once (it is
    then refused as not regular); symlinks are followed, so a mounted Secret's `..data` link works.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a directory, not a file") from None
    except OSError as exc:
        raise error(f"{what} {path} cannot be read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{what} {path} is {describe_mode(info.st_mode)}; pass a regular file")
        if info.st_size > limit:
            raise error(
                f"{what} {path} is {info.st_size} bytes, more than the limit of {limit} bytes"
            )
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle, info.st_size


def read_regular(path: Path, *, what: str, limit: int, error: Callable[[str], Exception]) -> bytes:
    """The whole content of regular file `path` (at most `limit` bytes, even if it grows)."""
    with open_regular(path, what=what, limit=limit, error=error) as (handle, _):
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise error(f"{what} {path} grew past the limit of {limit} bytes while being read")
    return data


def write_private(path: Path, content: str | bytes) -> None:
    """Replace `path` with `content` atomically, mode 0600 from the first byte."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    staging = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(staging, 0o600)
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(OSError):
            staging.unlink()
        raise
