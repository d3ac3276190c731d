"""Properties every decision keeps, over generated requests across the library's jurisdictions."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from custody.law.contract import validate
from custody.law.engine import decide

AGENCIES = [
    "ocd-division/country:us/state:il/county:cook",
    "ocd-division/country:us/state:il/place:chicago",
    "ocd-division/country:us/state:il/county:lake",
    "ocd-division/country:us/state:fl/county:miami-dade",
    "ocd-division/country:us/state:fl/place:miami",
    "ocd-division/country:us/state:tx/county:harris",
    "ocd-division/country:us/state:tx/place:austin",
]
FORM_PERIODS = {
    "I-247": (date(2010, 1, 1), date(2015, 7, 1)),
    "I-247D": (date(2015, 7, 2), date(2017, 4, 1)),
    "I-247N": (date(2015, 7, 2), date(2017, 4, 1)),
    "I-247A": (date(2017, 4, 2), date(2026, 11, 1)),
}
offenses = st.fixed_dictionaries(
    {
        "offense": st.sampled_from(["theft", "burglary", "assault"]),
        "level": st.sampled_from(["felony", "misdemeanor", "infraction"]),
    },
    optional={"violent": st.booleans(), "serious": st.booleans()},
)


@st.composite
def requests(draw: st.DrawFn, warrant: st.SearchStrategy[str] | None = None) -> dict[str, Any]:
    form = draw(st.sampled_from(sorted(FORM_PERIODS)))
    start, end = FORM_PERIODS[form]
    on = draw(st.dates(min_value=start, max_value=end))
    return {
        "agency": draw(st.sampled_from(AGENCIES)),
        "on": on.isoformat(),
        "request": {
            "form": form,
            "actions": draw(
                st.lists(
                    st.sampled_from(["hold", "notify", "transfer", "share_info", "access"]),
                    min_size=1,
                    max_size=5,
                    unique=True,
                )
            ),
            "warrant": draw(
                warrant
                if warrant is not None
                else st.sampled_from(["none", "administrative", "judicial_criminal", "judicial_order"])
            ),
            "reimbursement_agreement": draw(st.booleans()),
        },
        "person": {
            "convictions": draw(st.lists(offenses, max_size=2)),
            "pending_charges": draw(st.lists(offenses, max_size=2)),
            "outstanding_criminal_warrant": draw(st.booleans()),
            "gang_database": draw(st.booleans()),
        },
    }


@settings(max_examples=300, deadline=None)
@given(requests())
def test_every_decided_action_is_cited_and_no_prohibition_allows_hours(doc: dict[str, Any]) -> None:
    decision = decide(doc).to_contract()
    validate("decision", decision)
    for action, ruling in decision["actions"].items():
        if ruling["status"] != "undetermined":
            assert ruling["citations"], (action, ruling)
            assert ruling["rules"], (action, ruling)
        else:
            assert ruling["missing"], (action, ruling)
        if ruling["status"] == "prohibited":
            assert ruling.get("max_hours", 0) == 0


@settings(max_examples=200, deadline=None)
@given(requests(warrant=st.sampled_from(["none", "administrative"])))
def test_a_judicial_warrant_never_turns_permitted_into_prohibited(doc: dict[str, Any]) -> None:
    before = decide(doc).to_contract()["actions"]
    for warrant in ("judicial_criminal", "judicial_order"):
        after = decide({**doc, "request": {**doc["request"], "warrant": warrant}}).to_contract()["actions"]
        for action, ruling in before.items():
            if ruling["status"] == "permitted":
                assert after[action]["status"] != "prohibited", (action, warrant, after[action])


@settings(max_examples=100, deadline=None)
@given(requests())
def test_the_same_request_always_gets_the_same_answer(doc: dict[str, Any]) -> None:
    first, second = decide(doc).to_contract(), decide(doc).to_contract()
    assert first["law_revision"] == second["law_revision"]
    assert first["actions"] == second["actions"]
    assert first["decision_id"] != second["decision_id"], "each decision is logged under its own id"
