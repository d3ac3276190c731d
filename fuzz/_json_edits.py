"""Structure-aware edits of a JSON (or YAML) document, driven by the fuzzer's bytes.

An input is ``<document> NUL <edit bytes>`` (JSON; YAML for the rule files): libFuzzer's byte
mutations work on the document (the seeds are plain documents), and the bytes after the first NUL
choose up to eight edits, each a path into the document and a value from a palette of boundary
values, so that mutated inputs stay well-formed often enough to reach the code behind the schema.
A small reader of its own, not atheris's FuzzedDataProvider, so the fallback driver needs no
atheris.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

SKIP = object()  # the input is not a JSON document: nothing of custody's was exercised


class Choices:
    """Consumes the edit bytes; when they run out every choice is 0."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def pick(self, n: int) -> int:
        if n <= 1 or self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1] % n

    def text(self) -> str:
        size = self.pick(64)
        raw = self.data[self.pos : self.pos + size]
        self.pos += size
        return raw.decode("utf-8", "replace")


def document(
    data: bytes,
    palette: list[Any],
    keys: list[str],
    loads: Callable[[bytes], Any] = json.loads,
    errors: tuple[type[Exception], ...] = (),
) -> Any:
    """The edited document, or SKIP when the part before NUL does not parse (``loads`` raising
    ValueError, RecursionError or one of ``errors``)."""
    head, _, tail = data.partition(b"\x00")
    try:
        doc = loads(head)
    except (ValueError, RecursionError, *errors):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return SKIP
    choices = Choices(tail)
    for _ in range(choices.pick(9)):
        doc = _edit(doc, choices, palette, keys)
    return doc


def _value(choices: Choices, palette: list[Any]) -> Any:
    which = choices.pick(len(palette) + 3)
    if which < len(palette):
        return copy.deepcopy(palette[which])  # never the same list or mapping in two places
    if which == len(palette):
        return choices.text()
    if which == len(palette) + 1:
        return (choices.pick(256) << 8 | choices.pick(256)) - 2**15
    # Nested lists, up to 897 levels: as deep as json.loads itself lets a client send (it stops
    # near the interpreter's recursion limit, 1000), so every document here could come off the wire.
    depth = 1 + choices.pick(113) * 8
    nested: list[Any] = []
    for _ in range(depth):
        nested = [nested]
    return nested


def _edit(node: Any, choices: Choices, palette: list[Any], keys: list[str]) -> Any:
    """Replace, add or delete at a path chosen by walking down from ``node``."""
    if not isinstance(node, dict | list) or choices.pick(4) == 0:
        return _value(choices, palette)
    if isinstance(node, dict):
        names = sorted(set(node) | set(keys))
        key = names[choices.pick(len(names))]
        if key in node and choices.pick(6) == 0:
            del node[key]
        else:
            node[key] = _edit(node.get(key), choices, palette, keys)
        return node
    if node and choices.pick(5):
        at = choices.pick(len(node))
        node[at] = _edit(node[at], choices, palette, keys)
    elif node and choices.pick(2):
        node.pop(choices.pick(len(node)))
    else:
        node.append(_value(choices, palette))
    return node
