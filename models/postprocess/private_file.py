"""Writing key material to disk: readable by its owner only, and never half written."""

import contextlib
import os
import pathlib
import tempfile


def write_private(path: pathlib.Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` all at once, mode 0600.

    The bytes go to a temporary file in the same directory (``mkstemp`` creates it 0600), are
    flushed to disk, and the file is renamed over ``path``; the directory is synced so that the
    rename survives a power cut. A failure at any point leaves the old ``path`` as it was and no
    temporary file behind.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
