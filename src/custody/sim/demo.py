"""The demo scenario loaded by `./dev up`: the seed article's three cases, once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from custody.cli.output import err
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.store.models import BookingRow


def load_demo(service: Custody, quiet: bool = True) -> bool:
    """Load the demo unless the store already holds bookings; return whether it loaded."""
    with service.unit() as unit:
        if unit.session.scalar(select(func.count()).select_from(BookingRow)):
            if not quiet:
                err.print("store already holds bookings; demo not loaded again")
            return False
    # The cases as they happened: the process's own replies carry the cases' dates, not today's.
    clock = seed_scenarios.ScenarioClock(datetime(2017, 1, 1, tzinfo=UTC))
    told = Custody(service.engine, clock, service.actor, service.transport, service.inline)
    for name, run in [
        ("(a) Chicago police lockup, then Cook County jail, 16 Aug 2017", seed_scenarios.chicago_then_cook),
        ("(b) Miami-Dade, 1 Mar 2017: held and transferred", seed_scenarios.miami_dade_transferred),
        ("(c) Miami-Dade, 1 Mar 2017: hold lapsed", seed_scenarios.miami_dade_lapsed),
    ]:
        outcome = run(told)
        if not quiet:
            err.print(f"demo {name}: booking {outcome.booking_id}, request {outcome.request_id}")
    return True
