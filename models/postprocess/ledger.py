"""Persistent record of which key bits have been used, so that no key bit is used twice (SPEC 7).

A ledger is a JSON file (format ``qkdsim-key-ledger``, version 1)::

    {"format": "qkdsim-key-ledger", "version": 1,
     "keys": {"<SHA-256 of the key file, hex>": {
         "label": "runs/jinan/satellite.key", "bits": 483328,
         "uses": [{"start": 0, "end": 256, "purpose": "auth", "peer": "...", "utc": "..."}]}}}

A key is named by the SHA-256 of its file's bytes (the satellite's copy for a pass key; the copy
of station A for a relayed key), so a renamed or copied key file is still the same key, and one
ledger can hold several keys. A *use* is the half-open bit range [start, end) of one key (bit 0 =
MSB of byte 0, as the key files), a purpose from :data:`PURPOSES` and the peer it was used with.
Two uses of one key may not overlap; :func:`record_uses` refuses the whole set of uses if any of
them overlaps a recorded use or another use of the set, and then changes nothing.

Writing: the new content goes to a temporary file in the ledger's directory (mode 0600), is
flushed to disk, and replaces the ledger by ``os.replace`` (atomic on POSIX), so a crash or a
full disk leaves either the old or the new ledger, never a truncated one. An exclusive
``flock`` on the ledger's directory serialises concurrent writers (read, check, write). A missing
ledger is an empty one; an unreadable or malformed ledger is an error (treating it as empty would
allow reuse).
"""

import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import pathlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from models.postprocess.errors import PostprocessInputError
from models.postprocess.private_file import write_private

FORMAT = "qkdsim-key-ledger"
VERSION = 1
LEDGER_NAME = "ledger.json"
PURPOSES = ("relay", "relay_mask", "auth", "aes128", "otp")


class LedgerError(PostprocessInputError):
    """A ledger that cannot be read, parsed or written."""


class KeyReuseError(PostprocessInputError):
    """A requested use of key bits that the ledger records as used already."""


def key_digest(data: bytes) -> str:
    """The name of a key in the ledger: SHA-256 of the key file's bytes, hex."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class KeyUse:
    """Bits [start, end) of the key ``key`` (a :func:`key_digest`), used for ``purpose``."""

    key: str
    label: str  # where the key file was read from (informational)
    bits: int  # length of the key
    start: int
    end: int
    purpose: str
    peer: str
    utc: str = field(default="", compare=False)  # when it was recorded

    def __post_init__(self) -> None:
        if self.purpose not in PURPOSES:
            raise ValueError(f"unknown key use purpose {self.purpose!r}")
        if not 0 <= self.start < self.end <= self.bits:
            raise ValueError(f"key use [{self.start}, {self.end}) outside a {self.bits}-bit key")

    def overlaps(self, other: "KeyUse") -> bool:
        return self.key == other.key and self.start < other.end and other.start < self.end

    def describe(self) -> str:
        return (f"bits {self.start}..{self.end - 1} of {self.label} (sha256 {self.key[:16]}) "
                f"for {self.purpose}")


def _malformed(path: pathlib.Path, what: str) -> LedgerError:
    return LedgerError(f"key ledger {str(path)!r} is malformed ({what}); no key was used: "
                       "repair it or move it away only if its keys are discarded too")


def _parse(path: pathlib.Path, doc: object) -> list[KeyUse]:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _malformed(path, f"not a {FORMAT} file")
    if doc.get("version") != VERSION:
        raise _malformed(path, f"version {doc.get('version')!r}, expected {VERSION}")
    keys = doc.get("keys")
    if not isinstance(keys, dict):
        raise _malformed(path, "'keys' is not an object")
    uses = []
    for digest, entry in keys.items():
        try:
            for u in entry["uses"]:
                uses.append(KeyUse(digest, str(entry["label"]), int(entry["bits"]),
                                   int(u["start"]), int(u["end"]), u["purpose"], str(u["peer"]),
                                   str(u.get("utc", ""))))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise _malformed(path, f"key {digest[:16]!r}: {exc}") from None
    return uses


def load(path: pathlib.Path) -> list[KeyUse]:
    """The uses recorded in the ledger ``path`` (none if the file does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"cannot read key ledger {str(path)!r}: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _malformed(path, f"invalid JSON at line {exc.lineno}") from None
    return _parse(path, doc)


def _document(uses: Sequence[KeyUse]) -> dict[str, Any]:
    keys: dict[str, dict[str, Any]] = {}
    for use in sorted(uses, key=lambda u: (u.key, u.start)):
        entry = keys.setdefault(use.key, {"label": use.label, "bits": use.bits, "uses": []})
        entry["uses"].append({"start": use.start, "end": use.end, "purpose": use.purpose,
                              "peer": use.peer, "utc": use.utc})
    return {"format": FORMAT, "version": VERSION, "keys": keys}


@contextlib.contextmanager
def _locked(directories: Sequence[pathlib.Path]) -> Iterator[None]:
    """Exclusive locks on the ledgers' directories, taken in a fixed order (no deadlock)."""
    fds = []
    try:
        for d in sorted({p.resolve() for p in directories}):
            fd = os.open(d, os.O_RDONLY)
            fds.append(fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        for fd in fds:
            os.close(fd)  # closing releases the lock


def _refusal(new: KeyUse, old: KeyUse, where: str) -> KeyReuseError:
    return KeyReuseError(
        f"key reuse refused: {new.describe()} overlaps bits {old.start}..{old.end - 1} already "
        f"used for {old.purpose} with {old.peer} ({where}); nothing was used or written")


def check(recorded: Sequence[KeyUse], new: Sequence[KeyUse], where: str) -> None:
    """Raise :class:`KeyReuseError` if a new use overlaps a recorded one or another new one."""
    for i, use in enumerate(new):
        for old in recorded:
            if use.overlaps(old):
                raise _refusal(use, old, f"ledger {where}")
        for other in new[:i]:
            if use.overlaps(other):
                raise _refusal(use, other, "in the same request")


def record_uses(plan: Mapping[pathlib.Path, Sequence[KeyUse]]) -> None:
    """Record each ledger's new uses, or none of them if any overlaps a recorded use.

    Every ledger is read and checked before the first one is written. A write failure after
    another ledger was written leaves bits recorded that were never used: key is wasted, never
    reused.
    """
    plan = {p: list(u) for p, u in plan.items() if u}
    for path in plan:
        if not path.parent.is_dir():
            raise LedgerError(f"key ledger directory {str(path.parent)!r} does not exist")
    utc = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        with _locked([p.parent for p in plan]):
            recorded = {path: load(path) for path in plan}
            everything = [u for uses in plan.values() for u in uses]
            check([], everything, "")
            for path, uses in plan.items():
                check(recorded[path], uses, str(path))
            for path, uses in plan.items():
                stamped = [replace(u, utc=utc) for u in uses]
                text = json.dumps(_document(recorded[path] + stamped), indent=1) + "\n"
                write_private(path, text.encode())
    except OSError as exc:
        raise LedgerError(f"cannot update key ledger: {exc.strerror} "
                          f"({exc.filename or ', '.join(map(str, plan))})") from None


def ledger_uses_as_json(uses: Sequence[KeyUse]) -> list[dict[str, Any]]:
    """The uses for a report (``key`` shortened to 16 hex digits)."""
    return [asdict(u) | {"key": u.key[:16]} for u in uses]
