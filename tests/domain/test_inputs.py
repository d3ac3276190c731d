"""The inputs' contract says what the inputs accept: a text that must not be empty must hold more
than white space, since text is stripped before its length is checked."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from custody.booking.commands import BookingIn
from custody.release.commands import TransferIn
from custody.requests.commands import RequestIn


@pytest.mark.parametrize("model", [BookingIn, RequestIn, TransferIn])
def test_a_text_that_must_not_be_empty_must_not_be_blank_in_the_contract(model: type) -> None:
    schema = model.model_json_schema()
    shapes = [schema, *schema.get("$defs", {}).values()]
    required_texts = [
        field
        for shape in shapes
        for field in shape.get("properties", {}).values()
        for field in [field, *field.get("anyOf", [])]
        if field.get("type") == "string" and field.get("minLength", 0) >= 1
    ]
    assert required_texts
    assert all(field.get("pattern") for field in required_texts), required_texts
    # The pattern means what strip() keeps, in Python's regular expressions and in JavaScript's
    # (JSON Schema's), whose "\\S" differ: every white-space character is refused, others accepted.
    pattern = required_texts[0]["pattern"]
    assert all(field["pattern"] == pattern for field in required_texts)
    blanks = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    assert all(re.search(pattern, blank) is None for blank in blanks)
    assert all(re.search(pattern, kept) for kept in ("a", "\ufeff", "\u200b", "é", "-"))
    assert all(c in "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0" or ord(c) >= 0x1680 for c in blanks)


def test_blank_text_is_refused_as_the_contract_says() -> None:
    """schemathesis sent an officer named "\\u0085" (next line): one character, refused after stripping."""
    with pytest.raises(ValidationError, match="at least 1 character"):
        TransferIn.model_validate({"at": "2019-10-01T10:00:00-05:00", "officer": {"name": "\u0085"}})
