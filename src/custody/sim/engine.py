"""Driving the synthetic arrests through the whole process, in time order, with the simulated clock.

Each arrest is booked; the federal side hears of it through the exchange and answers with a hit or
not; where the stream says the federal side asks, it issues its request, which the agency receives
and decides under its law; the agency serves an I-247A, answers each action (as the law requires,
forbids, or leaves to it), and at release eligibility holds, hands over or releases exactly as that
answer allows; federal officers come during a hold or never, and the hold lapses at its limit. A
person released may be arrested again later.

Everything goes through ``custody.service.Custody``: the simulator writes nothing to the store
itself. Messages are delivered in batches (``deliver``) rather than after every command, which is
how a worker fleet sees them too; a command that needs an answer first (a request needs the
identification, an answer needs the decision) delivers before it runs. With a journal
(``custody.sim.journal``) every batch commits what the simulator changed in its memory beside what
the process wrote, so a killed run carries on from its last commit.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from custody.booking.commands import BookingIn, MoveIn
from custody.booking.model import CustodyState
from custody.domain.clock import ManualClock
from custody.domain.divisions import local_zone, parse_division
from custody.domain.errors import CustodyError
from custody.identity.commands import IdentityIn
from custody.law.model import Action
from custody.release.commands import ReleaseIn, TransferIn
from custody.release.service import hands_over
from custody.requests import service as requests
from custody.requests.commands import RequestIn, ResponseIn, ServeIn
from custody.service import Custody
from custody.sim import calibration as cal
from custody.sim.agencies import COUNTY_JAIL_OF
from custody.sim.arrests import Arrest, ArrestStream, hash_key
from custody.sim.collector import loaded_objects_frozen
from custody.sim.journal import Changes, Journal
from custody.store.models import BookingRow, FederalRequestRow

OFFICER = {"name": "ERO Officer (simulated)", "title": "Deportation Officer"}
MOVE_AFTER = timedelta(hours=cal.MOVE_AFTER_HOURS.value)  # an assumption (calibration.MOVE_AFTER_HOURS)
DELIVER_EVERY = 2000  # events between batched deliveries
# Bookings and release eligibilities of different people within this much simulated time go through
# the process together, bookings first, as a jail management system's feed sends a quarter hour of
# intake and release records at once: one command for each kind, not one for each run of a kind.
FEED_WINDOW = timedelta(minutes=15)

ARRIVE, REQUEST, MOVE, ELIGIBLE, PICKUP, LAPSE, ANSWER = range(7)
FEED = (ARRIVE, ELIGIBLE)  # what a jail's feed sends in bulk (FEED_WINDOW)


@dataclass
class Case:
    """One booking as the simulator follows it."""

    arrest: Arrest
    booking_id: str
    request_id: str | None = None
    served: bool = False


@dataclass
class Tally:
    """What the simulator itself saw happen (the report adds what the store recorded)."""

    arrests: int = 0
    rebookings: int = 0
    requests_issued: int = 0
    requests_not_reached: int = 0  # released before the federal side asked
    enrolled: int = 0
    moves: int = 0
    transfers: int = 0
    lapses: int = 0
    holds: int = 0
    released: int = 0
    in_custody_at_end: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    first_errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "arrests": self.arrests,
            "rebookings": self.rebookings,
            "requests_issued": self.requests_issued,
            "requests_not_reached": self.requests_not_reached,
            "federal_records_enrolled": self.enrolled,
            "moves_to_county_jail": self.moves,
            "holds_started": self.holds,
            "transfers": self.transfers,
            "lapses": self.lapses,
            "releases": self.released,
            "in_custody_at_end": self.in_custody_at_end,
            "errors": dict(self.errors),
            "first_errors": self.first_errors,
        }


Progress = Callable[[str, int], None]


class Simulation:
    def __init__(
        self,
        service: Custody,
        clock: ManualClock,
        stream: ArrestStream,
        days: int,
        deliver: Callable[[], int] | None = None,
        progress: Progress | None = None,
        batched: bool = True,
        journal: Journal | None = None,
    ) -> None:
        """``batched``: the commands between two deliveries share one transaction (a savepoint
        each); off, each command commits alone, as it would coming from many clients at once (and as
        worker processes locking the same audit chains need it). ``journal``: where each batch
        records the simulator's own state, to resume from (batched only: it must commit with them)."""
        if journal is not None and not batched:
            raise ValueError("a journal is written with each batch: it needs batched=True")
        self.service = service
        self.batched = batched
        self.clock = clock
        self.stream = stream
        self.days = days
        self.deliver = deliver or service.deliver
        self.progress = progress or (lambda what, n: None)
        self.tally = Tally()
        self.heap: list[tuple[datetime, int, int, Any]] = []
        self.seq = 0
        self.loaded = 0  # days whose first arrests are in the heap
        self.enrolled: set[str] = set()
        self.journal = journal
        self._changes = Changes() if journal else None
        self._since_delivery = 0
        self._flush_now = False  # a command's answer must reach the other side before the next
        # The commands between two deliveries run as one batch: one transaction, a savepoint each.
        self._batch = ExitStack()
        zones: set[tzinfo] = {local_zone(parse_division(a.division)) for a in stream.agencies} or {UTC}
        last_day = stream.start + timedelta(days=days)
        self.end = max(datetime.combine(last_day, time(0), tzinfo=z) for z in zones).astimezone(UTC)

    # --- the loop ------------------------------------------------------------------------------

    def _push(self, at: datetime, kind: int, payload: Any) -> None:
        self.seq += 1
        entry = (at.astimezone(UTC), self.seq, kind, payload)
        heapq.heappush(self.heap, entry)
        if self._changes:
            self._changes.push(entry)

    def _pop(self) -> tuple[datetime, int, int, Any]:
        entry = heapq.heappop(self.heap)
        if self._changes:
            self._changes.pop(entry)
        return entry

    def _touched(self, case: Case) -> None:
        if self._changes:
            self._changes.cases[case.booking_id] = case

    def restore(
        self,
        heap: list[tuple[datetime, int, int, Any]],
        seq: int,
        loaded: int,
        enrolled: set[str],
        tally: Tally,
        clock: datetime,
    ) -> None:
        """Where a journal left this simulation (``Journal.restore``)."""
        self.heap, self.seq, self.loaded, self.enrolled, self.tally = heap, seq, loaded, enrolled, tally
        self.clock.set(clock)

    def _day_start(self, offset: int) -> datetime:
        # Local midnights in the United States are all at or after 00:00 UTC of the same date.
        return datetime.combine(self.stream.start + timedelta(days=offset), time(0), tzinfo=UTC)

    def run(self) -> Tally:
        if self.journal and self.journal.restore(self):
            self.progress("day", self.loaded)
            self.deliver()  # the run may have stopped after its last commit, before all was delivered
            if self.journal.finished:  # nothing is left to do, nor to write: the report reads the store
                return self._ended()
        with loaded_objects_frozen(), self._batch:
            self._open_batch()
            self._loop()
            self.clock.set(self.end)
            self._flush(finished=True)
        return self._ended()

    def _ended(self) -> Tally:
        self.tally.in_custody_at_end = sum(1 for _, _, kind, _ in self.heap if kind in (ELIGIBLE, PICKUP, LAPSE))
        return self.tally

    def _loop(self) -> None:
        handlers: dict[int, Callable[[Any, datetime], None]] = {
            REQUEST: self._request,
            ANSWER: self._answer,
            MOVE: self._move,
            PICKUP: self._pickup,
            LAPSE: self._lapse,
        }
        while True:
            if self.loaded < self.days and (not self.heap or self.heap[0][0] >= self._day_start(self.loaded)):
                for arrest in self.stream.day(self.loaded):
                    self._push(arrest.at, ARRIVE, arrest)
                self.loaded += 1
                self.progress("day", self.loaded)
                continue
            if not self.heap or self.heap[0][0] > self.end:
                break
            at, _, kind, payload = self._pop()
            if kind in FEED:
                window = self._window(at, kind, payload)
                self.clock.set(window[-1][0])
                arrivals = [(when, p) for when, k, p in window if k == ARRIVE]
                eligible = [(when, p) for when, k, p in window if k == ELIGIBLE]
                if arrivals:
                    self._arrive(arrivals)
                if eligible:
                    self._eligible(eligible)
                self._since_delivery += len(window)
            else:
                self.clock.set(at)
                try:
                    handlers[kind](payload, at)
                except CustodyError as exc:
                    self._refused(exc)
                self._since_delivery += 1
            if self._since_delivery >= DELIVER_EVERY or self._flush_now:
                self._flush()

    def _window(self, at: datetime, kind: int, payload: Any) -> list[tuple[datetime, int, Any]]:
        """This booking or release eligibility and those next in time within FEED_WINDOW of it, up to
        the next event of another kind (a request, a move, a pickup, a lapse), the next delivery, the
        end, a day not yet loaded, or the arrest of a person released in this window (who must leave
        custody before being booked again). Everyone else's bookings and releases commute: each
        carries its own time, and a booking's own release eligibility is only known once it is booked."""
        taken: list[tuple[datetime, int, Any]] = [(at, kind, payload)]
        leaving = {payload.arrest.person.key} if kind == ELIGIBLE else set()
        while self.heap:
            when, _, following, item = self.heap[0]
            if (
                following not in FEED
                or when >= at + FEED_WINDOW
                or when > self.end
                or (self.loaded < self.days and when >= self._day_start(self.loaded))
                or self._since_delivery + len(taken) + 1 >= DELIVER_EVERY
                or (following == ARRIVE and item.person.key in leaving)
            ):
                break
            self._pop()
            taken.append((when, following, item))
            if following == ELIGIBLE:
                leaving.add(item.arrest.person.key)
        return taken

    def _refused(self, error: CustodyError) -> None:
        name = type(error).__name__
        self.tally.errors[name] += 1
        self.tally.first_errors.setdefault(name, error.detail)

    def _flush(self, finished: bool = False) -> None:
        """Commit the commands since the last delivery (one batch) with the journal's record of them,
        deliver, and open the next batch."""
        if self.journal and self._changes:
            self.journal.record(self, self._changes, finished)
            self._changes = Changes()
        self._batch.close()
        self.deliver()
        self._since_delivery = 0
        self._flush_now = False
        self._open_batch()

    def _open_batch(self) -> None:
        if self.batched:
            self._batch.enter_context(self.service.batch())

    # --- the steps -----------------------------------------------------------------------------

    def _arrive(self, group: list[tuple[datetime, Arrest]]) -> None:
        arriving: list[tuple[datetime, Arrest]] = []
        for at, arrest in group:
            try:
                self._enrol(arrest)
            except CustodyError as exc:
                self._refused(exc)
                continue
            arriving.append((at, arrest))
        outcomes = self.service.book_all([(self._booking(at, arrest), []) for at, arrest in arriving])
        for (at, arrest), outcome in zip(arriving, outcomes, strict=True):
            if isinstance(outcome, CustodyError):
                self._refused(outcome)
                continue
            self.tally.arrests += 1
            if arrest.generation > 0:
                self.tally.rebookings += 1
            case = Case(arrest, outcome)
            self._touched(case)
            eligible = at + arrest.stay
            if arrest.request is not None:
                if at + arrest.request.after < eligible:
                    self._push(at + arrest.request.after, REQUEST, case)
                else:
                    self.tally.requests_not_reached += 1
            if arrest.agency.division in COUNTY_JAIL_OF and arrest.stay > MOVE_AFTER:
                self._push(at + MOVE_AFTER, MOVE, case)
            self._push(eligible, ELIGIBLE, case)
        self.progress("booking", self.tally.arrests)

    def _enrol(self, arrest: Arrest) -> None:
        """The federal repository holds a record of a person it has met before (once)."""
        person = arrest.person
        if not person.federal_record or person.key in self.enrolled:
            return
        self.service.enrol(
            IdentityIn(
                names=[f"{person.last_name.upper()}, {person.first_name}"],
                date_of_birth=person.date_of_birth,
                identifiers={"fbi": person.key},
                record={"a_number": f"A{hash_key(person.key) % 10**9:09d}", "source": "simulated"},
            )
        )
        self.enrolled.add(person.key)
        if self._changes:
            self._changes.enrolled.append(person.key)
        self.tally.enrolled += 1

    @staticmethod
    def _booking(at: datetime, arrest: Arrest) -> BookingIn:
        person = arrest.person
        local = at.astimezone(arrest.zone)
        return BookingIn.model_validate(
            {
                "agency": arrest.agency.division,
                "agency_kind": arrest.agency.kind,
                "booking_number": arrest.number,
                "booked_at": local,
                "person": {
                    "last_name": person.last_name,
                    "first_name": person.first_name,
                    "date_of_birth": person.date_of_birth,
                    "identifiers": {"fbi": person.key},
                    "gang_database": person.gang_database,
                    "outstanding_criminal_warrant": arrest.outstanding_warrant,
                },
                "charges": [
                    {
                        "offense": arrest.offense,
                        "level": "felony" if arrest.felony else "misdemeanor",
                        "violent": arrest.violent,
                        "date": local.date(),
                    }
                ],
                "convictions": (
                    [{"offense": "burglary", "level": "felony", "date": person.prior_felony_on}]
                    if person.prior_felony_on
                    else []
                ),
            }
        )

    def _request(self, case: Case, at: datetime) -> None:
        plan = case.arrest.request
        assert plan is not None
        row = self.service.issue_request(
            RequestIn.model_validate(
                {
                    "booking_id": case.booking_id,
                    "form": plan.form,
                    "warrant": plan.warrant,
                    "officer": OFFICER,
                    "issued_at": at,
                }
            )
        )
        case.request_id = row.id
        self._touched(case)
        self.tally.requests_issued += 1
        # The identification answer and the request reach the agency, which decides it; then answer.
        self._flush_now = True
        self._push(at, ANSWER, case)

    def _answer(self, case: Case, at: datetime) -> None:
        """Serve an I-247A, then answer each action: what the law requires or forbids goes by default;
        where it leaves the choice to the agency, the arrest's draw decides."""
        assert case.request_id is not None
        view = self.service.request_view(case.request_id)
        if view["state"] != "decided" or not view["decision"]:
            return
        if view["form"] == "I-247A" and not case.served:
            self.service.serve(case.request_id, ServeIn(at=at))
            case.served = True
            self._touched(case)
        answers = {}
        for action, ruling in view["decision"]["actions"].items():
            if ruling["status"] == "permitted":
                honor = case.arrest.honor.get(action, 1.0) < cal.PERMITTED_HONOR_SHARE.value
                answers[action] = "honor" if honor else "decline"
        self.service.respond(case.request_id, ResponseIn.model_validate({"at": at, "answers": answers}))

    def _move(self, case: Case, at: datetime) -> None:
        self.service.move(case.booking_id, MoveIn(to_agency=COUNTY_JAIL_OF[case.arrest.agency.division], at=at))
        self.tally.moves += 1
        if case.request_id is not None:
            self._answer(case, at)  # the request followed the person and was decided anew

    def _honored(self, case: Case, *actions: str) -> bool:
        return self._answered(case, lambda r: any(requests.honored(r, Action(a)) for a in actions))

    def _hands_over(self, case: Case) -> bool:
        """The release rule itself decides whether officers may take the person, so the simulated
        pickups never drift from it (a review found the simulator with a copy of its own)."""
        return self._answered(case, hands_over)

    def _answered(self, case: Case, test: Callable[[FederalRequestRow], bool]) -> bool:
        if case.request_id is None:
            return False
        with self.service.read() as unit:
            request = unit.session.get(FederalRequestRow, case.request_id)
            return request is not None and test(request)

    def _eligible(self, group: list[tuple[datetime, Case]]) -> None:
        releases = []
        for at, case in group:
            arrest = case.arrest
            present = arrest.present_at_release and self._honored(case, "notify", "transfer")
            releases.append(
                (
                    case.booking_id,
                    ReleaseIn.model_validate(
                        {
                            "reason": arrest.reason.value,
                            "at": at,
                            "federal_officers_present": OFFICER if present else None,
                        }
                    ),
                )
            )
        outcomes = self.service.release_eligible_all(releases)
        for (at, case), booking in zip(group, outcomes, strict=True):
            if isinstance(booking, CustodyError):
                self._refused(booking)
            elif booking.state == CustodyState.transferred:
                self.tally.transfers += 1
            elif booking.state == CustodyState.held_on_detainer:
                self.tally.holds += 1
                hold = next(h for h in self.service.booking_view(case.booking_id)["holds"] if h["state"] == "active")
                starts, expires = datetime.fromisoformat(hold["starts_at"]), datetime.fromisoformat(hold["expires_at"])
                # federal officers come for the person where the agency's answer lets them take custody
                if case.arrest.pickup and self._hands_over(case):
                    self._push(starts + (expires - starts) * case.arrest.pickup_fraction, PICKUP, case)
                else:
                    self._push(expires, LAPSE, case)
            elif booking.state == CustodyState.released:
                self._released(case, at)

    def _pickup(self, case: Case, at: datetime) -> None:
        self.service.transfer(case.booking_id, TransferIn.model_validate({"at": at, "officer": OFFICER}))
        self.tally.transfers += 1

    def _lapse(self, case: Case, at: datetime) -> None:
        # One tick lapses every hold due by then, so this one may already have lapsed with another.
        self.service.tick(at)
        if self._state(case.booking_id) == CustodyState.released:
            self.tally.lapses += 1
            self._released(case, at)

    def _state(self, booking_id: str) -> str:
        with self.service.read() as unit:
            booking = unit.session.get(BookingRow, booking_id)
            return booking.state if booking else ""

    def _released(self, case: Case, at: datetime) -> None:
        self.tally.released += 1
        again = self.stream.rearrest(case.arrest, at, self.end)
        if again is not None:
            self._push(again.at, ARRIVE, again)
