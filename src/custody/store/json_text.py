"""How the store writes and reads its JSON columns.

orjson encodes and decodes several times faster than the standard library, and JSON columns are on
every hot path (events, outbox messages, audit entries: issue 8). Text already encoded — an audit
entry's canonical form, which is exactly what its hash covers — is stored as it is instead of being
decoded and encoded again.
"""

from __future__ import annotations

from typing import Any

import orjson


class EncodedJSON(str):
    """JSON text to store verbatim in a JSON column."""


def dumps(value: Any) -> str:
    if type(value) is EncodedJSON:
        return value
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


loads = orjson.loads
