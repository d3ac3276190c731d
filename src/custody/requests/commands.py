"""What the federal side submits, and what the agency answers."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from custody.domain.inputs import AwareTime, Strict
from custody.law.model import Action
from custody.requests.model import RequestKind, Warrant


class OfficerIn(Strict):
    name: str = Field(min_length=1)
    title: str = "Immigration Officer"
    office: str | None = Field(None, description="Field office or area of responsibility")


class RequestIn(Strict):
    booking_id: str
    form: Literal["I-247", "I-247D", "I-247N", "I-247X", "I-247A"] = Field(description="The DHS form")
    kind: RequestKind | None = Field(None, description="Defaults from the form")
    actions: list[Action] | None = Field(None, min_length=1, description="Defaults from the kind of request")
    warrant: Warrant = Warrant.none
    officer: OfficerIn
    issued_at: AwareTime


class Answer(StrEnum):
    honor = "honor"
    decline = "decline"


class ResponseIn(Strict):
    answers: dict[Action, Answer] = Field(
        default_factory=dict,
        description="Per action; required and prohibited actions default to what the law decides",
    )
    reasons: dict[Action, str] = Field(default_factory=dict)
    at: AwareTime


class ServeIn(Strict):
    at: AwareTime


class CancelIn(Strict):
    at: AwareTime
    reason: str = Field(min_length=1)
