"""Inputs the fuzzer (fuzz/ansi_nist.py) found that crashed the ANSI/NIST-ITL reader, or that it read
and then lost on export, instead of refusing them with NistFormatError naming the record and field
(issue 9; fixed in the reader)."""

from __future__ import annotations

import pytest

from custody.identity.prints.ansi_nist import NistFormatError, read_transaction


def test_a_tagged_record_whose_idc_is_not_a_number_is_refused() -> None:
    # Type-1 lists one Type-2 record with IDC 0; that record's field 2.002 IDC is "x".
    data = b"1.001:34\x1d1.002:0400\x1d1.003:1\x1f1\x1e2\x1f0\x1c2.001:17\x1d2.002:x\x1c"
    with pytest.raises(NistFormatError, match=r"record 2 \(Type-2, IDC 0\).*2\.002"):
        read_transaction(data)


@pytest.mark.parametrize(
    "data",
    [
        # 1.004 twice: the reader keeps "B" and drops "A" without a word.
        b"1.001:46\x1d1.002:0400\x1d1.003:1\x1f0\x1d1.004:A\x1d1.004:B\x1c",
        # "1.01" is field 1 again (LEN): read as a field, then lost on export (the fuzzer's find:
        # "14.011:WSQ20" with a byte shuffled into "14.01:1WSQ20" silently lost the compression).
        b"1.001:40\x1d1.002:0400\x1d1.003:1\x1f0\x1d1.01:1WSQ\x1c",
    ],
    ids=["repeated-field", "field-1-again"],
)
def test_a_record_with_a_repeated_field_is_refused(data: bytes) -> None:
    with pytest.raises(NistFormatError, match=r"record 1 \(Type-1\).*(1\.004|1\.001)"):
        read_transaction(data)


def test_a_field_numbered_above_999_is_refused() -> None:
    # Field 1.1000 is read; on export the writer puts 1.999 (image data, read to the end of the
    # record) before it, so 1.1000 vanishes into 1.999's bytes: the fuzzer found it as 14.7510.
    data = b"1.001:49\x1d1.002:0400\x1d1.003:1\x1f0\x1d1.1000:X\x1d1.999:IMG\x1c"
    with pytest.raises(NistFormatError, match=r"record 1 \(Type-1\)"):
        read_transaction(data)
