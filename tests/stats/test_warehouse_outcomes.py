"""The process's outcomes computed by DuckDB over the copied store equal those read by stats.outcomes,
figure by figure, for each agency and for all."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from custody.domain.clock import ManualClock
from custody.identity.commands import IdentityIn
from custody.release.commands import ReleaseIn
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.stats.outcomes import outcomes
from custody.stats.warehouse import Warehouse, load_process, process_outcomes
from tests.identity.fingerprints import FIRST_VISIT, SECOND_VISIT, booking, prints
from tests.stats.test_outcomes import _book_again, book_much_later


def test_the_duckdb_queries_give_the_figures_of_the_store(custody: Custody, clock: ManualClock) -> None:
    first = seed_scenarios.chicago_then_cook(custody, fbi="FBI-W-1", number="CPD-W-1")
    seed_scenarios.miami_dade_transferred(custody)
    seed_scenarios.miami_dade_lapsed(custody)
    released_at = custody.booking_view(first.booking_id)["left_custody_at"]
    assert released_at is not None
    left = datetime.fromisoformat(released_at)
    clock.set(left + timedelta(days=21))
    _book_again(custody, "FBI-W-1", "CPD-W-2", left + timedelta(days=20))
    book_much_later(custody, clock, left)  # every release followed through every window
    warehouse = Warehouse()
    seconds: dict[str, float] = {}
    with custody.unit() as unit:
        loaded = load_process(warehouse, unit.session)
        assert loaded == 5
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
        "releases_followed_for_days",
    }


def test_a_re_arrest_linked_through_kept_prints_is_counted_in_the_store_and_in_duckdb(
    custody: Custody, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: a first booking whose prints found no one is answered "no hit" and carries
    no identity, so the same person's next arrest, linked by the prints the repository kept, was never
    counted as a re-booking. Both readings now follow the repository's link; the second booking's own
    identity is the kept prints' one."""
    monkeypatch.setenv("CUSTODY_GALLERY", str(tmp_path / "gallery"))
    monkeypatch.delenv("CUSTODY_MATCH_THRESHOLD", raising=False)
    monkeypatch.delenv("CUSTODY_EXAMINER_CONFIRMATION", raising=False)
    first = custody.book(booking("K-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {}), prints(FIRST_VISIT))
    custody.release_eligible(first.id, ReleaseIn.model_validate({"reason": "bail", "at": "2017-08-02T09:00:00-05:00"}))
    second = custody.book(booking("K-2", "2017-08-10T10:00:00-05:00", "Smith", "John", {}), prints(SECOND_VISIT))
    with custody.unit() as unit:
        assert outcomes(unit.session)["rebooked_within_days"] == {"30": 0, "90": 0, "365": 0}  # not yet confirmed
    (waiting,) = custody.identifications(10, 0, state="awaiting_examiner")[1]
    custody.confirm_identification(waiting["id"], examiner="K. Examiner")
    assert custody.booking_view(first.id)["identity_id"] is None  # the agency's answer stays "no hit"
    assert custody.booking_view(second.id)["identity_id"] is not None
    book_much_later(custody, clock, datetime.fromisoformat("2017-08-02T09:00:00-05:00"))
    warehouse = Warehouse()
    with custody.unit() as unit:
        expected = outcomes(unit.session)
        assert load_process(warehouse, unit.session) == 3
    assert expected["rebooked_within_days"] == {"30": 1, "90": 1, "365": 1}
    expected.pop("caveats")
    assert process_outcomes(warehouse) == expected


@pytest.mark.usefixtures("gallery")
def test_a_booking_whose_kept_prints_were_merged_counts_as_the_person_they_were_merged_into(
    custody: Custody, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kept prints of a booking later found to be someone already known stand for that person: a
    booking linked to the kept prints before the merge counts as the same person's re-booking."""
    enrolled = custody.enrol(IdentityIn(names=["DOE, Jan"], identifiers={"fbi": "777X"}), prints(FIRST_VISIT))
    monkeypatch.setenv("CUSTODY_MATCH_THRESHOLD", "100000")
    first = custody.book(booking("M-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {}), prints(SECOND_VISIT))
    custody.release_eligible(first.id, ReleaseIn.model_validate({"reason": "bail", "at": "2017-08-02T09:00:00-05:00"}))
    monkeypatch.setenv("CUSTODY_MATCH_THRESHOLD", "40")
    second = custody.book(booking("M-2", "2017-08-10T10:00:00-05:00", "Smith", "John", {}), prints(SECOND_VISIT))
    (waiting,) = custody.identifications(10, 0, state="awaiting_examiner")[1]
    kept = "idn_" + first.id.removeprefix("bkg_")
    custody.confirm_identification(waiting["id"], examiner="K. Examiner", identity_id=kept)
    custody.submit_prints(first.id)  # the first booking's prints, searched again, are found to be the enrolled person
    (waiting,) = custody.identifications(10, 0, state="awaiting_examiner")[1]
    custody.confirm_identification(waiting["id"], examiner="K. Examiner", identity_id=enrolled)
    assert custody.booking_view(first.id)["identity_id"] == enrolled
    assert custody.booking_view(second.id)["identity_id"] == kept  # merged into the enrolled person since
    book_much_later(custody, clock, datetime.fromisoformat("2017-08-02T09:00:00-05:00"))
    warehouse = Warehouse()
    with custody.unit() as unit:
        expected = outcomes(unit.session)
        load_process(warehouse, unit.session)
    assert expected["rebooked_within_days"] == {"30": 1, "90": 1, "365": 1}
    expected.pop("caveats")
    assert process_outcomes(warehouse) == expected
