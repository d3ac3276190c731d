"""Enrolment of an identity in the federal repository."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from custody.domain.inputs import Strict


class IdentityIn(Strict):
    names: list[str] = Field(min_length=1, description="Known names, e.g. ['DOE, John']")
    aliases: list[str] = Field(default_factory=list, description="Other names used, e.g. ['ROE, Jack']")
    date_of_birth: date | None = None
    identifiers: dict[str, str] = Field(min_length=1)
    record: dict[str, Any] = Field(
        default_factory=dict,
        description="What the federal side knows: e.g. {'a_number': 'A012345678', 'status': 'removable'}",
    )


class ConfirmationIn(Strict):
    identity_id: str | None = Field(
        default=None, max_length=64, description="The candidate confirmed; default: the best-ranked one"
    )


class RejectionIn(Strict):
    reason: str = Field(min_length=1, max_length=2000, description="Why none of the candidates is the person")
