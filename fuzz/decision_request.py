"""Fuzz the DecisionRequest parser and the decision behind it: ``facts_from_request`` and
``engine.decide`` on JSON documents edited structurally (see ``fuzz/_json_edits.py``).

Expected refusal: ``CustodyError`` (``InvalidInput``: the API answers it 422 with problem+json).
Crashes are any other exception, and two contract breaks: the fast validator (fastjsonschema)
accepting a document that jsonschema, the authority for the contract, refuses; and a Decision that
does not satisfy decision.schema.json.
"""

from __future__ import annotations

from typing import Any

from fuzz._common import instrumented, main
from fuzz._json_edits import SKIP, document
from fuzz.known import passing_known

with instrumented(__name__ == "__main__", ["custody.law", "custody.domain"]):
    from custody.domain.errors import CustodyError
    from custody.law.contract import facts_from_request, validate
    from custody.law.engine import decide
    from custody.law.loader import default_library

NAME = "decision_request"
EXPECTED: tuple[type[BaseException], ...] = (CustodyError,)
LIBRARY = default_library()

KEYS = [
    "agency", "on", "request", "person", "form", "actions", "warrant", "issued_on", "reimbursement_agreement",
    "consent_to_interview", "age", "convictions", "pending_charges", "offense", "statute", "level", "degree",
    "date", "released_on", "violent", "serious", "juvenile", "gang_database", "agency_kind",
    "agency_agreements", "custody", "status", "basis", "release_info_public",
]  # fmt: skip
PALETTE: list[Any] = [
    None, True, False, 0, -1, 131, 2**63, 1e308, 0.5, "", [], {},
    "2017-08-16", "2016-02-29", "2017-02-29", "0001-01-01", "0009-12-31", "9999-12-31", "2017-W33-3", "2017-228",
    "20170816", "2017-08-16T00:00:00", "2017-8-16",
    "ocd-division/country:us", "ocd-division/country:us/state:il/county:cook",
    "ocd-division/country:us/state:il/place:chicago", "ocd-division/country:us/state:fl/county:miami-dade",
    "ocd-division/country:us/state:ca/county:santa_clara", "ocd-division/country:us/state:zz",
    "ocd-division/country:us/state:tx/county:travis/place:austin", "ocd-division/country:us/state:or/county:multnomah",
    "I-247", "I-247D", "I-247N", "I-247X", "I-247A", "hold", "notify", "transfer", "share_info", "access",
    ["hold", "notify", "transfer", "share_info", "access"], "none", "administrative", "judicial_criminal",
    "judicial_order", "felony", "misdemeanor", "infraction", "jail", "police", "prison", "probation", "court",
    "287g_jail_model", "pretrial", "serving_sentence", "Cal. Penal Code 187", "720 ILCS 5/9-1", "murder",
    {"offense": "murder", "level": "felony", "date": "0001-01-01", "violent": True, "serious": True},
    {"offense": "theft", "level": "misdemeanor", "statute": "Cal. Penal Code 487", "degree": "2"},
]  # fmt: skip


def check(data: bytes) -> None:
    doc = document(data, PALETTE, KEYS)
    if doc is SKIP:
        return
    try:
        facts_from_request(doc)
    except EXPECTED:
        pass
    else:
        try:
            validate("decision-request", doc)
        except CustodyError as exc:
            raise AssertionError(f"fastjsonschema accepted what jsonschema refuses: {exc.detail}") from None
    try:
        decision = decide(doc, LIBRARY)
    except EXPECTED:
        return
    try:
        validate("decision", decision.to_contract())
    except CustodyError as exc:
        raise AssertionError(f"the Decision breaks decision.schema.json: {exc.detail}") from None


test_one_input = passing_known(NAME, check)

if __name__ == "__main__":
    main(test_one_input)
