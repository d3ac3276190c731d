"""What a simulation knows that the store does not, kept in the store so a killed run carries on.

The arrests still to come, the cases the simulator follows (which request is whose, whether the
I-247A was served), the people the federal repository has met and the tally live in the simulator's
memory; the store holds only what the process wrote. A national year runs for hours, and before
this a run killed at any point had to start again in a fresh store. Now each batch the simulator
commits carries, in its own transaction, a journal row of what the batch changed in that memory
(and, from time to time, a snapshot of all of it in place of the rows before), so the journal and
the store always agree: ``custody simulate --resume`` reads the snapshot and the changes after it
and carries on from the last commit, giving the outcomes an uninterrupted run gives.

The rows are JSON (compressed), never pickles: a store's contents must not be able to run code.
"""

from __future__ import annotations

import heapq
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import delete, insert, inspect, select

from custody.booking.model import ReleaseReason
from custody.domain.errors import InvalidInput
from custody.service import Custody
from custody.sim.agencies import Agency
from custody.sim.arrests import Arrest, Person, RequestPlan
from custody.store import db
from custody.store.models import SimulationJournalRow

if TYPE_CHECKING:
    from custody.sim.engine import Case, Simulation

VERSION = 1
# A snapshot replaces the rows before it once the changes since the last one outgrow it (or this
# floor), so the journal stays within about twice the simulator's memory and resuming reads little.
SNAPSHOT_FLOOR = 1 << 20
MICROSECOND = timedelta(microseconds=1)

# What a run's identity holds beside its command-line options, named for the reader.
_NAMED = {"law_revision": "the law library's revision", "rates": "the simulator's rates"}

Entry = tuple[datetime, int, int, Any]  # the simulator's heap entry: when, sequence, kind, payload


@dataclass
class Changes:
    """What the simulator changed in its memory since its last commit."""

    pushed: dict[int, Entry] = field(default_factory=dict)
    popped: set[int] = field(default_factory=set)
    cases: dict[str, Case] = field(default_factory=dict)
    enrolled: list[str] = field(default_factory=list)

    def push(self, entry: Entry) -> None:
        self.pushed[entry[1]] = entry

    def pop(self, entry: Entry) -> None:
        if self.pushed.pop(entry[1], None) is None:
            self.popped.add(entry[1])


@dataclass(frozen=True)
class Stopped:
    """Where the journal of a run leaves it."""

    simulated_to: datetime
    finished: bool


class Journal:
    """The journal of one run (``run``: its booking-number prefix) in one store. ``options`` are what
    make the run the run it is (seed, days, scale, …): a resume with other options is refused."""

    def __init__(self, service: Custody, run: str, options: dict[str, Any]) -> None:
        self.service = service
        self.run = run
        self.options = options
        self.finished = False  # set by ``restore``: the run had reached its end
        self._number = 0
        self._snapshot_bytes = 0
        self._since_snapshot = 0

    def stopped(self) -> Stopped | None:
        with self.service.read() as unit:
            row = unit.session.execute(
                select(SimulationJournalRow.simulated_to, SimulationJournalRow.finished)
                .where(SimulationJournalRow.run == self.run)
                .order_by(SimulationJournalRow.number.desc())
                .limit(1)
            ).first()
        return Stopped(row.simulated_to, row.finished) if row else None

    # --- writing, inside the batch's transaction ---------------------------------------------------

    def record(self, simulation: Simulation, changes: Changes, finished: bool) -> None:
        codec = _Codec(simulation.stream.agencies)
        state: dict[str, Any] = {
            "clock": simulation.clock.now().isoformat(),
            "loaded": simulation.loaded,
            "seq": simulation.seq,
            "tally": _tally(simulation),
        }
        delta = dict(
            state,
            enrolled=changes.enrolled,
            cases={key: codec.case(case) for key, case in changes.cases.items()},
            pushed=[codec.entry(entry) for entry in changes.pushed.values()],
            popped=sorted(changes.popped),
        )
        blob = _pack(delta)
        snapshot = self._number == 0 or self._since_snapshot + len(blob) > max(SNAPSHOT_FLOOR, self._snapshot_bytes)
        if snapshot:
            heap = simulation.heap
            cases = {case.booking_id: case for _, _, _, case in heap if not isinstance(case, Arrest)}
            blob = _pack(
                dict(
                    state,
                    version=VERSION,
                    options=self.options,
                    enrolled=sorted(simulation.enrolled),
                    cases={key: codec.case(case) for key, case in cases.items()},
                    pushed=[codec.entry(entry) for entry in heap],
                    popped=[],
                )
            )
        self._number += 1
        with self.service.unit() as unit:
            if snapshot:
                unit.session.execute(delete(SimulationJournalRow).where(SimulationJournalRow.run == self.run))
            unit.session.execute(
                insert(SimulationJournalRow).values(
                    run=self.run,
                    number=self._number,
                    snapshot=snapshot,
                    finished=finished,
                    simulated_to=simulation.clock.now(),
                    state=blob,
                    recorded_at=self.service.clock.now(),
                )
            )
        if snapshot:
            self._snapshot_bytes, self._since_snapshot = len(blob), 0
        else:
            self._since_snapshot += len(blob)

    # --- reading back ------------------------------------------------------------------------------

    def restore(self, simulation: Simulation) -> bool:
        """Put the simulator back where the journal leaves it; False when the run has no journal."""
        with self.service.read() as unit:
            rows = unit.session.execute(
                select(
                    SimulationJournalRow.number,
                    SimulationJournalRow.snapshot,
                    SimulationJournalRow.finished,
                    SimulationJournalRow.state,
                )
                .where(SimulationJournalRow.run == self.run)
                .order_by(SimulationJournalRow.number)
            ).all()
        if not rows:
            return False
        first = orjson.loads(zlib.decompress(rows[0].state))
        name = f"the simulation of seed {self.options.get('seed')}"
        if not rows[0].snapshot or first.get("version") != VERSION:
            raise InvalidInput(f"the journal of {name} in this store was written by another version of custody")
        differ = {k: (first["options"].get(k), v) for k, v in self.options.items() if first["options"].get(k) != v}
        if differ:
            said = "; ".join(f"{_NAMED.get(k, '--' + k)} was {then}, now {now}" for k, (then, now) in differ.items())
            raise InvalidInput(
                f"{name} in this store was started with other options ({said}): resume it with the options it "
                "started with, or start afresh with another --seed or a fresh store"
            )
        entries: dict[int, list[Any]] = {}
        cases: dict[str, list[Any]] = {}
        enrolled: set[str] = set()
        state = first
        for row in rows:
            state = first if row is rows[0] else orjson.loads(zlib.decompress(row.state))
            for seq in state["popped"]:
                entries.pop(seq, None)
            entries.update((encoded[1], encoded) for encoded in state["pushed"])
            cases.update(state["cases"])
            enrolled.update(state["enrolled"])
        from custody.sim.engine import Tally

        codec = _Codec(simulation.stream.agencies)
        built: dict[str, Case] = {}

        def case_of(key: str) -> Case:
            if key not in built:
                built[key] = codec.read_case(key, cases[key])
            return built[key]

        heap = [codec.read_entry(encoded, case_of) for encoded in entries.values()]
        heapq.heapify(heap)
        tally = Tally(**state["tally"])
        tally.errors = Counter(tally.errors)
        simulation.restore(
            heap=heap,
            seq=state["seq"],
            loaded=state["loaded"],
            enrolled=enrolled,
            tally=tally,
            clock=datetime.fromisoformat(state["clock"]),
        )
        self.finished = rows[-1].finished
        self._number = rows[-1].number
        self._snapshot_bytes = len(rows[0].state)
        self._since_snapshot = sum(len(row.state) for row in rows[1:])
        return True


def peek(url: str, run: str) -> tuple[Stopped | None, dict[str, Any] | None]:
    """Where the journal of ``run`` in the store at ``url`` leaves it, and the options it started
    with, without opening the store for work: a reform's store is looked at before it is kept or
    made afresh. (None, None) for a store that does not exist or holds no such run."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None, None
    engine = db.make_engine(url)
    try:
        if not inspect(engine).has_table(SimulationJournalRow.__tablename__):
            return None, None
        ordered = select(SimulationJournalRow).where(SimulationJournalRow.run == run)
        with engine.connect() as conn:
            first = conn.execute(ordered.order_by(SimulationJournalRow.number).limit(1)).first()
            last = conn.execute(ordered.order_by(SimulationJournalRow.number.desc()).limit(1)).first()
    finally:
        engine.dispose()
    if first is None or last is None:
        return None, None
    options: dict[str, Any] = orjson.loads(zlib.decompress(first.state)).get("options", {})
    return Stopped(last.simulated_to, last.finished), options


def _pack(state: dict[str, Any]) -> bytes:
    return zlib.compress(orjson.dumps(state), 1)


def _tally(simulation: Simulation) -> dict[str, Any]:
    tally = simulation.tally
    return {f.name: getattr(tally, f.name) for f in fields(tally)}


class _Codec:
    """Arrests and cases as JSON lists (field order fixed here), agencies by their division."""

    def __init__(self, agencies: Iterable[Agency]) -> None:
        self.agencies = {agency.division: agency for agency in agencies}

    def entry(self, entry: Entry) -> list[Any]:
        at, seq, kind, payload = entry
        ref = self.arrest(payload) if isinstance(payload, Arrest) else payload.booking_id
        return [at.isoformat(), seq, kind, ref]

    def read_entry(self, encoded: list[Any], case_of: Callable[[str], Case]) -> Entry:
        at, seq, kind, ref = encoded
        payload = case_of(ref) if isinstance(ref, str) else self.read_arrest(ref)
        return (datetime.fromisoformat(at), seq, kind, payload)

    def case(self, case: Case) -> list[Any]:
        return [self.arrest(case.arrest), case.request_id, case.served]

    def read_case(self, booking_id: str, encoded: list[Any]) -> Case:
        from custody.sim.engine import Case

        arrest, request_id, served = encoded
        return Case(self.read_arrest(arrest), booking_id, request_id, served)

    @staticmethod
    def arrest(arrest: Arrest) -> list[Any]:
        p, plan = arrest.person, arrest.request
        prior = p.prior_felony_on.isoformat() if p.prior_felony_on else None
        return [
            [p.key, p.last_name, p.first_name, p.date_of_birth.isoformat(), p.federal_record, prior, p.gang_database],
            arrest.agency.division,
            arrest.number,
            arrest.at.isoformat(),
            [arrest.felony, arrest.violent, arrest.offense, arrest.outstanding_warrant],
            arrest.stay // MICROSECOND,
            arrest.reason.value,
            [plan.form, plan.warrant, plan.after // MICROSECOND] if plan else None,
            arrest.honor,
            [arrest.pickup, arrest.pickup_fraction, arrest.present_at_release],
            arrest.rearrest_after // MICROSECOND,
            arrest.generation,
        ]

    def read_arrest(self, encoded: list[Any]) -> Arrest:
        person, division, number, at, charge, stay, reason, plan, honor, federal, rearrest, generation = encoded
        agency = self.agencies.get(division)
        if agency is None:
            raise InvalidInput(f"the journal names {division}, which this simulation does not book at")
        key, last, first, born, record, prior, gang = person
        felony, violent, offense, warrant = charge
        pickup, fraction, present = federal
        return Arrest(
            person=Person(
                key, last, first, date.fromisoformat(born), record, date.fromisoformat(prior) if prior else None, gang
            ),
            agency=agency,
            number=number,
            at=datetime.fromisoformat(at),
            felony=felony,
            violent=violent,
            offense=offense,
            outstanding_warrant=warrant,
            stay=stay * MICROSECOND,
            reason=ReleaseReason(reason),
            request=RequestPlan(plan[0], plan[1], plan[2] * MICROSECOND) if plan else None,
            honor=honor,
            pickup=pickup,
            pickup_fraction=fraction,
            present_at_release=present,
            rearrest_after=rearrest * MICROSECOND,
            generation=generation,
        )
