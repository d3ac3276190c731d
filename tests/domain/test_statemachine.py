"""The transition tables: every listed transition works, every other one is refused, and the
diagrams in docs/ are the tables themselves."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from custody.booking.model import CUSTODY, CustodyState
from custody.docs import write_generated
from custody.domain.errors import IllegalTransition
from custody.domain.statemachine import StateMachine
from custody.requests.model import REQUEST, RequestState

MACHINES: list[tuple[StateMachine[Any], type[StrEnum]]] = [(CUSTODY, CustodyState), (REQUEST, RequestState)]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "state-machines.md"


def _all_pairs() -> list[Any]:
    pairs = []
    for machine, states in MACHINES:
        for state in states:
            for event in sorted(machine.events()):
                pairs.append(pytest.param(machine, state, event, id=f"{machine.name}:{state.value}:{event}"))
    return pairs


@pytest.mark.parametrize(("machine", "state", "event"), _all_pairs())
def test_each_transition_is_allowed_only_where_the_table_lists_it(
    machine: StateMachine[Any], state: StrEnum, event: str
) -> None:
    target = machine.transitions.get((state, event))
    if target is None:
        with pytest.raises(IllegalTransition, match=f"'{event.replace('_', ' ')}' cannot happen now"):
            machine.fire(state, event)
    else:
        assert machine.fire(state, event) == target


def test_a_refusal_is_worded_as_an_officer_says_it() -> None:
    with pytest.raises(IllegalTransition) as refused:
        CUSTODY.fire(CustodyState.in_custody, "lapse_hold")
    assert str(refused.value) == (
        "the booking is in custody: 'lapse hold' cannot happen now (allowed now: move to agency, release, "
        "schedule release, transfer to federal; by itself, as messages and timers come: start hold)"
    )
    # Found by a review: an officer was offered "receive" for a request still on its way to the jail.
    with pytest.raises(IllegalTransition) as refused:
        REQUEST.fire(RequestState.issued, "respond")
    assert str(refused.value).endswith("(allowed now: cancel; by itself, as messages and timers come: receive)")


def test_terminal_states_allow_nothing() -> None:
    for state in (CustodyState.released, CustodyState.transferred):
        with pytest.raises(IllegalTransition, match="nothing further can happen to it"):
            CUSTODY.fire(state, "release")
    for req_state in (RequestState.fulfilled, RequestState.lapsed, RequestState.cancelled, RequestState.closed):
        with pytest.raises(IllegalTransition, match="nothing further can happen to it"):
            REQUEST.fire(req_state, "respond")


@pytest.mark.parametrize(("machine", "states"), MACHINES)
def test_every_state_is_reachable_from_the_initial_state(machine: StateMachine[Any], states: type[StrEnum]) -> None:
    reached, frontier = {machine.initial}, [machine.initial]
    while frontier:
        current = frontier.pop()
        for (source, _), target in machine.transitions.items():
            if source == current and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(states)


@pytest.mark.parametrize(("machine", "states"), MACHINES)
def test_the_docs_draw_the_tables_in_code(machine: StateMachine[Any], states: type[StrEnum]) -> None:
    assert machine.mermaid() in DOCS.read_text(), "regenerate docs/state-machines.md (`python -m custody.docs`)"


def test_a_generator_asked_for_help_writes_no_file_named_help(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m custody.docs --help` once wrote the diagrams to a file called "--help"."""
    monkeypatch.chdir(tmp_path)
    assert write_generated("text", "custody.docs", "docs/x.md", ["docs.py", "--help"]) == 0
    assert write_generated("text", "custody.docs", "docs/x.md", ["docs.py", "a", "b"]) == 2
    assert list(tmp_path.iterdir()) == []
    assert "usage: python -m custody.docs [FILE]" in capsys.readouterr().err
    assert write_generated("text", "custody.docs", "docs/x.md", ["docs.py"]) == 0
    assert (tmp_path / "docs" / "x.md").read_text() == "text"
