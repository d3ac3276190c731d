"""Offense levels, in the words of the DecisionRequest contract: one vocabulary serves a current
charge, a pending charge and a conviction, since the law turns on the same facts for each."""

from __future__ import annotations

from enum import StrEnum


class OffenseLevel(StrEnum):
    felony = "felony"
    misdemeanor = "misdemeanor"
    infraction = "infraction"
