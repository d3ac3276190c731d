"""Fuzz the ANSI/NIST-ITL reader: ``read_transaction`` on arbitrary bytes, then what
``custody prints inspect`` does with what it read, then write it out and read it back.

Expected refusal: ``NistFormatError`` (the reader's documented error, naming record and field).
Anything else escaping is a crash, and so is a transaction that reads but does not survive a
write/read round trip unchanged (the reader keeps every record so it can be exported again).
"""

from __future__ import annotations

from fuzz._common import instrumented, main
from fuzz.known import passing_known

with instrumented(__name__ == "__main__", ["custody.identity.prints"]):
    from custody.identity.prints.ansi_nist import (
        NistFormatError,
        TaggedRecord,
        read_transaction,
        write_transaction,
    )

NAME = "ansi_nist"
EXPECTED: tuple[type[BaseException], ...] = (NistFormatError,)


def _without_cnt(record: object) -> object:
    return {n: v for n, v in record.fields.items() if n != 3} if isinstance(record, TaggedRecord) else record


def check(data: bytes) -> None:
    try:
        transaction = read_transaction(data)
        transaction.summary()
    except EXPECTED:
        return
    again = read_transaction(write_transaction(list(transaction.records)))
    for index, (before, after) in enumerate(zip(transaction.records, again.records, strict=True), start=1):
        if before == after or (index == 1 and _without_cnt(before) == _without_cnt(after)):
            continue  # the writer recomputes field 1.003 CNT from the records, by design
        if isinstance(before, TaggedRecord) and isinstance(after, TaggedRecord):
            lost = sorted(set(before.fields) - set(after.fields))
            causes = ["field 1 read again"] * (1 in lost) + ["numbered above 999"] * any(n > 999 for n in lost)
            if not lost or any(1 < n <= 999 for n in lost):
                causes = []  # a loss the known causes do not explain
            because = f" ({'; '.join(causes)})" if causes else ""
            raise AssertionError(f"round trip: record {index} (Type-{before.type}) lost fields {lost}{because}")
        raise AssertionError(f"round trip: record {index} (Type-{before.type}) changed")


test_one_input = passing_known(NAME, check)

if __name__ == "__main__":
    main(test_one_input)
