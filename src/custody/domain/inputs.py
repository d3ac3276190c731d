"""Shared input types: the same validated shapes serve the CLI, the API and the demo."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from custody.domain.clock import as_utc
from custody.domain.errors import InvalidInput
from custody.domain.offenses import OffenseLevel

JSON_BODY = 1 << 20  # 1 MiB: the most read as one JSON document (API bodies and form posts, CLI files)


def _aware(moment: datetime) -> datetime:
    return as_utc(moment)


AwareTime = Annotated[datetime, AfterValidator(_aware)]


# A character other than those str.strip() removes, spelt out: "\\S" means other things in Python's
# and in JavaScript's regular expressions (JSON Schema's), and neither is exactly what strip() keeps.
NOT_BLANK = r"[^\x09-\x0d\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028-\u2029\u202f\u205f\u3000]"


def _not_blank(schema: dict[str, Any]) -> None:
    """Text is stripped before its length is checked, so a text that must not be empty must hold
    something other than white space: the contract says so with a pattern (schemathesis sent an
    officer named "\u0085", valid by a bare minLength, which the stripped check refused)."""
    for field in schema.get("properties", {}).values():
        for shape in [field, *field.get("anyOf", [])]:
            if shape.get("type") == "string" and shape.get("minLength", 0) >= 1 and "pattern" not in shape:
                shape["pattern"] = NOT_BLANK


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra=_not_blank)


class OffenseIn(Strict):
    offense: str = Field(min_length=1, description="Plain name, e.g. 'aggravated battery'")
    level: OffenseLevel
    statute: str | None = Field(None, description="Citation, e.g. '720 ILCS 5/12-3.05'")
    degree: str | None = Field(None, description="Grade or class, e.g. '2' or 'X'")
    violent: bool | None = None
    serious: bool | None = None
    date: dt.date | None = Field(None, description="Date of conviction, or of charge for a pending charge")
    released_on: dt.date | None = None

    @model_validator(mode="after")
    def _released_after_convicted(self) -> OffenseIn:
        if self.date is not None and self.released_on is not None and self.released_on < self.date:
            raise ValueError(f"released_on {self.released_on} is before its date {self.date}; a release follows it")
        return self


def parse_input(model: type[Strict], data: Any) -> Any:
    """Validate input, turning the first problem into one line a user can act on."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(problem_text(exc.errors()[0])) from None


def problem_text(error: Any, skip: tuple[str, ...] = ()) -> str:
    """A validation error as "where: what" (the location's parts in ``skip`` left out), without
    pydantic's "Value error, " before the words custody's own validators wrote."""
    where = ".".join(str(p) for p in error["loc"] if p not in skip)
    what = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {what}" if where else what  # a check of the whole names its own fields
