"""What-if reforms (OpenFisca's word): one jurisdiction placed under another's law as it stood on a
date, e.g. Cook County under Miami-Dade's law of 1 March 2017::

    --reform ocd-division/country:us/state:il/county:cook=ocd-division/country:us/state:fl/county:miami-dade@2017-03-01

How: every request at an agency of the reformed division is decided with a DecisionRequest whose
``agency`` is the other division and whose ``on`` (and ``request.issued_on``) is the given date;
the person, charges, record, warrant and kind of agency stay the booking's own. The engine then
applies the whole stack binding that division on that date (federal law, its state's law, its
county's or city's instruments), which is what "placed under Miami-Dade's 2017 law" means, and the
decision log keeps exactly those inputs, so every reformed decision says under whose law and date
it was made. A form must have been in use on the law's date, so the request's form is read as the
form of the same kind in use then (an I-247A decided under 2017-03-01 law is read as the I-247D).

The rest of the process (serving, answering, holds and their clocks, release, transfer) runs
unchanged on that decision. The substitution goes through the core's reform hook
(``Custody(reform=Reform.apply)``), applied where a booking becomes a DecisionRequest.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

from custody.domain.divisions import Level, parse_division
from custody.domain.errors import InvalidInput
from custody.law.loader import default_library
from custody.requests.model import FORM_KIND
from custody.sim.agencies import within_library


@dataclass(frozen=True)
class Reform:
    division: str  # the jurisdiction whose agencies change law
    law_of: str  # whose law they are placed under
    on: date  # the date of that law

    @classmethod
    def parse(cls, text: str) -> Reform:
        """``DIVISION=LAW_OF_OTHER_DIVISION@DATE``."""
        target, sep, rest = text.partition("=")
        law_of, at, day = rest.partition("@")
        if not sep or not at:
            raise InvalidInput(
                f"--reform {text}: write DIVISION=LAW_OF_OTHER_DIVISION@DATE, e.g. "
                "ocd-division/country:us/state:il/county:cook=ocd-division/country:us/state:fl/county:miami-dade@2017-03-01"
            )
        try:
            on = date.fromisoformat(day)
        except ValueError:
            raise InvalidInput(f"--reform {text}: '{day}' is not a date (YYYY-MM-DD)") from None
        within_library(on, f"--reform {text}")
        place = parse_division(target.strip())
        if place.level not in (Level.county, Level.place):
            raise InvalidInput(
                f"--reform {text}: a reform places one agency's division (a county or a city) under another "
                f"law, not {place.id}; e.g. ocd-division/country:us/state:il/county:cook"
            )
        division, other = place.id, parse_division(law_of.strip()).id
        if division == other:
            raise InvalidInput(f"--reform {text}: a division placed under its own law changes nothing")
        return cls(division, other, on)

    def label(self) -> str:
        return f"{self.division} under the law of {self.law_of} as of {self.on.isoformat()}"

    def form_on(self, form: str) -> str:
        """The form of the same kind in use on the law's date."""
        forms = default_library().forms
        if forms[form].in_use(self.on):
            return form
        kind = FORM_KIND[form]
        for name, other in forms.items():
            if FORM_KIND.get(name) == kind and other.in_use(self.on):
                return name
        raise InvalidInput(f"no {kind.value} form was in use on {self.on}; choose a later reform date")

    def rewrite(self, document: dict[str, Any]) -> dict[str, Any]:
        reformed = copy.deepcopy(document)
        reformed["agency"] = self.law_of
        reformed["on"] = self.on.isoformat()
        reformed["request"]["form"] = self.form_on(document["request"]["form"])
        reformed["request"]["issued_on"] = self.on.isoformat()
        # The law is read as of its date while the arrests are later: a charge or conviction dated after
        # that date is treated as of it (recent), since the engine refuses facts that postdate `on`.
        law_day = self.on.isoformat()
        for group in ("convictions", "pending_charges"):
            for offense in reformed["person"].get(group) or ():
                for name in ("date", "released_on"):
                    if offense.get(name) and str(offense[name]) > law_day:
                        offense[name] = law_day
        return reformed

    def apply(self, agency: str, document: dict[str, Any]) -> dict[str, Any]:
        """The core's reform hook (``Custody(reform=...)``): rewrite only the reformed division's requests."""
        return self.rewrite(document) if agency == self.division else document
