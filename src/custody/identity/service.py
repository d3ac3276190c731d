"""The identification check of a booking against the federal repository.

A booking submitted with prints is searched 1:N against the repository's gallery; a candidate at
or above the threshold opens an identification that an examiner confirms or rejects
(identity/model.py) before the agency hears of a hit. A booking without prints, or whose prints
found no one, is checked by its identifiers as before. A hit links the booking to the identity,
whatever name the person gave, and carries the record and the rap sheet of earlier bookings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, bindparam, exists, insert, select, true, tuple_, union, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from custody.booking.service import FingerprintImage
from custody.domain.errors import InvalidInput, NotFound
from custody.domain.events import FEDERAL, Event, local_party
from custody.identity import biometrics, settings
from custody.identity.commands import IdentityIn
from custody.identity.model import IDENTIFICATION, ExaminerConfirmation, IdentificationState
from custody.identity.prints.gallery import Decision, Identity, fuse
from custody.identity.prints.templates import Template
from custody.store.models import (
    Base,
    BookingRow,
    FederalIdentityRow,
    FingerprintImageRow,
    IdentificationRow,
)
from custody.store.paging import page
from custody.store.unit import CHUNK, Unit, new_id

FEDERAL_CHAIN = FEDERAL
AUTOMATIC = "automatic (CUSTODY_EXAMINER_CONFIRMATION=auto)"
CONTRADICTED = "the booking's prints do not match the prints on file of the person its identifiers name"
# Every booking passes through here, so the federal side's rows are written and read as plain rows
# (SQLAlchemy Core): no ORM object, identity map or flush per submission.
BOOKINGS, SUBMISSIONS, SUBMISSION_IDENTIFIERS, IDENTITIES, IDENTIFIERS, IDENTIFICATIONS = (
    Base.metadata.tables[name]
    for name in (
        "bookings",
        "federal_submissions",
        "federal_submission_identifiers",
        "federal_identities",
        "federal_identifiers",
        "identifications",
    )
)

# Built once (every booking runs it): the repository identifiers among the (type, value) pairs.
CARRIED = select(IDENTIFIERS.c.identity_id, IDENTIFIERS.c.id_type, IDENTIFIERS.c.value).where(
    tuple_(IDENTIFIERS.c.id_type, IDENTIFIERS.c.value).in_(bindparam("pairs", expanding=True))
)

ENROL_IDENTITY, ENROL_IDENTIFIERS = insert(IDENTITIES), insert(IDENTIFIERS)  # built once, like every hot statement
RECEIVE_SUBMISSIONS, RECEIVE_IDENTIFIERS = insert(SUBMISSIONS), insert(SUBMISSION_IDENTIFIERS)
LINK = (
    update(SUBMISSIONS)
    .where(SUBMISSIONS.c.booking_id == bindparam("booking"))
    .values(identity_id=bindparam("identity"))
)

# The local side's write of every answer: the booking's identity.
RECORD_IDENTITY = (
    update(BOOKINGS).where(BOOKINGS.c.id == bindparam("booking")).values(identity_id=bindparam("identity"))
)


class Received(Protocol):
    """What a rap sheet needs of a submission: a ``Submission`` or a stored ``FederalSubmissionRow``."""

    @property
    def booking_id(self) -> str: ...
    @property
    def booked_at(self) -> datetime: ...
    @property
    def data(self) -> dict[str, Any]: ...
    @property
    def identity_id(self) -> str | None: ...


@dataclass
class Submission:
    """A booking as the federal side received it (a row of federal_submissions)."""

    booking_id: str
    agency: str
    booked_at: datetime
    data: dict[str, Any]  # the message as received
    identity_id: str | None = None


def enrol(unit: Unit, identity: IdentityIn, prints: Sequence[FingerprintImage] = ()) -> str:
    """The repository's new identity, its id returned."""
    identity_id = new_id("idn")
    _enrol_rows(unit, identity_id, identity.names, identity.aliases, identity.date_of_birth, identity.record)
    if identity.identifiers:
        unit.session.connection().execute(
            ENROL_IDENTIFIERS,
            [
                {"identity_id": identity_id, "id_type": id_type.lower(), "value": value}
                for id_type, value in identity.identifiers.items()
            ],
        )
    enrolled = Identity(identity_id, tuple(identity.names), tuple(identity.aliases), identity.record)
    fingers = biometrics.enrol(settings.from_environment(), enrolled, prints) if prints else []
    unit.emit(
        Event(
            "IdentityEnrolled", "identity", identity_id, unit.clock.now(), {"names": identity.names, "fingers": fingers}
        ),
        FEDERAL_CHAIN,
    )
    return identity_id


def _enrol_rows(
    unit: Unit,
    identity_id: str,
    names: list[str],
    aliases: list[str],
    date_of_birth: date | None,
    record: dict[str, Any],
    retained_from: str | None = None,
    merged_into: str | None = None,
) -> None:
    """The identity's row, written plain (not an ORM object): the simulator enrols a person at every
    first arrest with a record, and two flushes an enrolment were 3 % of the benchmark (issue 8).
    Its fingers go to the gallery after the row, so a search only ever offers identities the store
    holds (identity/biometrics.py)."""
    unit.session.connection().execute(
        ENROL_IDENTITY,
        {
            "id": identity_id,
            "names": names,
            "aliases": aliases,
            "date_of_birth": date_of_birth,
            "record": record,
            "enrolled_at": unit.clock.now(),
            "retained_from": retained_from,
            "merged_into": merged_into,
        },
    )


def _retain(unit: Unit, submission: Submission, templates: dict[int, Template], linked_to: str | None) -> None:
    """The repository keeps a booking's usable prints, once, as an arrest encounter named after the
    booking, so that the same person's next arrest is found by them under any name
    (docs/fingerprints.md, "Retention"; found by a review: only people the federal side had enrolled
    itself were ever linked). The encounter carries the name booked and no identifier (the booking's
    identifiers stay with its submission, where the rap sheet finds them).

    A booking that found no one, by prints or by identifiers (``linked_to`` None), is linked to its
    encounter, a new identity with no record; the agency's answer stays "no hit". A booking linked to
    an identity, by an identifier or a confirmed print hit, keeps its encounter merged into that
    identity at once: a search that finds these prints offers the identity (found by a review: such a
    booking's prints were dropped, so a person enrolled without prints, or the fingers a confirmed
    booking brought that the identity had not on file, never found the person's next arrest, whose
    prints then became a second identity for the same person)."""
    # Named after the booking: a transaction retried after a failure finds its gallery entry again,
    # and two paths keeping the same booking's prints at once collide in the store (found by a review).
    identity_id = "idn_" + submission.booking_id.removeprefix("bkg_")
    if unit.session.connection().execute(select(IDENTITIES.c.id).where(IDENTITIES.c.id == identity_id)).first():
        return  # prints submitted again for a booking whose first prints were kept: kept once
    person = submission.data["person"]
    names, aliases = [_booked_name(person)], list(person.get("aliases", []))
    born = person.get("date_of_birth")
    _enrol_rows(
        unit,
        identity_id,
        names,
        aliases,
        date.fromisoformat(born) if born else None,
        {},
        submission.booking_id,
        linked_to,
    )
    fingers = biometrics.enrol_templates(
        settings.from_environment(), Identity(identity_id, tuple(names), tuple(aliases), {}), templates
    )
    if linked_to is None:
        submission.identity_id = identity_id
        unit.session.connection().execute(LINK, {"booking": submission.booking_id, "identity": identity_id})
    unit.emit(
        Event(
            "IdentityEnrolled",
            "identity",
            identity_id,
            unit.clock.now(),
            {"names": names, "fingers": fingers, "retained_from": submission.booking_id, "merged_into": linked_to},
        ),
        FEDERAL_CHAIN,
    )


def _stored_templates(unit: Unit, submission: Submission) -> dict[int, Template]:
    """The usable fingers of the prints the booking's submission names, extracted again: an examiner
    decides long after the search that extracted them."""
    return biometrics.usable(_submitted_images(unit, submission)[0])[0]


def _booked_name(person: dict[str, Any]) -> str:
    return f"{person['last_name']}, {person['first_name']}".upper()


def identify(unit: Unit, data: dict[str, Any]) -> None:
    """The federal side searches its repository for a submitted booking and answers the agency: a hit
    tells the federal side who is in which jail, and sends the agency the record."""
    if data.get("resubmission"):
        submission = _receive_again(unit, data)
        if submission.identity_id is not None and not _kept_from(unit, submission):
            return  # identified since: the agency has its answer, the new prints are kept with the rest
        # answered now, after the search it follows (found by a review: dated at the booking's time)
        answered_at = unit.clock.now()
    else:
        submission = _receive_all(unit, [data])[0]
        answered_at = submission.booked_at
    templates: dict[int, Template] = {}
    if data["prints"]:
        searched = _search_prints(unit, submission)
        if searched.opened:
            return
        templates = searched.templates
    linked_to = identify_by_identifiers(unit, submission, answered_at)
    if templates:
        _retain(unit, submission, templates, linked_to)


def _kept_from(unit: Unit, submission: Submission) -> bool:
    """Whether the booking's identity is its own first prints, kept when they found no one: prints
    submitted again are then searched against everyone else."""
    retained_from = unit.session.scalar(
        select(FederalIdentityRow.retained_from).where(FederalIdentityRow.id == submission.identity_id)
    )
    return retained_from == submission.booking_id


def identify_all(unit: Unit, submitted: list[dict[str, Any]]) -> None:
    """Many submissions in the order they came, each answered exactly as ``identify`` answers it.

    Most carry no prints and no identifier the repository knows: one query tells which, and their
    submissions are kept together (one statement per table), written before anything that reads
    them (a hit's rap sheet) comes next. The others go through ``identify`` one by one."""
    plain = [d for d in submitted if not d.get("resubmission") and not d["prints"]]
    known = _identifiers_known(unit, plain)
    waiting: list[dict[str, Any]] = []

    def answer_waiting() -> None:
        for submission in _receive_all(unit, waiting):
            _answer(unit, submission, None, [], submission.booked_at)
        waiting.clear()

    for data in submitted:
        carried = data["person"]["identifiers"].items()
        if not data.get("resubmission") and not data["prints"] and not any(pair in known for pair in carried):
            waiting.append(data)
        else:
            answer_waiting()
            identify(unit, data)
    answer_waiting()


def _identifiers_known(unit: Unit, submitted: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Which of these submissions' (type, value) identifiers the repository holds."""
    pairs = list(dict.fromkeys(pair for d in submitted for pair in d["person"]["identifiers"].items()))
    known: set[tuple[str, str]] = set()
    for i in range(0, len(pairs), CHUNK):
        rows = unit.session.connection().execute(CARRIED, {"pairs": pairs[i : i + CHUNK]})
        known.update((row.id_type, row.value) for row in rows)
    return known


def _receive_again(unit: Unit, data: dict[str, Any]) -> Submission:
    """A booking's prints submitted again: the submission kept is the newest, its identity unchanged."""
    unit.session.connection().execute(
        update(SUBMISSIONS).where(SUBMISSIONS.c.booking_id == data["booking_id"]).values(data=data)
    )
    return _submission(unit, data["booking_id"])


def _receive_all(unit: Unit, submitted: list[dict[str, Any]]) -> list[Submission]:
    """Keep the submissions where a rap sheet can find them by identity or by identifier."""
    submissions = [
        Submission(d["booking_id"], d["agency"], datetime.fromisoformat(d["booked_at"]), d) for d in submitted
    ]
    if not submissions:
        return submissions
    connection = unit.session.connection()
    now = unit.clock.now()
    connection.execute(
        RECEIVE_SUBMISSIONS,
        [
            {
                "booking_id": s.booking_id,
                "agency": s.agency,
                "booked_at": s.booked_at,
                "data": s.data,
                "identity_id": None,
                "received_at": now,
            }
            for s in submissions
        ],
    )
    identifiers = [
        {"booking_id": s.booking_id, "id_type": t, "value": v}
        for s in submissions
        for t, v in s.data["person"]["identifiers"].items()
    ]
    if identifiers:
        connection.execute(RECEIVE_IDENTIFIERS, identifiers)
    return submissions


def _submitted_images(unit: Unit, submission: Submission) -> tuple[list[FingerprintImage], list[dict[str, Any]]]:
    """The images the message names by digest, as stored with the booking; a digest not found is
    refused with its reason rather than searched."""
    stored = {
        row.sha256: row
        for row in unit.session.scalars(
            select(FingerprintImageRow).where(FingerprintImageRow.booking_id == submission.booking_id)
        )
    }
    named = submission.data["prints"]
    found = [(p["position"], stored[p["sha256"]]) for p in named if p["sha256"] in stored]
    missing = [
        {"position": p["position"], "reason": f"no image with SHA-256 {p['sha256']} is stored with the booking"}
        for p in named
        if p["sha256"] not in stored
    ]
    return [FingerprintImage(position, row.filename, row.data) for position, row in found], missing


@dataclass(frozen=True)
class Searched:
    """A booking's print search: whether an identification is open (or confirmed at once where no
    examiner is required), and the usable fingers, which the repository keeps (``_retain``)."""

    opened: bool
    templates: dict[int, Template]


def _search_prints(unit: Unit, submission: Submission) -> Searched:
    """Search the booking's prints against everyone but the booking's own kept prints, and against
    the prints on file of whoever its identifiers name (``_contradicted``)."""
    config = settings.from_environment()
    images, missing = _submitted_images(unit, submission)
    named = _named(unit, submission)
    on_file = _standing_for(unit, named)
    search = biometrics.search(config, images, frozenset(on_file))
    ranked = search.result.candidates if search.result else ()
    unit.emit(
        Event(
            "FingerprintsSearched",
            "booking",
            submission.booking_id,
            unit.clock.now(),
            {
                "threshold": config.threshold,
                "gallery_size": search.result.gallery_size if search.result else 0,
                "compared": search.result.compared if search.result else 0,
                "candidates": [_candidate(c.identity.id, c.identity.names, c.score, c.fingers) for c in ranked],
                "refused": missing + search.refused,
            },
        ),
        FEDERAL_CHAIN,
    )
    candidates: list[dict[str, Any]] = []
    for c in ranked:
        found = _offered(unit, c.identity.id) if c.status != Decision.NO_HIT else None
        if found is None or found.id == submission.identity_id or found.id in [o["identity_id"] for o in candidates]:
            continue
        offered = _candidate(found.id, tuple(found.names), c.score, c.fingers)
        if found.id != c.identity.id:
            offered["found_as"] = c.identity.id  # the prints an encounter kept, merged into this identity
        candidates.append(offered)
    if search.result is not None:
        candidates += _contradicted(unit, named, on_file, search.result.included, config.threshold, candidates)
    if not candidates:
        return Searched(False, search.templates)
    identification = IdentificationRow(
        id=new_id("idf"),
        booking_id=submission.booking_id,
        agency=submission.agency,
        state=IDENTIFICATION.initial.value,
        candidates=candidates,
        threshold=config.threshold,
        searched_at=unit.clock.now(),
    )
    unit.session.add(identification)
    unit.emit(
        Event(
            "IdentificationOpened",
            "identification",
            identification.id,
            identification.searched_at,
            {"booking_id": submission.booking_id, "candidates": candidates, "confirmation": config.confirmation.value},
        ),
        FEDERAL_CHAIN,
    )
    if config.confirmation == ExaminerConfirmation.auto and candidates[0]["score"] >= config.threshold:
        _confirm(unit, identification, AUTOMATIC, templates=search.templates)
    elif config.confirmation == ExaminerConfirmation.auto:
        # Only people the prints on file contradict: the machine's word on its own prints stands.
        _reject(unit, identification, AUTOMATIC, CONTRADICTED, search.templates)
    return Searched(True, search.templates)


def _named(unit: Unit, submission: Submission) -> dict[str, list[str]]:
    """The identities the booking's identifiers name, each with the identifier types it shares;
    never a person an examiner found this booking's prints are not (found by reviews: a shared FBI
    number linked the booking to a rejected candidate, at the rejection and again when the prints
    were submitted anew). A booking carrying no identifier the repository holds, the common case,
    costs one query."""
    matches = _matching_identifiers(unit, submission)
    if not matches:
        return {}
    rejected = {
        candidate["identity_id"]
        for candidates in unit.session.scalars(
            select(IdentificationRow.candidates).where(
                IdentificationRow.booking_id == submission.booking_id,
                IdentificationRow.state == IdentificationState.rejected,
            )
        )
        for candidate in candidates
    }
    named: dict[str, list[str]] = {}
    for identity_id, id_type in matches:
        if identity_id not in rejected:
            named.setdefault(identity_id, []).append(id_type)
    return {identity_id: sorted(types) for identity_id, types in named.items()}


def _standing_for(unit: Unit, identities: Iterable[str]) -> dict[str, str]:
    """The gallery entries that hold each identity's prints on file: its own, and the encounters
    merged into it or into one merged into it (``_retain``), each mapped to the identity."""
    standing = {identity_id: identity_id for identity_id in identities}
    frontier = list(standing)
    while frontier:
        merged = unit.session.connection().execute(
            select(IDENTITIES.c.id, IDENTITIES.c.merged_into).where(IDENTITIES.c.merged_into.in_(frontier))
        )
        frontier = []
        for encounter, into in merged:
            if encounter not in standing:
                standing[encounter] = standing[into]
                frontier.append(encounter)
    return standing


def _contradicted(
    unit: Unit,
    named: dict[str, list[str]],
    on_file: dict[str, str],
    included: dict[str, dict[int, float]],
    threshold: float,
    offered: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The identities the booking's identifiers name whose prints on file were compared with the
    booking's (a like finger position) and scored below the threshold: candidates for the examiner,
    marked ``named_by``, so the identifier alone never links them (found by a review: an FBI number
    linked a booking whose finger did not match the one on file, record and alias included). The
    examiner, not a single finger's score, decides: bozorth3 missed 35 % of mated FVC2004 fingers
    at an FMR of 0.1 % (docs/fingerprints.md), and an identifier may be mistyped or another's.
    Each finger position scores its best impression on file."""
    fingers: dict[str, dict[int, float]] = {}
    for entry, scores in included.items():
        best = fingers.setdefault(on_file[entry], {})
        for position, score in scores.items():
            best[position] = max(score, best.get(position, score))
    shown = {o["identity_id"] for o in offered}
    contradicted = []
    for identity_id, scores in fingers.items():
        if not scores or identity_id in shown or fuse(scores.values()) >= threshold:
            continue
        identity = unit.session.get(FederalIdentityRow, identity_id)
        assert identity is not None  # named by the store's identifiers
        candidate = _candidate(identity_id, tuple(identity.names), fuse(scores.values()), scores)
        contradicted.append({**candidate, "named_by": named[identity_id]})
    return contradicted


def _offered(unit: Unit, identity_id: str) -> FederalIdentityRow | None:
    """The identity a gallery candidate stands for: itself, or the one a kept encounter was merged
    into; None for an enrolment whose transaction failed (the gallery is outside the store's)."""
    identity = unit.session.get(FederalIdentityRow, identity_id)
    seen = {identity_id}
    while identity is not None and identity.merged_into is not None and identity.merged_into not in seen:
        seen.add(identity.merged_into)
        identity = unit.session.get(FederalIdentityRow, identity.merged_into)
    return identity


def _candidate(identity_id: str, names: tuple[str, ...], score: float, fingers: dict[int, float]) -> dict[str, Any]:
    return {
        "identity_id": identity_id,
        "names": list(names),
        "score": round(score, 3),
        "finger_scores": {str(p): s for p, s in sorted(fingers.items())},
    }


def get_identification(unit: Unit, identification_id: str) -> IdentificationRow:
    row = unit.session.get(IdentificationRow, identification_id)
    if row is None:
        raise NotFound(
            f"no identification '{identification_id}'; list those awaiting an examiner with "
            "`custody prints queue` or GET /federal/identifications"
        )
    return row


def confirm(unit: Unit, identification_id: str, examiner: str, identity_id: str | None = None) -> IdentificationRow:
    """The examiner confirms a candidate (the best one unless named): the booking is that person."""
    identification = get_identification(unit, identification_id)
    _confirm(unit, identification, examiner, identity_id)
    return identification


def reject(unit: Unit, identification_id: str, examiner: str, reason: str) -> IdentificationRow:
    """The examiner finds none of the candidates is the person: the booking is answered as if the
    prints had found no one. Its identifiers may still find someone, but never a person the examiner
    has just said it is not (found by a review: an FBI number shared with a rejected candidate
    linked the booking to that candidate all the same, aliases and rap sheet included)."""
    identification = get_identification(unit, identification_id)
    _reject(unit, identification, examiner, reason)
    return identification


def _reject(
    unit: Unit,
    identification: IdentificationRow,
    examiner: str,
    reason: str,
    templates: dict[int, Template] | None = None,
) -> None:
    """None of the candidates is the person: answered by the identifiers left, the prints kept
    (``templates``: the fingers the search extracted, when it rejects at once)."""
    identification.reason = reason
    _decide(unit, identification, "reject", examiner, "IdentificationRejected", {"reason": reason})
    submission = _submission(unit, identification.booking_id)
    _keep_decided(unit, submission, identify_by_identifiers(unit, submission, unit.clock.now()), templates)


def _keep_decided(
    unit: Unit, submission: Submission, linked_to: str | None, templates: dict[int, Template] | None
) -> None:
    """After the examiner's decision, the booking's prints kept (``_retain``): extracted again, unless
    the search that opened the identification decided it at once and hands them over."""
    kept = _stored_templates(unit, submission) if templates is None else templates
    if kept:
        _retain(unit, submission, kept, linked_to)


def _confirm(
    unit: Unit,
    identification: IdentificationRow,
    examiner: str,
    identity_id: str | None = None,
    templates: dict[int, Template] | None = None,
) -> None:
    """The booking is the chosen candidate: answered with the hit, its prints kept merged into that
    identity (``templates``: the fingers the search extracted, when it confirms at once)."""
    offered = [c["identity_id"] for c in identification.candidates]
    chosen = identity_id or offered[0]
    if chosen not in offered:
        raise InvalidInput(
            f"{chosen} is not a candidate of identification {identification.id}; choose one of {', '.join(offered)}"
        )
    identification.identity_id = chosen
    _decide(unit, identification, "confirm", examiner, "IdentificationConfirmed", {"identity_id": chosen})
    submission = _submission(unit, identification.booking_id)
    identity = unit.session.get(FederalIdentityRow, chosen)
    assert identity is not None  # only identities in the store are offered
    shared = sorted(id_type for _identity, id_type in _matching_identifiers(unit, submission, chosen))
    _answer(unit, submission, identity, ["fingerprints", *shared])
    _keep_decided(unit, submission, chosen, templates)


def _decide(
    unit: Unit, identification: IdentificationRow, transition: str, examiner: str, event: str, data: dict[str, Any]
) -> None:
    """The examiner's decision moves the identification on and goes on the federal chain with who made it."""
    identification.state = IDENTIFICATION.fire(IdentificationState(identification.state), transition).value
    identification.examiner = examiner
    identification.decided_at = unit.clock.now()
    unit.emit(
        Event(
            event,
            "identification",
            identification.id,
            identification.decided_at,
            {"booking_id": identification.booking_id, **data, "examiner": examiner},
        ),
        FEDERAL_CHAIN,
    )


def _submission(unit: Unit, booking_id: str) -> Submission:
    row = (
        unit.session.connection()
        .execute(
            select(SUBMISSIONS.c.agency, SUBMISSIONS.c.booked_at, SUBMISSIONS.c.data, SUBMISSIONS.c.identity_id).where(
                SUBMISSIONS.c.booking_id == booking_id
            )
        )
        .first()
    )
    if row is None:
        raise NotFound(f"the federal side has no submission of booking '{booking_id}'")
    return Submission(booking_id, row.agency, row.booked_at, row.data, row.identity_id)


def identify_by_identifiers(unit: Unit, submission: Submission, occurred: datetime) -> str | None:
    """The check by identifiers (FBI number, state id, A-number...): hit or no hit, answered now;
    never a person an examiner found this booking's prints are not (``_named``). A person whose
    prints on file the booking's contradict never reaches here undecided: the search sent them to
    the examiner (``_contradicted``)."""
    named = _named(unit, submission)
    if not named:
        _answer(unit, submission, None, [], occurred)
        return None
    chosen, shared = next(iter(named.items()))
    identity = unit.session.get(FederalIdentityRow, chosen)
    assert identity is not None  # federal_identifiers.identity_id is a foreign key
    _answer(unit, submission, identity, shared, occurred)
    return chosen


def _matching_identifiers(unit: Unit, submission: Submission, identity_id: str | None = None) -> list[tuple[str, str]]:
    """(identity, identifier type) of every repository identifier the booking also carries, of one
    identity or of any."""
    identifiers: dict[str, str] = submission.data["person"]["identifiers"]
    if not identifiers:
        return []
    query = CARRIED if identity_id is None else CARRIED.where(IDENTIFIERS.c.identity_id == identity_id)
    rows = unit.session.connection().execute(query, {"pairs": list(identifiers.items())})
    return [(row.identity_id, row.id_type) for row in rows]


def _answer(
    unit: Unit,
    submission: Submission,
    identity: FederalIdentityRow | None,
    matched_on: list[str],
    occurred: datetime | None = None,
) -> None:
    data = submission.data
    when = occurred or unit.clock.now()
    answer: dict[str, Any] = {"booking_id": data["booking_id"], "agency": data["agency"], "hit": identity is not None}
    if identity is not None:
        _link(unit, identity, submission)
        sheet = rap_sheet(unit, submission)
        answer.update(identity_id=identity.id, matched_on=matched_on, record=identity.record, rap_sheet=sheet)
        unit.emit(
            Event(
                "IdentityMatched",
                "booking",
                data["booking_id"],
                when,
                {
                    "identity_id": identity.id,
                    "matched_on": matched_on,
                    "agency": data["agency"],
                    "booking_number": data["booking_number"],
                    "person": data["person"],
                    "charges": data["charges"],
                    "convictions": data["convictions"],
                    "federal_record": identity.record,
                    "rap_sheet": sheet,
                },
            ),
            FEDERAL_CHAIN,
        )
    unit.emit(
        Event(
            "IdentificationResponded", "booking", data["booking_id"], when, answer, to_party=local_party(data["agency"])
        ),
        FEDERAL_CHAIN,
    )


def _link(unit: Unit, identity: FederalIdentityRow, submission: Submission) -> None:
    """The booking belongs to the identity; a name the identity was not known by becomes an alias.
    A booking linked until now to its own kept prints (an encounter) leaves them merged into the
    identity: a later search that finds them offers that identity (found by a review: the encounter,
    closest to the person's own prints, was offered first, and confirming it lost the record)."""
    previous = submission.identity_id
    if previous is not None and previous != identity.id:
        unit.session.connection().execute(
            update(IDENTITIES)
            .where(IDENTITIES.c.id == previous, IDENTITIES.c.retained_from == submission.booking_id)
            .values(merged_into=identity.id)
        )
    submission.identity_id = identity.id
    unit.session.connection().execute(LINK, {"booking": submission.booking_id, "identity": identity.id})
    person = submission.data["person"]
    known = {n.casefold() for n in [*identity.names, *identity.aliases]}
    given = [_booked_name(person), *person.get("aliases", [])]
    added = [n for n in dict.fromkeys(given) if n.casefold() not in known]
    if added:
        identity.aliases = [*identity.aliases, *added]
    unit.emit(
        Event(
            "IdentityLinked",
            "identity",
            identity.id,
            unit.clock.now(),
            {"booking_id": submission.booking_id, "aliases_added": added},
        ),
        FEDERAL_CHAIN,
    )


# The rap sheet's query, built once: the bookings received before this one of the same identity or
# carrying any of the same identifiers, each with whom it is linked to and whether an examiner has
# still to decide it. Building it at every hit was most of its cost (issue 8).
RAP_SHEET = (
    select(
        SUBMISSIONS.c.booking_id,
        SUBMISSIONS.c.agency,
        SUBMISSIONS.c.data,
        SUBMISSIONS.c.identity_id,
        exists()
        .where(
            IDENTIFICATIONS.c.booking_id == SUBMISSIONS.c.booking_id,
            IDENTIFICATIONS.c.state == IdentificationState.awaiting_examiner.value,
        )
        .label("awaiting_examiner"),
    )
    .where(
        SUBMISSIONS.c.booking_id.in_(
            union(
                select(SUBMISSIONS.c.booking_id).where(SUBMISSIONS.c.identity_id == bindparam("identity")),
                select(SUBMISSION_IDENTIFIERS.c.booking_id).where(
                    tuple_(SUBMISSION_IDENTIFIERS.c.id_type, SUBMISSION_IDENTIFIERS.c.value).in_(
                        bindparam("pairs", expanding=True)
                    )
                ),
            )
        ),
        SUBMISSIONS.c.booked_at < bindparam("before", type_=SUBMISSIONS.c.booked_at.type),
        SUBMISSIONS.c.booking_id != bindparam("booking"),
    )
    .order_by(SUBMISSIONS.c.booked_at)
)


def rap_sheet(unit: Unit, submission: Received) -> list[dict[str, Any]]:
    """The earlier submissions the federal side received for the same person: the bookings that make
    up the record it sends back, oldest first. A booking is the person's when it is linked to the
    same identity, or when it shares an identifier and is linked to no one (its identifiers named no
    one then) with no examiner left to decide; never when it is linked to someone else (found by a
    review: a booking an examiner ruled was not the person, kept as its own encounter, was on their
    rap sheet through the FBI number it carried, and so was one still awaiting the examiner).

    One query, through the identity and identifier indexes only: its cost follows the person's
    own bookings, not the number of submissions the federal side holds. Whose a booking is is
    decided on the rows read: in the query, SQLite read every booking linked to no one instead."""
    pairs = list(submission.data["person"]["identifiers"].items())
    if submission.identity_id is None and not pairs:
        return []
    earlier = unit.session.connection().execute(
        RAP_SHEET,
        {
            "identity": submission.identity_id,  # None matches no row: the identifiers alone decide
            "pairs": pairs,
            "before": submission.booked_at,
            "booking": submission.booking_id,
        },
    )
    return [
        {
            "booking_id": row.booking_id,
            "agency": row.agency,
            "booked_at": row.data["booked_at"],
            "charges": row.data["charges"],
        }
        for row in earlier
        if row.identity_id == submission.identity_id or (row.identity_id is None and not row.awaiting_examiner)
    ]


def identification_summary(row: IdentificationRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "booking_id": row.booking_id,
        "agency": row.agency,
        "state": row.state,
        "candidates": row.candidates,
        "threshold": row.threshold,
        "searched_at": row.searched_at.isoformat(),
        "identity_id": row.identity_id,
        "examiner": row.examiner,
        "reason": row.reason,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
    }


def identifications(
    unit: Unit, limit: int, offset: int, state: str | None = None, where: ColumnElement[bool] | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """Identifications oldest first (the examiner's queue with ``state='awaiting_examiner'``)."""
    query = select(IdentificationRow).where(true() if where is None else where)
    if state:
        if state not in set(IdentificationState):
            raise InvalidInput(f"state {state!r}: choose one of {', '.join(IdentificationState)}")
        query = query.where(IdentificationRow.state == state)
    total, rows = page(unit.session, query, limit, offset, IdentificationRow.searched_at, IdentificationRow.id)
    return total, [identification_summary(r) for r in rows]


def record_identifications(unit: Unit, answers: list[dict[str, Any]]) -> None:
    """The agency records the federal answers on its bookings: one read of the chains to record them
    on and one UPDATE for all. A booking this transaction has already loaded is given the identity
    as well, as if it had been read after the update."""
    unit.session.flush()  # a booking only added to the session so far is in the table
    ids = list(dict.fromkeys(a["booking_id"] for a in answers))
    chains: dict[str, str] = {}
    connection = unit.session.connection()
    for i in range(0, len(ids), CHUNK):
        query = select(BOOKINGS.c.id, BOOKINGS.c.booking_agency).where(BOOKINGS.c.id.in_(ids[i : i + CHUNK]))
        chains.update((booking_id, agency) for booking_id, agency in connection.execute(query))
    missing = [i for i in ids if i not in chains]
    if missing:
        raise NotFound(f"no booking '{missing[0]}' for this identification response")
    connection.execute(
        RECORD_IDENTITY, [{"booking": a["booking_id"], "identity": a.get("identity_id")} for a in answers]
    )
    for data in answers:
        booking_id, identity_id = data["booking_id"], data.get("identity_id")
        loaded = unit.session.identity_map.get(identity_key(BookingRow, booking_id))
        if loaded is not None:
            set_committed_value(loaded, "identity_id", identity_id)
        unit.emit(
            Event(
                "IdentificationReceived",
                "booking",
                booking_id,
                unit.clock.now(),
                {"hit": data["hit"], "identity_id": identity_id},
            ),
            chains[booking_id],
        )
