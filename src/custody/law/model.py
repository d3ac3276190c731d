"""Law as data: instruments (ordinances, statutes, directives, rulings) and the rules they contain.

Every instrument carries its citation, official URL and dates; every rule its clause's citation
and a summary in plain words. A rule states the general case; its exceptions override it under
named conditions, in the order the law gives them (Catala's "exception ... under condition").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from custody.domain.divisions import Division, Level
from custody.law.conditions import Condition, Test


class Action(StrEnum):
    """What a federal request asks of the agency (DecisionRequest ``request.actions``)."""

    hold = "hold"
    notify = "notify"
    transfer = "transfer"
    share_info = "share_info"
    access = "access"


class Effect(StrEnum):
    required = "required"
    permitted = "permitted"
    prohibited = "prohibited"
    # A higher government's rule that voids local limits on the action (Texas SB 4, Florida SB 168).
    preempts_local_limits = "preempts_local_limits"


class Status(StrEnum):
    required = "required"
    permitted = "permitted"
    prohibited = "prohibited"
    undetermined = "undetermined"


class HoldClock(StrEnum):
    """How a hold's hours are counted, strictest first: where a form and a law both set one, the hold
    ends at the earlier moment, so the decision keeps the strictest (``strictest``)."""

    until_end_of_release_day = "until_end_of_release_day"  # and never past 11:59 p.m. of that local day
    clock_hours = "clock_hours"
    excluding_weekends_and_holidays = "excluding_weekends_and_holidays"

    @staticmethod
    def strictest(clocks: list[HoldClock]) -> HoldClock | None:
        """For limits of at least 24 hours this is exact: a hold ending at the end of its first day ends
        before 24 clock hours, and clock hours run out no later than hours that skip weekends. Below
        24 hours it can only end a hold earlier than the law would, never later."""
        order = list(HoldClock)
        return min(clocks, key=order.index) if clocks else None


@dataclass(frozen=True)
class Exception_:
    id: str
    citation: str
    says: str
    when: Condition  # as the rule file states it
    test: Test = field(compare=False, repr=False)  # ``when``, compiled when the library loads
    effect: Effect
    max_hours: float | None = None
    hold_clock: HoldClock | None = None
    verified: bool = True


@dataclass(frozen=True)
class Rule:
    id: str
    citation: str
    says: str
    actions: frozenset[Action]
    effect: Effect
    applies: Test = field(compare=False, repr=False)  # ``applies_when``, compiled when the library loads
    applies_when: Condition | None = None
    max_hours: float | None = None
    hold_clock: HoldClock | None = None
    exceptions: tuple[Exception_, ...] = ()
    verified: bool = True


@dataclass(frozen=True)
class Instrument:
    id: str
    name: str
    citation: str
    url: str
    division: Division
    effective_from: date
    enacted: date | None = None
    effective_to: date | None = None  # first day it no longer applies
    repealed_by: str | None = None
    verified: bool = True
    binds: frozenset[str] | None = None  # agency kinds; None binds every agency of the government
    notes: str = ""
    rules: tuple[Rule, ...] = field(default=())

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)

    @property
    def level(self) -> Level:
        return self.division.level


@dataclass(frozen=True)
class NotEncoded:
    """Law known to have governed some actions for a span of dates that custody's library does not
    encode (its text was not seen): a decision it touches is undetermined and names it, rather than
    decided as if it did not exist."""

    citation: str
    actions: frozenset[Action]
    effective_from: date
    why: str
    effective_to: date | None = None
    binds: frozenset[str] | None = None
    warrants: frozenset[str] | None = None  # only requests backed by these (None: any)

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)

    def touches(self, warrant: str) -> bool:
        return self.warrants is None or warrant in self.warrants


@dataclass(frozen=True)
class Jurisdiction:
    division: Division
    name: str
    aliases: tuple[Division, ...] = ()
    instruments: tuple[Instrument, ...] = ()
    not_encoded: tuple[NotEncoded, ...] = ()


@dataclass(frozen=True)
class Form:
    """A federal request form and the period in which it was issued."""

    name: str
    title: str
    citation: str
    in_use_from: date | None
    in_use_to: date | None  # last day it could be issued
    hold_hours: float | None
    hold_clock: HoldClock | None
    requires_administrative_warrant: bool
    verified: bool = True

    def in_use(self, on: date) -> bool:
        return (self.in_use_from is None or self.in_use_from <= on) and (self.in_use_to is None or on <= self.in_use_to)

    def issue_dates(self, earliest: date, latest: date) -> tuple[date, date]:
        """The first and last day it could be issued, an open end closed at ``earliest`` or ``latest``."""
        return self.in_use_from or earliest, self.in_use_to or latest

    def period(self) -> str:
        """When it could be issued, in words: "from A to B", "until B" (no start in the library), or
        "from A" (still in use)."""
        if self.in_use_from and self.in_use_to:
            return f"from {self.in_use_from.isoformat()} to {self.in_use_to.isoformat()}"
        if self.in_use_to:
            return f"until {self.in_use_to.isoformat()}"
        return f"from {self.in_use_from.isoformat()}" if self.in_use_from else "at any date"
