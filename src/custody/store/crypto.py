"""Biometric data and secrets at rest, encrypted (CJIS Security Policy: media protection).

Fingerprint images and webhook signing secrets are sealed with Fernet (AES-128-CBC with
HMAC-SHA256) under a key from the configuration: ``CUSTODY_DATA_KEY`` (a Fernet key) or
``CUSTODY_DATA_KEY_FILE`` (a file holding one).
With neither, a development key is created once at ``var/data.key`` (readable by its owner only) so
`./dev up` works out of the box; a deployment must supply its own key and keep it out of the store's
backups. The key is never logged or stored in the database.

Rotation: either setting may hold several keys, newest first (separated by commas, spaces or
lines). Data is sealed under the newest and opened under any, so a new key can be put first while
data sealed under the old ones stays readable; `custody keys reseal` then seals everything kept at
rest under the newest (``custody.store.reseal``), after which the old keys can be removed.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import LargeBinary, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class KeyError_(RuntimeError):
    """The data key is missing, malformed, or not the key the data was sealed with."""


def _key_file() -> Path:
    return Path(os.environ.get("CUSTODY_DATA_KEY_FILE", Path(os.environ.get("CUSTODY_VAR", "var")) / "data.key"))


def _configured() -> tuple[str, ...]:
    """The data keys set now, newest first: ``CUSTODY_DATA_KEY``, else the key file, read again
    whenever it changes (found by a review: a running process kept the keys its file held when it
    first read it, while the keys it reported came from the file as it is)."""
    setting = os.environ.get("CUSTODY_DATA_KEY")
    if setting is not None:
        return tuple(_keys(setting))
    file = _key_file()
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        # Created readable by its owner only, never world-readable for a moment (written, then
        # chmod-ed, it was: found by a review); a process that created it first keeps its key.
        try:
            created = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(created, "wb") as out:
                out.write(Fernet.generate_key())
    seen = file.stat()
    return _file_keys(str(file), (seen.st_ino, seen.st_mtime_ns, seen.st_size))


@cache
def _file_keys(path: str, _stamp: tuple[int, int, int]) -> tuple[str, ...]:
    return tuple(_keys(Path(path).read_text()))


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise KeyError_("the data key setting holds no key; give a Fernet key (newest first when several)")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError):
        raise KeyError_(
            "a data key is not a valid Fernet key (32 url-safe base64-encoded bytes); several keys are "
            "separated by commas, spaces or lines, newest first"
        ) from None


def _keys(setting: str) -> list[str]:
    return re.split(r"[\s,]+", setting.strip()) if setting.strip() else []


def fernet() -> MultiFernet:
    """Seals under the newest data key, opens under any of them."""
    return _fernet(_configured())


def key_ids() -> list[str]:
    """A short fingerprint of each data key, newest first (SHA-256 of the key, 12 hex digits): what an
    audit entry or a message may name, never the key."""
    return [hashlib.sha256(k.encode()).hexdigest()[:12] for k in _configured()]


def secrets() -> list[str]:
    """Values that must never appear in a log line (see custody.logging): every data key."""
    found = _keys(os.environ.get("CUSTODY_DATA_KEY", ""))
    path = _key_file()
    if path.exists():
        found.extend(_keys(path.read_text()))
    return found


@dataclass
class Census:
    """Sealed values counted by the key that opens them: the newest, only an older one, or none of
    those configured now (what ``custody keys check`` reports before an old key is removed)."""

    newest: int = 0
    older: int = 0
    unreadable: int = 0

    def add(self, token: bytes) -> None:
        keys = _configured()
        if _opens(_fernet(keys[:1]), token):
            self.newest += 1
        elif _opens(_fernet(keys), token):
            self.older += 1
        else:
            self.unreadable += 1

    def to_json(self) -> dict[str, int]:
        return {"newest_key": self.newest, "older_keys": self.older, "no_key_configured": self.unreadable}


def _opens(keys: MultiFernet, token: bytes) -> bool:
    try:
        keys.decrypt(token)
    except InvalidToken:
        return False
    return True


def unseal(value: bytes) -> bytes:
    try:
        return fernet().decrypt(value)
    except InvalidToken:
        raise KeyError_(
            "data sealed at rest cannot be decrypted with the configured key; "
            "set CUSTODY_DATA_KEY (or CUSTODY_DATA_KEY_FILE) to the key it was sealed with"
        ) from None


class EncryptedBinary(TypeDecorator[bytes]):
    """Bytes sealed under the data key (fingerprint images)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> Any:
        return None if value is None else fernet().encrypt(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else unseal(bytes(value))


class EncryptedText(TypeDecorator[str]):
    """Text sealed under the data key: a webhook's signing secret, which custody must read back to
    sign with, so it cannot be kept as a hash (found by a review: it was stored in the clear)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else fernet().encrypt(value.encode()).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else unseal(str(value).encode()).decode()
