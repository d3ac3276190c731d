"""Many bookings reach release eligibility in one command: each is decided exactly as alone (hold,
hand-over or release), and one refused leaves the others and itself as the law and the state say."""

from __future__ import annotations

from datetime import datetime

from custody.booking.commands import BookingIn, ScheduleIn
from custody.domain.clock import ManualClock
from custody.domain.errors import Conflict, CustodyError, NotFound, RefusedByLaw
from custody.release.commands import ReleaseIn
from custody.requests.commands import RequestIn, ResponseIn, ServeIn
from custody.service import Custody

HARRIS = "ocd-division/country:us/state:tx/county:harris"


def _book(custody: Custody, number: str) -> str:
    return custody.book(
        BookingIn.model_validate(
            {
                "agency": HARRIS,
                "booking_number": number,
                "booked_at": "2017-10-05T01:00:00-05:00",
                "person": {"last_name": "Doe", "first_name": number, "date_of_birth": "1990-01-01"},
                "charges": [{"offense": "theft", "level": "misdemeanor"}],
            }
        )
    ).id


def _detainer(custody: Custody, booking_id: str) -> str:
    return custody.issue_request(
        RequestIn.model_validate(
            {
                "booking_id": booking_id,
                "form": "I-247A",
                "warrant": "I-205",
                "officer": {"name": "O"},
                "issued_at": "2017-10-05T02:00:00-05:00",
            }
        )
    ).id


def _eligible(at: str = "2017-10-05T09:00:00-05:00") -> ReleaseIn:
    return ReleaseIn.model_validate({"reason": "bail", "at": at})


def test_each_booking_is_decided_as_alone(custody: Custody, clock: ManualClock) -> None:
    """Texas requires honoring a detainer (SB 4): the served one is held, the unserved one is refused
    by law, the unanswered one must be answered first; the others go free or are already gone."""
    clock.set(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    free, held, unserved, unanswered, gone = (_book(custody, n) for n in ("H-1", "H-2", "H-3", "H-4", "H-5"))
    for booking_id in (held, unserved):
        request = _detainer(custody, booking_id)
        if booking_id == held:
            custody.serve(request, ServeIn(at=datetime.fromisoformat("2017-10-05T02:30:00-05:00")))
        custody.respond(request, ResponseIn(at=datetime.fromisoformat("2017-10-05T03:00:00-05:00")))
    _detainer(custody, unanswered)
    custody.release_eligible(gone, _eligible("2017-10-05T05:00:00-05:00"))
    unserved_before = custody.booking_view(unserved)

    outcomes = custody.release_eligible_all(
        [(b, _eligible()) for b in (free, held, unserved, unanswered, gone, "bkg_nobody")]
    )

    kinds = [type(o).__name__ if isinstance(o, CustodyError) else o.state for o in outcomes]
    assert kinds == ["released", "held_on_detainer", "RefusedByLaw", "Conflict", "Conflict", "NotFound"]
    assert isinstance(outcomes[2], RefusedByLaw) and "has no record of service" in outcomes[2].detail
    assert isinstance(outcomes[3], Conflict) and "has not been answered" in outcomes[3].detail
    assert isinstance(outcomes[4], Conflict) and "already recorded" in outcomes[4].detail
    assert isinstance(outcomes[5], NotFound)
    assert custody.booking_view(unserved) == unserved_before, "the refused release left nothing behind"
    assert custody.booking_view(unanswered)["state"] == "in_custody"
    assert [h["state"] for h in custody.booking_view(held)["holds"]] == ["active"]
    released = [e["type"] for e in custody.booking_view(free)["timeline"]]
    assert released[-2:] == ["ReleaseEligibilityReached", "PersonReleased"]
    assert all(r.ok for r in custody.verify_audit())


def test_a_batch_and_one_by_one_leave_the_same_record(custody: Custody, clock: ManualClock) -> None:
    clock.set(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    alone, together = [_book(custody, f"A-{i}") for i in range(3)], [_book(custody, f"T-{i}") for i in range(3)]
    for booking_id in (alone[1], together[1]):
        request = _detainer(custody, booking_id)
        custody.serve(request, ServeIn(at=datetime.fromisoformat("2017-10-05T02:30:00-05:00")))
        custody.respond(request, ResponseIn(at=datetime.fromisoformat("2017-10-05T03:00:00-05:00")))
    for booking_id in alone:
        custody.release_eligible(booking_id, _eligible())
    custody.release_eligible_all([(b, _eligible()) for b in together])

    def record(booking_id: str) -> list[tuple[str, object]]:
        view = custody.booking_view(booking_id)
        holds = [(h["state"], h["expires_at"], h["max_hours"]) for h in view["holds"]]
        return [(view["state"], holds), *((e["type"], e["occurred_at"]) for e in view["timeline"])]

    assert [record(b) for b in alone] == [record(b) for b in together]


def test_in_one_transaction_a_booking_the_session_holds_and_the_others_are_released_alike(
    custody: Custody, clock: ManualClock
) -> None:
    """A booking the transaction has already loaded (scheduled a moment before, in the same batch)
    and bookings it has not are released alike, each exactly as a release alone leaves it, and the
    same booking twice in one feed is refused the second time."""
    clock.set(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    loaded, *others = [_book(custody, f"S-{i}") for i in range(3)]
    alone = _book(custody, "S-alone")
    custody.release_eligible(alone, _eligible())
    with custody.batch():
        scheduled = {"planned_at": "2017-10-05T08:00:00-05:00", "at": "2017-10-05T07:00:00-05:00"}
        custody.schedule_release(loaded, ScheduleIn.model_validate(scheduled))
        outcomes = custody.release_eligible_all([(b, _eligible()) for b in (loaded, *others, others[0])])
        assert [o.state if not isinstance(o, CustodyError) else "refused" for o in outcomes] == [
            "released",
            "released",
            "released",
            "refused",  # the same booking twice: its second release eligibility is a conflict
        ]
    expected = custody.booking_view(alone)
    for booking_id in (loaded, *others):
        view = custody.booking_view(booking_id)
        for field in ("state", "release_eligible_at", "left_custody_at"):
            assert view[field] == expected[field], (booking_id, field)
    assert all(r.ok for r in custody.verify_audit())
