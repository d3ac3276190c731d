"""The process's outcomes computed by DuckDB over the copied store equal those read by stats.outcomes,
figure by figure, for each agency and for all."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from custody.domain.clock import ManualClock
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.stats.outcomes import outcomes
from custody.stats.warehouse import Warehouse, load_process, process_outcomes
from custody.store.models import BookingRow, FederalRequestRow
from tests.stats.test_outcomes import _book_again


def test_the_duckdb_queries_give_the_figures_of_the_store(custody: Custody, clock: ManualClock) -> None:
    first = seed_scenarios.chicago_then_cook(custody, fbi="FBI-W-1", number="CPD-W-1")
    seed_scenarios.miami_dade_transferred(custody)
    seed_scenarios.miami_dade_lapsed(custody)
    released_at = custody.booking_view(first.booking_id)["left_custody_at"]
    assert released_at is not None
    left = datetime.fromisoformat(released_at)
    clock.set(left + timedelta(days=21))
    _book_again(custody, "FBI-W-1", "CPD-W-2", left + timedelta(days=20))
    warehouse = Warehouse()
    seconds: dict[str, float] = {}
    with custody.unit() as unit:
        loaded = load_process(
            warehouse, unit.session.scalars(select(BookingRow)), unit.session.scalars(select(FederalRequestRow))
        )
        assert loaded == 4
        for agency in (None, seed_scenarios.COOK, seed_scenarios.MIAMI_DADE, seed_scenarios.CHICAGO):
            expected = outcomes(unit.session, agency)
            expected.pop("caveats")
            assert process_outcomes(warehouse, agency, seconds) == expected, agency
    assert process_outcomes(warehouse)["rebooked_within_days"] == {"30": 1, "90": 1, "365": 1}
    assert set(seconds) == {
        "requests",
        "honored_declined",
        "by_action",
        "releases",
        "releases_with_request_in_force",
        "rebooked_within_days",
    }
