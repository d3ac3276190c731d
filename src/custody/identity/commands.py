"""Enrolment of an identity in the federal repository."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from custody.domain.inputs import Strict


class IdentityIn(Strict):
    names: list[str] = Field(min_length=1, description="Known names, e.g. ['DOE, John']")
    date_of_birth: date | None = None
    identifiers: dict[str, str] = Field(min_length=1)
    record: dict[str, Any] = Field(
        default_factory=dict,
        description="What the federal side knows: e.g. {'a_number': 'A012345678', 'status': 'removable'}",
    )
