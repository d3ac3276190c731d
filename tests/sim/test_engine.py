"""The simulator takes a jail's feed a window at a time (``FEED_WINDOW``): bookings and release
eligibilities of different people within a quarter hour go through together, bookings first; a
window never reaches past another kind of event, and never books a person before the release that
precedes their new arrest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from custody.domain.clock import ManualClock
from custody.service import Custody
from custody.sim.arrests import ArrestStream
from custody.sim.engine import ARRIVE, ELIGIBLE, FEED_WINDOW, REQUEST, Simulation

START = datetime(2019, 10, 1, 12, tzinfo=UTC)


def _arrest(person: str) -> Any:
    return SimpleNamespace(person=SimpleNamespace(key=person))


def _case(person: str) -> Any:
    return SimpleNamespace(arrest=_arrest(person))


def _simulation(custody: Custody) -> Simulation:
    return Simulation(custody, ManualClock(START), ArrestStream([], 1, date(2019, 10, 1)), 1)


def _taken(simulation: Simulation, events: list[tuple[timedelta, int, Any]]) -> list[tuple[timedelta, int]]:
    for offset, kind, payload in events:
        simulation._push(START + offset, kind, payload)
    first = simulation._pop()
    simulation.loaded = 1
    window = simulation._window(first[0], first[2], first[3])
    return [(when - START, kind) for when, kind, _ in window]


def test_bookings_and_releases_of_different_people_within_the_window_go_together(custody: Custody) -> None:
    events = [
        (timedelta(0), ARRIVE, _arrest("a")),
        (timedelta(minutes=3), ELIGIBLE, _case("b")),
        (timedelta(minutes=9), ARRIVE, _arrest("c")),
        (FEED_WINDOW, ARRIVE, _arrest("d")),  # a quarter hour after the first: the next window
    ]
    assert _taken(_simulation(custody), events) == [(e[0], e[1]) for e in events[:3]]


def test_a_window_stops_at_another_kind_of_event(custody: Custody) -> None:
    events = [
        (timedelta(0), ELIGIBLE, _case("a")),
        (timedelta(minutes=1), REQUEST, object()),
        (timedelta(minutes=2), ARRIVE, _arrest("b")),
    ]
    assert _taken(_simulation(custody), events) == [(timedelta(0), ELIGIBLE)]


def test_a_person_released_in_the_window_is_not_booked_again_in_it(custody: Custody) -> None:
    events = [
        (timedelta(0), ARRIVE, _arrest("a")),
        (timedelta(minutes=2), ELIGIBLE, _case("b")),
        (timedelta(minutes=4), ARRIVE, _arrest("b")),  # re-arrested two minutes after release
        (timedelta(minutes=5), ARRIVE, _arrest("c")),
    ]
    assert _taken(_simulation(custody), events) == [(timedelta(0), ARRIVE), (timedelta(minutes=2), ELIGIBLE)]
