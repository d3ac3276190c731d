"""Booking an arrest and moving the person between local agencies."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, tuple_

from custody.booking.commands import BookingIn, MoveIn
from custody.booking.model import CUSTODY, CustodyState
from custody.domain.divisions import local_moment, parse_division
from custody.domain.errors import Conflict, CustodyError, InvalidInput, NotFound
from custody.domain.events import FEDERAL, Event
from custody.identity.prints.ansi_nist import not_one_finger
from custody.identity.prints.images import UnreadableImage, decode
from custody.law.contract import DEFAULT_AGENCY_KIND
from custody.store.models import Base, BookingRow, FingerprintImageRow
from custody.store.unit import CHUNK, Unit, locked, new_id

BOOKINGS, BOOKING_IDENTIFIERS = (Base.metadata.tables[name] for name in ("bookings", "booking_identifiers"))
# Hot statements are built once: a statement built at each call also pays for its cache key (issue 8).
RECORD_BOOKINGS, RECORD_IDENTIFIERS = insert(BOOKINGS), insert(BOOKING_IDENTIFIERS)
NUMBERS_TAKEN = select(BOOKINGS.c.booking_agency, BOOKINGS.c.booking_number, BOOKINGS.c.id).where(
    tuple_(BOOKINGS.c.booking_agency, BOOKINGS.c.booking_number).in_(bindparam("pairs", expanding=True))
)

# A booking time more than this far ahead of the clock is a typing error, not a booking.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class FingerprintImage:
    position: int
    filename: str
    data: bytes


def get(unit: Unit, booking_id: str, for_change: bool = False) -> BookingRow:
    """The booking; ``for_change``: locked for the command about to change it (``unit.locked``)."""
    row = locked(unit, BookingRow, booking_id) if for_change else unit.session.get(BookingRow, booking_id)
    if row is None:
        raise NotFound(f"no booking '{booking_id}'; list bookings with `custody bookings` or GET /bookings")
    return row


def agency_kind(division_id: str, given: str | None) -> str:
    return given or DEFAULT_AGENCY_KIND[parse_division(division_id).level]


def book(unit: Unit, submission: BookingIn, prints: list[FingerprintImage] | None = None) -> BookingRow:
    """One booking; refused as a whole (an error) if anything in it is wrong."""
    outcome = book_all(unit, [(submission, prints or [])])[0]
    if isinstance(outcome, CustodyError):
        raise outcome
    return BookingRow(**outcome)


def book_all(
    unit: Unit, arrests: Sequence[tuple[BookingIn, list[FingerprintImage]]]
) -> list[dict[str, Any] | CustodyError]:
    """Book many arrests at once, as a jail management system's feed delivers them: for each, the
    booking's stored values or the reason it was refused. A refused booking writes nothing; the others
    are written with one statement per table, whatever their number. Everything is checked before
    anything is written, so no booking needs a savepoint of its own."""
    now = unit.clock.now()
    outcomes: list[dict[str, Any] | CustodyError] = []
    for submission, prints in arrests:
        try:
            _check(submission, now)
            for image in prints:
                _check_print(image)
            outcomes.append(_values(submission, now))
        except CustodyError as refusal:
            outcomes.append(refusal)
    taken = _booking_numbers_taken(unit, [v for v in outcomes if not isinstance(v, CustodyError)])
    for i, values in enumerate(outcomes):
        if isinstance(values, CustodyError):
            continue
        key = (values["booking_agency"], values["booking_number"])
        if key in taken:
            outcomes[i] = Conflict(f"booking number {key[1]} of {key[0]} is already booking {taken[key]}")
        else:
            taken[key] = values["id"]
    booked = [(v, arrest) for v, arrest in zip(outcomes, arrests, strict=True) if not isinstance(v, CustodyError)]
    if not booked:
        return outcomes
    connection = unit.session.connection()
    connection.execute(RECORD_BOOKINGS, [v for v, _ in booked])
    identifiers = [
        {"booking_id": v["id"], "id_type": id_type, "value": value}
        for v, (submission, _) in booked
        for id_type, value in submission.person.identifiers.items()
    ]
    if identifiers:
        connection.execute(RECORD_IDENTIFIERS, identifiers)
    for values, (submission, prints) in booked:
        unit.emit(
            Event(
                "BookingRecorded",
                "booking",
                values["id"],
                submission.booked_at,
                {"agency": values["agency"], "booking_number": values["booking_number"], "charges": values["charges"]},
            ),
            values["booking_agency"],
        )
        stored = [store_print(unit, values["id"], values["booking_agency"], image) for image in prints]
        _submit(unit, values, stored, submission.booked_at)
    return outcomes


def not_ahead(moment: datetime, now: datetime, what: str, agency: str) -> None:
    """Refuse a moment more than CLOCK_SKEW ahead of the clock: a record of something that has not
    happened yet is a typing error (found by reviews: a release, an answer or a hand-over dated days
    ahead started holds and lapses early, or ran a hold's clock from a moment still to come). Said in
    the agency's time."""
    if moment > now + CLOCK_SKEW:
        raise InvalidInput(f"{what} {local_moment(moment, agency)} is in the future; check the date")


def _check(submission: BookingIn, now: datetime) -> None:
    not_ahead(submission.booked_at, now, "booked_at", submission.agency)
    if submission.person.date_of_birth >= submission.booked_at.date():
        raise InvalidInput("person.date_of_birth is not before the booking date; check the date of birth")
    if submission.booked_at.year - submission.person.date_of_birth.year > 130:
        raise InvalidInput("person.date_of_birth makes the person over 130 years old; check the date of birth")


def _values(submission: BookingIn, now: datetime) -> dict[str, Any]:
    """The booking's row, every column."""
    return {
        "id": new_id("bkg"),
        "booking_number": submission.booking_number,
        "booking_agency": submission.agency,
        "agency": submission.agency,
        "agency_kind": agency_kind(submission.agency, submission.agency_kind),
        "person": submission.person.model_dump(mode="json"),
        "charges": [c.model_dump(mode="json", exclude_none=True) for c in submission.charges],
        "convictions": [c.model_dump(mode="json", exclude_none=True) for c in submission.convictions],
        "booked_at": submission.booked_at,
        "recorded_at": now,
        "state": CUSTODY.initial.value,
        "identity_id": None,
        "release_reason": None,
        "release_planned_at": None,
        "release_eligible_at": None,
        "left_custody_at": None,
    }


def _booking_numbers_taken(unit: Unit, booked: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """Which of these agencies' booking numbers already name a booking, and which. Asked as (agency,
    number) pairs, one probe of the unique index each: asked as two lists, SQLite probed every agency
    with every number (a batch of 60 agencies and 500 numbers: 30,000 probes; issue 8)."""
    taken: dict[tuple[str, str], str] = {}
    pairs = list(dict.fromkeys((v["booking_agency"], v["booking_number"]) for v in booked))
    connection = unit.session.connection()
    for i in range(0, len(pairs), CHUNK):
        rows = connection.execute(NUMBERS_TAKEN, {"pairs": pairs[i : i + CHUNK]})
        taken.update(((agency, number), booking_id) for agency, number, booking_id in rows)
    return taken


def submit_prints(unit: Unit, booking: BookingRow) -> int:
    """Submit the booking's prints again, every image stored with it, for a new federal search.

    Prints taken or retaken after the booking (a capture refused, a finger bandaged at intake) reach
    the federal side only this way; a booking it already identified has nothing left to search.
    """
    if booking.identity_id is not None:
        raise Conflict(f"booking {booking.id} is already identified as {booking.identity_id}; nothing to search")
    stored = unit.session.execute(
        select(FingerprintImageRow.position, FingerprintImageRow.sha256)
        .where(FingerprintImageRow.booking_id == booking.id)
        .order_by(FingerprintImageRow.id)
    ).all()
    if not stored:
        raise InvalidInput(
            f"booking {booking.id} has no fingerprint image to submit; store them first "
            "(POST /bookings/{id}/fingerprints or the booking page)"
        )
    values = {column.key: getattr(booking, column.key) for column in BOOKINGS.columns}
    _submit(unit, values, [(position, digest) for position, digest in stored], unit.clock.now(), resubmission=True)
    return len(stored)


def _submit(
    unit: Unit,
    booking: dict[str, Any],
    stored: list[tuple[int, str]],
    occurred: datetime,
    *,
    resubmission: bool = False,
) -> None:
    """The booking's identity and prints to the federal side, for search against its repository."""
    person_fields = ("last_name", "first_name", "middle_name", "date_of_birth", "aliases", "identifiers")
    data: dict[str, Any] = {
        "booking_id": booking["id"],
        "agency": booking["agency"],
        "booking_number": booking["booking_number"],
        "booked_at": booking["booked_at"].isoformat(),
        "person": {k: booking["person"][k] for k in person_fields},
        "charges": booking["charges"],
        "convictions": booking["convictions"],
        "prints": [{"position": p, "sha256": d} for p, d in stored],
    }
    if resubmission:
        data["resubmission"] = True
    unit.emit(
        Event("FingerprintsSubmitted", "booking", booking["id"], occurred, data, to_party=FEDERAL),
        booking["booking_agency"],
    )


def store_print(unit: Unit, booking_id: str, booking_agency: str, image: FingerprintImage) -> tuple[int, str]:
    """Keep a fingerprint image as submitted; matching on it comes with the biometric search."""
    _check_print(image)
    digest = hashlib.sha256(image.data).hexdigest()
    unit.session.add(
        FingerprintImageRow(
            booking_id=booking_id, position=image.position, filename=image.filename, sha256=digest, data=image.data
        )
    )
    unit.emit(
        Event(
            "FingerprintStored",
            "booking",
            booking_id,
            unit.clock.now(),
            {"position": image.position, "filename": image.filename, "sha256": digest},
        ),
        booking_agency,
    )
    return image.position, digest


def _check_print(image: FingerprintImage) -> None:
    if problem := not_one_finger(image.position):
        raise InvalidInput(problem)
    if not image.data:
        raise InvalidInput(f"fingerprint image {image.filename} is empty")
    try:
        decode(image.data, name=image.filename)
    except UnreadableImage as exc:
        # Refused here, not at the federal search, where it showed only as "no hit" (found by a review).
        raise InvalidInput(f"{exc}; nothing was stored: upload the finger's image file") from None


def transition(unit: Unit, booking: BookingRow, event: str) -> None:
    booking.state = CUSTODY.fire(CustodyState(booking.state), event).value


def move(unit: Unit, booking: BookingRow, submission: MoveIn) -> None:
    """The person passes to another local agency (a police lockup to the county jail)."""
    if submission.to_agency == booking.agency:
        raise Conflict(f"booking {booking.id} is already held by {booking.agency}")
    if submission.at < booking.booked_at:
        raise InvalidInput("the move cannot happen before the booking")
    not_ahead(submission.at, unit.clock.now(), "the move's time", booking.agency)
    transition(unit, booking, "move_to_agency")
    previous = booking.agency
    booking.agency = submission.to_agency
    booking.agency_kind = agency_kind(submission.to_agency, submission.agency_kind)
    unit.emit(
        Event(
            "CustodyMoved",
            "booking",
            booking.id,
            submission.at,
            {"from_agency": previous, "to_agency": booking.agency, "agency_kind": booking.agency_kind},
        ),
        previous,
    )
