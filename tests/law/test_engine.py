"""The engine's fast path gives the answer the rules give: a decision kept and reused for the same
verdicts equals one worked out afresh (as `custody law explain` re-evaluates), trace included, over
requests across every jurisdiction of the library; the law in force changes on exactly the dates
the instruments say; and the request the caller passed is never changed."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custody.domain.errors import InvalidInput
from custody.law import engine
from custody.law.engine import decide
from custody.law.loader import default_library, load_library
from tests.law.scratch_library import RULE, write_library

_LIBRARY = default_library()
DIVISIONS = sorted({d.id for d in _LIBRARY.jurisdictions if d.state})
# Agencies of governments with no law of their own in the library: state and federal law decide.
DIVISIONS += [d + other for d in DIVISIONS if d.count("/") == 2 for other in ("/county:elsewhere", "/place:elsewhere")]
STATUTES = sorted({s for offense_list in _LIBRARY.offense_lists.values() for s in offense_list.statutes[:3]})
ACTIONS = ["hold", "notify", "transfer", "share_info", "access"]
# the detainer and notification forms, each over the days it could be issued (the library's forms)
FORM_PERIODS = {
    name: _LIBRARY.forms[name].issue_dates(date(2010, 1, 1), date(2026, 11, 1))
    for name in ("I-247", "I-247D", "I-247N", "I-247A")
}
ISO_DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2017, 1, 1)).map(date.isoformat)
offenses = st.fixed_dictionaries(
    {"offense": st.just("offense"), "level": st.sampled_from(["felony", "misdemeanor", "infraction"])},
    optional={
        "statute": st.sampled_from([*STATUTES, "Unlisted Code 1"]),
        "degree": st.sampled_from(["1", "2", "3"]),
        "violent": st.booleans(),
        "serious": st.booleans(),
        "date": ISO_DATES,
        "released_on": ISO_DATES,
    },
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """DecisionRequests across every division of the library, with facts given or left missing."""
    form = draw(st.sampled_from(sorted(FORM_PERIODS)))
    start, end = FORM_PERIODS[form]
    doc: dict[str, Any] = {
        "agency": draw(st.sampled_from(DIVISIONS)),
        "on": draw(st.dates(min_value=start, max_value=end)).isoformat(),
        "request": {
            "form": form,
            "actions": draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=5, unique=True)),
            "warrant": draw(st.sampled_from(["none", "administrative", "judicial_criminal", "judicial_order"])),
        },
        "person": draw(
            st.fixed_dictionaries(
                {"convictions": st.lists(offenses, max_size=2), "pending_charges": st.lists(offenses, max_size=2)},
                optional={"registered_sex_offender": st.booleans(), "prior_removal_and_reentry": st.booleans()},
            )
        ),
    }
    optional = {
        "agency_kind": st.sampled_from(["jail", "police", "prison", "probation", "court"]),
        "agency_agreements": st.lists(st.sampled_from(["287g_jail_model", "287g_task_force"]), unique=True),
        "custody": st.fixed_dictionaries({"status": st.sampled_from(["pretrial", "serving_sentence", "other"])}),
        "release_info_public": st.booleans(),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            doc[key] = draw(strategy)
    for offense in [*doc["person"]["convictions"], *doc["person"]["pending_charges"]]:
        # possible facts only: nothing after the decision, no release before its conviction
        if offense.get("date", "") > doc["on"]:
            offense["date"] = doc["on"]
        if "released_on" in offense:
            offense["released_on"] = min(max(offense["released_on"], offense.get("date", "")), doc["on"])
    return doc


@settings(max_examples=300, deadline=None)
@given(requests())
def test_a_kept_decision_equals_the_decision_worked_out_afresh_trace_included(doc: dict[str, Any]) -> None:
    decide(doc)  # the second decision of the same facts is served from the kept decisions
    kept = decide(doc)
    fresh = decide(doc, decision_id=kept.decision_id, fresh=True)
    assert kept.to_contract() == fresh.to_contract()
    assert kept.trace() == fresh.trace()


@settings(max_examples=200, deadline=None)
@given(requests())
def test_each_decided_action_rests_on_steps_of_its_trace(doc: dict[str, Any]) -> None:
    decision = decide(doc)
    trace = decision.trace()
    for action, ruling in decision.to_contract()["actions"].items():
        steps = trace["actions"][action]
        if ruling["status"] == "undetermined":
            continue
        assert set(ruling["citations"]) <= {c for s in steps for c in s["citations"]}, (ruling, steps)
        deciding = [s for s in steps if s["fired"] is not False and ruling["status"] in s["effects"]]
        assert deciding, (ruling, steps)


LAW_OF_2015 = RULE.replace(
    "  effective_from: 2015-01-01\n", "  effective_from: 2015-01-01\n  effective_to: 2016-01-01\n"
)


@pytest.mark.parametrize(
    ("on", "status"),
    # In date order and back again, so a plan made for one stretch of dates is never reused for another.
    [
        ("2014-12-31", "undetermined"),
        ("2015-01-01", "prohibited"),
        ("2015-12-31", "prohibited"),
        ("2016-01-01", "undetermined"),
        ("2015-06-01", "prohibited"),
        ("2014-06-01", "undetermined"),
    ],
)
def test_the_law_in_force_changes_on_the_day_an_instrument_takes_effect_or_ends(
    scratch: Any, on: str, status: str
) -> None:
    doc = {
        "agency": "ocd-division/country:us/state:ca/county:x",
        "on": on,
        "request": {"form": "I-247", "actions": ["hold"], "warrant": "administrative"},
        "person": {"convictions": [], "pending_charges": []},
    }
    decision = decide(doc, scratch)
    assert decision.to_contract()["actions"]["hold"]["status"] == status
    (considered,) = [s for s in decision.trace()["instruments"] if s["instrument"] == "test-ordinance"]
    assert (considered["why"] == "binds this agency") == (status == "prohibited"), considered


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("library")
    write_library(root, {"law.yaml": LAW_OF_2015}, state="ca")
    forms = "forms:\n  - {name: I-247, title: t, citation: c, requires_administrative_warrant: true}\n"
    (root / "ocd-division" / "country:us" / "forms.yaml").write_text(forms)
    return load_library(root)


@settings(max_examples=100, deadline=None)
@given(requests())
def test_deciding_never_changes_the_request_passed_in(doc: dict[str, Any]) -> None:
    before = copy.deepcopy(doc)
    decide(doc)
    assert doc == before, "defaults are read, never written into the caller's request"


@pytest.mark.parametrize(
    ("field", "value"),
    [(("request", "actions"), ["hold", "notify", "hold"]), (("agency_agreements",), ["287g_task_force"] * 2)],
)
def test_a_list_of_names_with_a_repeat_is_refused_with_the_schema_message(field: tuple[str, ...], value: Any) -> None:
    doc: dict[str, Any] = {
        "agency": "ocd-division/country:us/state:il/county:cook",
        "on": "2017-08-16",
        "request": {"form": "I-247A", "actions": ["hold"], "warrant": "administrative"},
        "person": {"convictions": [], "pending_charges": []},
    }
    target = doc
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    with pytest.raises(InvalidInput, match=f"{'/'.join(field)}: .* has non-unique elements"):
        decide(doc)


def test_kept_decisions_are_bounded_and_still_right(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {
        "agency": "ocd-division/country:us/state:ca/county:santa_clara",
        "on": "2018-06-01",
        "request": {"form": "I-247A", "actions": ["hold", "notify", "transfer"], "warrant": "administrative"},
        "person": {"convictions": [], "pending_charges": []},
    }
    monkeypatch.setattr(engine, "_KEPT_DECISIONS", 2)
    first = decide(doc).to_contract()["actions"]
    assert len(engine._decided) <= 2
    assert decide(doc, fresh=True).to_contract()["actions"] == first == decide(doc).to_contract()["actions"]


def test_an_offense_condition_the_engine_cannot_read_is_refused_when_the_library_loads(tmp_path: Path) -> None:
    for index, (when, message) in enumerate(
        [
            ("{conviction: {colour: red}}", r"unknown properties \['colour'\]"),
            ("{conviction: {level: felony, within_years: many}}", "within_years must be a whole number"),
            ("{conviction_flagged: {level: felony}}", "needs 'flags'"),
            ("{conviction: {in_list: nowhere}}", "unknown offense list 'nowhere'"),
        ]
    ):
        law = RULE.replace("when: {warrant_in: [judicial_criminal]}", f"when: {when}")
        root = write_library(tmp_path / str(index), {"law.yaml": law})
        with pytest.raises(InvalidInput, match=rf"law\.yaml rule test-1-1-a exception test-1-1-b: .*{message}"):
            load_library(root)


def test_a_forms_period_reads_as_the_library_gives_it() -> None:
    """A refusal names when the form could be issued: an open start is "until", an open end "from"."""
    forms = default_library().forms
    assert forms["I-247"].period() == "until 2015-07-01"
    assert forms["I-247D"].period() == "from 2015-07-02 to 2017-04-01"
    assert forms["I-247A"].period() == "from 2017-04-02"


@pytest.mark.parametrize(
    ("group", "offense", "refusal"),
    [
        ("convictions", {"date": "2017-08-17"}, r"person.convictions\[0\].date 2017-08-17 is after the decision date"),
        ("pending_charges", {"date": "2018-01-01"}, r"person.pending_charges\[0\].date 2018-01-01 is after"),
        ("convictions", {"date": "2010-01-01", "released_on": "2009-12-31"}, "is before its date 2010-01-01"),
        ("convictions", {"date": "2010-01-01", "released_on": "2019-01-01"}, "released_on 2019-01-01 is after"),
    ],
)
def test_impossible_dates_are_refused_not_decided(group: str, offense: dict[str, str], refusal: str) -> None:
    """A conviction after the decision would otherwise count as 'within five years' (issue 2, §9)."""
    doc = {
        "agency": "ocd-division/country:us/state:il/place:chicago",
        "on": "2017-08-16",
        "request": {"form": "I-247A", "actions": ["hold"], "warrant": "administrative"},
        "person": {"convictions": [], "pending_charges": [], group: [{"offense": "b", "level": "felony", **offense}]},
    }
    with pytest.raises(InvalidInput, match=refusal):
        decide(doc)
    doc["person"][group][0] = {"offense": "b", "level": "felony", "date": "2017-08-16"}  # the same day is possible
    assert decide(doc).to_contract()["actions"]["hold"]["status"]


def test_what_an_undetermined_decision_lacks_is_said_as_facts_to_give_or_law_to_settle() -> None:
    """Found by a review: a question of law (an `unsettled` condition) was called a missing fact to
    record, in the refusal to honor and in the withheld field's explanation alike."""
    from custody.law.engine import missing_in_words

    both = missing_in_words(["person.convictions[].violent", "law:whether X lets Y"])
    assert "facts that were not given (person.convictions[].violent); give them and ask again" in both
    assert "law custody does not settle (whether X lets Y)" in both and "no fact given here settles it" in both
    assert "give them" not in missing_in_words(["law:whether X lets Y"])
