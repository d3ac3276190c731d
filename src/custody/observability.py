"""Logging that never prints a secret: the data key, a database password, a webhook secret.

Every log record passes through ``SecretMask`` before any handler formats it, so a secret that
slips into a message or an exception (a connection URL in a database error, say) comes out as
``***``. `custody serve` and `custody worker` configure it.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable

from custody.store import crypto

_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")


class SecretMask(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def mask(self, text: str) -> str:
        text = _URL_PASSWORD.sub(r"\1***\3", text)
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
    url = os.environ.get("CUSTODY_DATABASE_URL", "")
    match = _URL_PASSWORD.search(url)
    if match:
        found.append(match.group(2))
    return found


def configure_logging(level: int = logging.INFO) -> SecretMask:
    mask = SecretMask(known_secrets())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(mask)
    return mask
