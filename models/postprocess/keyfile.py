"""Final-key files (SPEC 8) with an integrity record.

A key file ``NAME.key`` stays what SPEC 8 says: the key's raw bytes, MSB first, mode 0600. Next
to it, ``NAME.key.sha256`` holds its SHA-256 in the ``sha256sum`` format (``<hex>  NAME.key``),
so ``sha256sum -c NAME.key.sha256`` checks it too. :func:`read_key` recomputes the digest and
refuses a key whose bytes no longer match (a flipped bit in storage), or whose record is missing
or unreadable: a station that used such a key would hold a key differing from its partner's,
undetected until a one-time pad failed to decrypt.

Both files are written to a temporary name and renamed into place, key first, so a crash or a
full disk never leaves a key next to the record of another one.
"""

import hashlib
import pathlib
import re

import numpy as np

from models.postprocess.errors import PostprocessInputError
from models.postprocess.private_file import write_private

RECORD_SUFFIX = ".sha256"
_RECORD = re.compile(r"([0-9a-f]{64})  (\S.*)\n?")


class KeyFileError(PostprocessInputError):
    """A key file that cannot be read or fails its integrity check."""


def record_path(path: pathlib.Path) -> pathlib.Path:
    """Where the integrity record of key file ``path`` lives."""
    return path.with_name(path.name + RECORD_SUFFIX)


def write_key(path: pathlib.Path, bits: np.ndarray) -> None:
    """Store key ``bits`` (uint8 0/1, MSB-first packing) and its integrity record."""
    data = np.packbits(np.asarray(bits, dtype=np.uint8), bitorder="big").tobytes()
    write_private(path, data)
    write_private(record_path(path),
                   f"{hashlib.sha256(data).hexdigest()}  {path.name}\n".encode())


def read_key(path: pathlib.Path) -> np.ndarray:
    """The key of ``path`` as a bit array, after checking it against its integrity record."""
    record = record_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {str(path)!r}: {exc.strerror}") from None
    try:
        text = record.read_text(encoding="ascii")
    except OSError as exc:
        raise KeyFileError(f"key file {str(path)!r} has no readable integrity record "
                           f"{record.name!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise KeyFileError(f"integrity record {str(record)!r} is not a sha256sum line") from None
    match = _RECORD.fullmatch(text)
    if match is None or match.group(2) != path.name:
        raise KeyFileError(f"integrity record {str(record)!r} is not a sha256sum line for "
                           f"{path.name!r}")
    if hashlib.sha256(data).hexdigest() != match.group(1):
        raise KeyFileError(f"key file {str(path)!r} fails its integrity check (SHA-256 differs "
                           f"from {record.name!r}): the stored key is corrupted")
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="big")
