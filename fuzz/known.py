"""Crashes already found and reported, not yet fixed: each has an xfail(strict) regression test
under tests/ (named here), so it is checked there, and the fuzzer passes over it to look for new
ones. When the lead fixes one, its regression test XPASSes and fails: remove the xfail there and
the entry here.

An entry matches an exception by harness, type and the innermost frame inside custody (file and
function), so a different crash of the same type elsewhere is still a crash.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Known:
    harness: str
    error: str  # the exception's type name
    where: str  # "path/under/src/custody.py:function" of the innermost custody frame
    regression: str  # the test that reproduces it
    message: str = ""  # a part of the exception's message, where type and frame are not enough


# Crashes found and fixed since (issue 9) are listed in fuzz/README.md, with their regression tests.
KNOWN: tuple[Known, ...] = ()


def innermost_custody_frame(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/src/custody/" in f.filename]
    if not frames:
        return ""
    last = frames[-1]
    return f"{last.filename.split('/src/custody/', 1)[1]}:{last.name}"


def is_known(harness: str, exc: BaseException, known: tuple[Known, ...] = KNOWN) -> bool:
    where = innermost_custody_frame(exc)
    return any(
        k.harness == harness and k.error == type(exc).__name__ and k.where == where and k.message in str(exc)
        for k in known
    )


def passing_known(
    harness: str, check: Callable[[bytes], None], known: tuple[Known, ...] = KNOWN
) -> Callable[[bytes], None]:
    """``check`` with the known crashes of ``harness`` passed over; every other exception escapes."""

    def test_one_input(data: bytes) -> None:
        try:
            check(data)
        except Exception as exc:
            if not is_known(harness, exc, known):
                raise

    return test_one_input
