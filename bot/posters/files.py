"""Exported files (posters, previews, QR codes) are never group- or world-writable,
whatever the operator's umask: a file a city prints must not be replaceable by
another account on the machine."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_NO_GROUP_WRITE = 0o022


@contextlib.contextmanager
def no_group_write() -> Iterator[None]:
    """Files and directories created inside this block lack group and world write
    (the umask gains 022 for the block; the command line is single-threaded)."""
    old = os.umask(0)
    os.umask(old | _NO_GROUP_WRITE)
    try:
        yield
    finally:
        os.umask(old)


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a reader never sees half a file), mode
    0644 at most."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def make_dir(path: Path) -> None:
    with no_group_write():
        path.mkdir(parents=True, exist_ok=True)


def _current_umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old
