"""The seed article's three cases, step by step through the real process.

(a) Chicago, 16 Aug 2017: arrested by Chicago police, then held in the Cook County jail, with a
    prior felony conviction; an I-247A with an I-200 arrives. The city lockup decides under the
    2012 Welcoming City carve-outs, the county jail under Ordinance 11-O-73.
(b) Miami-Dade, 1 Mar 2017: the same facts with the form then in use (I-247D; the I-247A only from
    2 Apr 2017): honored, notice sent, held, handed to federal officers within 48 hours.
(c) Miami-Dade, 1 Mar 2017, when federal officers never come: the hold lapses at its limit and the
    person is released.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from custody.booking.commands import BookingIn, MoveIn
from custody.domain.clock import ManualClock
from custody.identity.commands import IdentityIn
from custody.release.commands import ReleaseIn, TransferIn
from custody.requests.commands import RequestIn, ResponseIn, ServeIn
from custody.service import Custody

CHICAGO = "ocd-division/country:us/state:il/place:chicago"
COOK = "ocd-division/country:us/state:il/county:cook"
MIAMI_DADE = "ocd-division/country:us/state:fl/county:miami-dade"
OFFICER = {"name": "ERO Officer R. Alvarez", "title": "Supervisory Detention and Deportation Officer"}


class ScenarioClock(ManualClock):
    """The clock of a case told as it happened (the demo's): each step moves it to that step's time,
    so what the process does in reply (the identification received, the detainer decided) carries
    the case's dates rather than the day the demo was loaded. Another hand-set clock (a test's) is
    only moved forward, to a step that would otherwise be dated ahead of it, and the system clock
    is left alone."""


def _step(service: Custody, when: str) -> datetime:
    moment = datetime.fromisoformat(when)
    clock = service.clock
    if isinstance(clock, ScenarioClock) or (isinstance(clock, ManualClock) and moment > clock.now()):
        clock.set(moment)
    return moment


@dataclass(frozen=True)
class Outcome:
    booking_id: str
    request_id: str


def _person(last: str, first: str, fbi: str) -> dict[str, Any]:
    return {
        "last_name": last,
        "first_name": first,
        "date_of_birth": "1988-03-14",
        "aliases": [f"{first[0]}. {last}"],
        "identifiers": {"fbi": fbi},
    }


PRIOR_FELONY = {
    "offense": "burglary",
    "statute": "720 ILCS 5/19-1",
    "level": "felony",
    "degree": "2",
    "date": "2011-06-02",
}


def enrol_federal_record(service: Custody, fbi: str, names: list[str]) -> str:
    return service.enrol(
        IdentityIn(
            names=names,
            identifiers={"fbi": fbi},
            record={
                "a_number": f"A{zlib.crc32(fbi.encode()) % 10**9:09d}",
                "encounters": ["prior removal proceedings"],
            },
        )
    )


def chicago_then_cook(service: Custody, fbi: str = "FBI-A-2017", number: str = "CPD-17-0816-001") -> Outcome:
    """(a): decided by Chicago's 2012 ordinance at the lockup, by Cook County's at the jail."""
    _step(service, "2017-08-16T01:20:00-05:00")
    enrol_federal_record(service, fbi, ["GARCIA, Luis"])
    booking = service.book(
        BookingIn.model_validate(
            {
                "agency": CHICAGO,
                "booking_number": number,
                "booked_at": "2017-08-16T01:20:00-05:00",
                "person": _person("Garcia", "Luis", fbi),
                "charges": [
                    {
                        "offense": "retail theft",
                        "statute": "720 ILCS 5/16-25",
                        "level": "misdemeanor",
                        "degree": "A",
                        "date": "2017-08-16",
                    }
                ],
                "convictions": [PRIOR_FELONY],
            }
        )
    )
    _step(service, "2017-08-16T06:05:00-05:00")
    request = service.issue_request(
        RequestIn.model_validate(
            {
                "booking_id": booking.id,
                "form": "I-247A",
                "warrant": "I-200",
                "officer": OFFICER,
                "issued_at": "2017-08-16T06:05:00-05:00",
            }
        )
    )
    service.move(booking.id, MoveIn(to_agency=COOK, at=_step(service, "2017-08-16T11:00:00-05:00")))
    _step(service, "2017-08-16T11:30:00-05:00")
    service.respond(
        request.id, ResponseIn.model_validate({"at": "2017-08-16T11:30:00-05:00", "answers": {"transfer": "decline"}})
    )
    service.release_eligible(booking.id, ReleaseIn(reason="bail", at=_step(service, "2017-08-16T15:45:00-05:00")))
    return Outcome(booking.id, request.id)


def _miami_dade_detained(service: Custody, fbi: str, number: str) -> Outcome:
    _step(service, "2017-03-01T01:20:00-05:00")
    enrol_federal_record(service, fbi, ["GARCIA, Luis"])
    booking = service.book(
        BookingIn.model_validate(
            {
                "agency": MIAMI_DADE,
                "booking_number": number,
                "booked_at": "2017-03-01T01:20:00-05:00",
                "person": _person("Garcia", "Luis", fbi),
                "charges": [
                    {
                        "offense": "petit theft",
                        "statute": "Fla. Stat. 812.014(3)",
                        "level": "misdemeanor",
                        "degree": "2",
                        "date": "2017-03-01",
                    }
                ],
                "convictions": [PRIOR_FELONY],
            }
        )
    )
    _step(service, "2017-03-01T06:05:00-05:00")
    request = service.issue_request(
        RequestIn.model_validate(
            {
                "booking_id": booking.id,
                "form": "I-247D",
                "warrant": "none",
                "officer": OFFICER,
                "issued_at": "2017-03-01T06:05:00-05:00",
            }
        )
    )
    service.serve(request.id, ServeIn(at=_step(service, "2017-03-01T07:00:00-05:00")))
    service.respond(request.id, ResponseIn(at=_step(service, "2017-03-01T07:10:00-05:00")))
    service.release_eligible(booking.id, ReleaseIn(reason="bail", at=_step(service, "2017-03-01T15:45:00-05:00")))
    return Outcome(booking.id, request.id)


def miami_dade_transferred(service: Custody, fbi: str = "FBI-B-2017", number: str = "MDCR-17-0301-001") -> Outcome:
    """(b): honored, notice sent, held, handed over within 48 hours."""
    outcome = _miami_dade_detained(service, fbi, number)
    _step(service, "2017-03-02T10:30:00-05:00")
    service.transfer(
        outcome.booking_id, TransferIn.model_validate({"at": "2017-03-02T10:30:00-05:00", "officer": OFFICER})
    )
    return outcome


def miami_dade_lapsed(service: Custody, fbi: str = "FBI-C-2017", number: str = "MDCR-17-0301-002") -> Outcome:
    """(c): federal officers never come; the hold lapses at its limit and the person is released."""
    outcome = _miami_dade_detained(service, fbi, number)
    # The timer runs at the hold's limit, 48 clock hours after release eligibility (I-247D).
    service.tick(_step(service, "2017-03-03T15:45:00-05:00"))
    return outcome
