"""What the federal side may see of a booking, decided by the agency's own law.

Three fields are sensitive: the release date and the custody status (telling the federal side
when a person goes free is the ``notify`` action) and the address (non-public personal
information is ``share_info``). For each booking the law engine decides those actions for the
agency holding the person on the booking's date, exactly as it decides a federal request:

- prohibited: withheld, naming the provision;
- required: shared, naming the provision that requires it;
- permitted: shared, unless the agency declined that action in its answer to a request for this
  person (then withheld, naming the permission it declined under);
- undetermined (the law turns on a fact not on file): withheld until the facts are known.

The decision is not logged: it is re-derived on every read from the logged law revision, so a
change in the library changes what is shown, and the response carries the revision it used.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from custody.booking.model import PERSON_FLAGS
from custody.domain.divisions import local_zone, parse_division
from custody.law.engine import decide, missing_in_words
from custody.law.loader import default_library
from custody.law.model import Action
from custody.requests.model import Warrant
from custody.store.models import BookingRow, FederalRequestRow

# Field group -> the action that governs it, and the keys of a booking view it covers.
FIELDS: dict[str, tuple[Action, tuple[str, ...]]] = {
    "release_date": (Action.notify, ("release_eligible_at", "left_custody_at", "release_planned_at")),
    "custody_status": (Action.notify, ("state", "holds")),
    "address": (Action.share_info, ("address",)),
}
# Detainer forms by preference when no request names one: the form in use on the date applies.
_FORMS = ("I-247A", "I-247D", "I-247")


@dataclass(frozen=True)
class Ruling:
    field: str
    action: str
    status: str
    shared: bool
    citations: list[str]
    explanation: str
    basis: str  # "law" or "agency answer"


@dataclass(frozen=True)
class Sharing:
    agency: str
    on: str
    law_revision: str
    form: str
    warrant: str
    rulings: dict[str, Ruling]

    @property
    def withheld(self) -> dict[str, Ruling]:
        return {k: r for k, r in self.rulings.items() if not r.shared}

    def to_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "on": self.on,
            "law_revision": self.law_revision,
            "asked_as": {"form": self.form, "warrant": self.warrant, "actions": ["notify", "share_info"]},
            "withheld": {k: asdict(r) for k, r in self.withheld.items()},
            "shared": {k: asdict(r) for k, r in self.rulings.items() if r.shared},
        }


def _local_day(division: str, moment: datetime) -> date:
    return moment.astimezone(local_zone(parse_division(division))).date()


def decision_document(booking: BookingRow, request: FederalRequestRow | None) -> dict[str, Any]:
    """The DecisionRequest for ``notify`` and ``share_info`` on this person, at the holding agency,
    on the booking's local date or, if later, the day the latest request was issued (a request is
    often issued days after the booking, and the law cannot be asked about a request not yet made);
    the latest request's form and warrant if there is one."""
    on = _local_day(booking.agency, booking.booked_at)
    if request is not None:
        on = max(on, _local_day(booking.agency, request.issued_at))
    library = default_library()
    if request is not None:
        form, warrant = request.form, Warrant(request.warrant).contract
    else:
        form = next((f for f in _FORMS if f in library.forms and library.forms[f].in_use(on)), "I-247A")
        warrant = "administrative" if library.forms[form].requires_administrative_warrant else "none"
    person = booking.person
    dob = date.fromisoformat(person["date_of_birth"])
    age = max(on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day)), 0)
    return {
        "agency": booking.agency,
        "on": on.isoformat(),
        "agency_kind": booking.agency_kind,
        "request": {
            "form": form,
            "actions": [Action.notify.value, Action.share_info.value],
            "warrant": warrant,
            "issued_on": _local_day(booking.agency, request.issued_at).isoformat() if request else on.isoformat(),
        },
        "person": {
            "age": age,
            "convictions": booking.convictions,
            "pending_charges": booking.charges,
            "juvenile": age < 18,
            **{flag: bool(person.get(flag, False)) for flag in PERSON_FLAGS},
        },
        "custody": {"status": "pretrial"},
    }


@lru_cache(maxsize=1024)
def _decide(document: str) -> dict[str, Any]:
    return decide(json.loads(document)).to_contract()


def sharing_for(booking: BookingRow, requests: list[FederalRequestRow]) -> Sharing:
    latest = max(requests, key=lambda r: r.issued_at) if requests else None
    document = decision_document(booking, latest)
    decision = _decide(json.dumps(document, sort_keys=True, default=str))
    declined = {
        action
        for r in requests
        for action, answer in ((r.response or {}).get("answers") or {}).items()
        if answer.get("answer") == "decline"
    }
    rulings = {}
    for name, (action, _) in FIELDS.items():
        ruling = decision["actions"][action.value]
        status = ruling["status"]
        shared, basis, explanation = status in ("required", "permitted"), "law", ruling["explanation"]
        if status == "permitted" and action.value in declined:
            shared, basis = False, "agency answer"
            explanation = f"The agency declined '{action.value}' in its answer, as the law permits it to. {explanation}"
        elif status == "undetermined":
            explanation = (
                f"Withheld while the decision turns on {missing_in_words(ruling.get('missing', []))}. {explanation}"
            )
        rulings[name] = Ruling(name, action.value, status, shared, list(ruling["citations"]), explanation, basis)
    return Sharing(
        agency=booking.agency,
        on=document["on"],
        law_revision=decision["law_revision"],
        form=document["request"]["form"],
        warrant=document["request"]["warrant"],
        rulings=rulings,
    )


def redact(view: dict[str, Any], sharing: Sharing) -> dict[str, Any]:
    """A booking view (or summary) as the federal side may see it: withheld keys are null, and
    ``sharing`` says which provision withheld or required each field."""
    out = dict(view)
    person = dict(out.get("person") or {})
    for name, ruling in sharing.rulings.items():
        for key in FIELDS[name][1]:
            if key == "address":
                if "person" in out:
                    person["address"] = None if not ruling.shared else person.get("address")
            elif key in out and not ruling.shared:
                out[key] = [] if isinstance(out[key], list) else None
    if "person" in out:
        out["person"] = person
    if "requests" in out:
        out["requests"] = [as_federal_side_sees(r) for r in out["requests"]]
    out["sharing"] = sharing.to_json()
    return out


# What the federal side is told of a request's life: it issues and cancels requests, and receives
# the agency's answer, the hold's start and lapse, the hand-over, and the release only where the
# answer honored a notice. "closed" is the agency's own record that the person left without hold
# or hand-over: shown to a federal officer, it would tell the release the law let the agency keep
# to itself (found by an audit: Cook County's withheld custody status read off "closed").
# Nor is it told that the agency withheld a notice: the agency marks its answer so when a release is
# scheduled or reached, so the mark would tell the very release it withheld (found by a review).
AGENCY_ONLY_RESPONSE_KEYS = ("notice_withheld",)


def as_federal_side_sees(request: dict[str, Any]) -> dict[str, Any]:
    response = request.get("response")
    if isinstance(response, dict) and any(k in response for k in AGENCY_ONLY_RESPONSE_KEYS):
        request = {**request, "response": {k: v for k, v in response.items() if k not in AGENCY_ONLY_RESPONSE_KEYS}}
    if request.get("state") != "closed" or _notice_honored(request):
        return request
    return {**request, "state": "responded"}


def _notice_honored(request: dict[str, Any]) -> bool:
    answer = ((request.get("response") or {}).get("answers") or {}).get(Action.notify.value) or {}
    return bool(answer.get("answer") == "honor")
