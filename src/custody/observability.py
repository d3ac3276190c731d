"""Logging that never prints a secret: the data key, a database password, a webhook secret.

Every log record passes through ``SecretMask`` before any handler formats it, so a secret that
slips into a message or an exception (a connection URL in a database error, say) comes out as
``***``. `custody serve` and `custody worker` configure it, at the level ``CUSTODY_LOG_LEVEL`` names.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from custody.domain.errors import InvalidInput
from custody.store import crypto

_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")
# A NATS URL whose user part is a token alone (nats://TOKEN@host): found in a worker's log by a
# review. Only NATS's: elsewhere a bare user part is a user name (postgresql://custody@db), and
# masking it masked the word "custody" in every line (a code review).
_URL_TOKEN = re.compile(r"((?:nats|tls)://)([^:/@\s]+)(@)")


def masked(text: str) -> str:
    """``text`` with the password or token of any URL in it replaced by ***."""
    return _URL_TOKEN.sub(r"\1***\3", _URL_PASSWORD.sub(r"\1***\3", text))


class SecretMask(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def mask(self, text: str) -> str:
        text = masked(text)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = self.mask(message), None
        return True


def known_secrets() -> list[str]:
    found = crypto.secrets()
    for variable in ("CUSTODY_DATABASE_URL", "CUSTODY_NATS_URL"):
        url = os.environ.get(variable, "")
        match = _URL_PASSWORD.search(url) or _URL_TOKEN.search(url)
        if match:
            found.append(match.group(2))
    return found


def url_without_secrets(url: str) -> str:
    """A URL as an audit entry may keep it: scheme, host and port only. Its user part, path and query
    may carry credentials (…/services/T/B/secret, ?token=…), found kept by a code review."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


LEVEL_ENV = "CUSTODY_LOG_LEVEL"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level() -> int:
    """The level named in ``CUSTODY_LOG_LEVEL``, INFO when unset: a benchmark quiets the worker
    processes it starts with WARNING, an operator chasing a fault asks for DEBUG."""
    name = os.environ.get(LEVEL_ENV, "").strip().upper() or "INFO"
    if name not in LEVELS:
        raise InvalidInput(f"{LEVEL_ENV}={name!r} is not a log level; use one of {', '.join(LEVELS)}")
    return logging.getLevelName(name)  # type: ignore[no-any-return]


def configure_logging(level: int | None = None) -> SecretMask:
    mask = SecretMask(known_secrets())
    chosen = log_level() if level is None else level
    logging.basicConfig(level=chosen, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(mask)
    return mask
