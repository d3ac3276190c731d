"""custody keeps its own copy of the decision contracts; it must equal the shared original."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custody.domain.errors import InvalidInput
from custody.law.contract import CONTRACTS, facts_from_request, validate
from tests.conftest import need_shared


def test_the_packaged_contracts_equal_the_shared_ones() -> None:
    shared = need_shared() / "contracts"
    for name in ("decision-request.schema.json", "decision.schema.json"):
        assert json.loads((CONTRACTS / name).read_text()) == json.loads((shared / name).read_text()), name


def test_each_packaged_contract_matches_the_checksum_in_its_provenance() -> None:
    """Runs without ../shared too: the copies are the files whose checksums PROVENANCE.md records."""
    provenance = (CONTRACTS / "PROVENANCE.md").read_text(encoding="utf-8")
    recorded = dict(re.findall(r"^\| `([^`]+\.json)` \| `([0-9a-f]{64})` \|$", provenance, re.MULTILINE))
    assert set(recorded) == {p.name for p in CONTRACTS.glob("*.json")}
    for name, digest in recorded.items():
        assert hashlib.sha256((CONTRACTS / name).read_bytes()).hexdigest() == digest, name


_valid = {
    "agency": "ocd-division/country:us/state:il/county:cook",
    "on": "2017-08-16",
    "request": {"form": "I-247A", "actions": ["hold"], "warrant": "administrative"},
    "person": {"convictions": [{"offense": "x", "level": "felony", "date": "2010-01-01"}], "pending_charges": []},
}
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 200)
    # 2017-W33-3: a week date Python's date.fromisoformat takes and JSON Schema's "date" does not (a review)
    | st.sampled_from(["", "2017-02-30", "2017-08-16", "2017-W33-3", "2017-08-1\uff16", "felony", "hold", "I-247A"])
    | st.sampled_from(["ocd-division/country:us", "x" * 3]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["offense", "level", "a"]), children, max_size=2)
    ),
    max_leaves=5,
)
_paths = st.sampled_from(
    [
        ("agency",),
        ("on",),
        ("request", "form"),
        ("request", "actions"),
        ("request", "warrant"),
        ("request", "issued_on"),
        ("person", "convictions"),
        ("person", "age"),
        ("person", "gang_database"),
        ("agency_kind",),
        ("custody",),
        ("extra",),
        ("person", "convictions", 0, "date"),
        ("person", "convictions", 0, "level"),
        ("request", "reimbursement_agreement"),
    ]
)


@settings(max_examples=400, deadline=None)
@given(_paths, _json_values)
def test_the_fast_validator_agrees_with_jsonschema(path: tuple[Any, ...], value: Any) -> None:
    """The hot path's compiled validator accepts exactly what the reference validator accepts."""
    doc = copy.deepcopy(_valid)
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        validate("decision-request", doc)
        reference_ok = True
    except InvalidInput:
        reference_ok = False
    try:
        facts_from_request(doc)
        fast_ok = True
    except InvalidInput as exc:
        fast_ok = "not a US state, county or place" in exc.detail or "names no state" in exc.detail
        if fast_ok:
            return  # refused by custody's own division rule after schema validation: not a schema disagreement
    assert fast_ok == reference_ok, (path, value)


@pytest.mark.parametrize("path", [("on",), ("request", "issued_on"), ("person", "convictions", 0, "date")])
@pytest.mark.parametrize("written", ["2017-W33-3", "2017-08-1\uff16", "20170816"])
def test_a_date_is_written_yyyy_mm_dd_and_nothing_else(path: tuple[Any, ...], written: str) -> None:
    """Found by a review: Python 3.11's date.fromisoformat takes the week date 2017-W33-3 (16 Aug
    2017), so the fast validator let it through where the contract's "date" format refuses it, and
    an invalid request was decided (exit 0) instead of refused (exit 2)."""
    doc = copy.deepcopy(_valid)
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = written
    with pytest.raises(InvalidInput, match="is not a 'date' that exists; write YYYY-MM-DD"):
        facts_from_request(doc)
