"""The simulator drives synthetic arrests through the real process and reads the outcomes back."""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from custody.domain.errors import InvalidInput
from custody.exchange import nats
from custody.service import Custody
from custody.sim import calibration as cal
from custody.sim.agencies import Agency
from custody.sim.reform import Reform
from custody.sim.run import Options, nats_prefix, reform_url, simulate
from custody.stats.outcomes import outcomes, process_bookings
from custody.store.models import BookingRow, DecisionRow, EventRow, FederalRequestRow
from custody.store.scratch import drop_scratch
from tests.conftest import _drop_schema, _postgres_schema_url
from tests.exchange.support import delete_stream, nats_available
from tests.sim.conftest import COOK, MIAMI_DADE

START = date(2019, 10, 1)


def _options(url: str, **changes: object) -> Options:
    base = {"days": 2, "scale": "national", "seed": 7, "start": START, "sample": 1.0, "url": url}
    return Options(**{**base, **changes})  # type: ignore[arg-type]


def _comparable(result: dict[str, object]) -> dict[str, object]:
    return {k: result[k] for k in ("simulator", "outcomes", "by_policy")}


def test_the_same_seed_gives_the_same_outcomes_on_every_store(
    small_nation: list[Agency], store_url: str, tmp_path: Path
) -> None:
    first = simulate(_options(f"sqlite:///{tmp_path / 'a.db'}", days=1))
    again = simulate(_options(store_url, days=1))
    assert _comparable(first) == _comparable(again)
    assert first["simulator"]["arrests"] > 10 and first["simulator"]["requests_issued"] > 0  # type: ignore[index]
    other = simulate(_options(f"sqlite:///{tmp_path / 'b.db'}", days=1, seed=8))
    assert _comparable(other) != _comparable(first)


def test_the_process_writes_what_the_statistics_read(small_nation: list[Agency], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    result = simulate(_options(url, days=3))
    sim, seen = result["simulator"], result["outcomes"]
    assert sim["errors"] == {}
    assert seen["bookings"] == sim["arrests"]
    service = Custody.open(url)
    with service.unit() as unit:
        stats = outcomes(unit.session)
        types = set(unit.session.scalars(select(EventRow.type).distinct()))
        decided_for = set(unit.session.scalars(select(DecisionRow.agency)))
    # every step of the process left its events
    assert {"BookingRecorded", "IdentityMatched", "RequestDecided", "RequestResponded", "PersonReleased"} <= types
    assert stats["requests"]["received"] == seen["requests"] == sim["requests_issued"]
    assert stats["releases"] == seen["releases"]
    assert seen["transfers"] == sim["transfers"] and seen["lapses"] == sim["lapses"]
    # Chicago's arrestees move to the Cook County jail, where their requests are decided anew.
    assert sim["moves_to_county_jail"] > 0 and COOK in decided_for
    # Texas SB 4 and Florida SB 168 require holds; Illinois' TRUST Act forbids them.
    labels = {row["policy"] for row in result["by_policy"]}
    assert {"holds required", "holds prohibited"} <= labels
    assert seen["holds"] == sum(seen["hold_states"].values()) > 0
    assert seen["hold_cost_usd"] == pytest.approx(seen["hold_hours"] / 24 * cal.JAIL_COST_PER_DAY.value, abs=0.2)


def test_a_reform_replays_the_same_arrests_under_the_other_law(small_nation: list[Agency], tmp_path: Path) -> None:
    """Miami-Dade under Cook County's ordinance: the holds Florida law required become prohibited."""
    reform = Reform.parse(f"{MIAMI_DADE}={COOK}@2019-10-01")
    result = simulate(_options(f"sqlite:///{tmp_path / 'sim.db'}", reform=reform))
    compared = {row["measure"]: row for row in result["reform"]["compared"]}
    assert compared["requests"]["baseline"] == compared["requests"]["reform"] > 0  # the same arrests and requests
    assert compared["hold: required"]["baseline"] > 0 and compared["hold: required"]["reform"] == 0
    assert compared["hold: prohibited"]["reform"] == compared["requests"]["reform"]
    assert compared["holds started"]["reform"] == 0 < compared["holds started"]["baseline"]
    assert compared["requests honored (any action)"]["difference"] < 0
    assert result["reform"]["division_policy"] == {"baseline": "holds required", "reform": "holds prohibited"}
    assert "not estimates of crime" in result["reform"]["caveat"]


def test_a_reform_is_logged_under_the_law_it_was_decided_by(small_nation: list[Agency], tmp_path: Path) -> None:
    reform = Reform.parse(f"{MIAMI_DADE}={COOK}@2018-06-01")
    simulate(_options(f"sqlite:///{tmp_path / 'sim.db'}", days=1, reform=reform))
    reformed = Custody.open(f"sqlite:///{tmp_path / 'sim.reform-7.db'}")
    with reformed.unit() as unit:
        inputs = list(
            unit.session.scalars(
                select(DecisionRow.inputs)
                .join(FederalRequestRow, FederalRequestRow.id == DecisionRow.request_id)
                .where(FederalRequestRow.agency == MIAMI_DADE)
            )
        )
    assert inputs and all(i["agency"] == COOK and i["on"] == "2018-06-01" for i in inputs)
    assert {i["request"]["issued_on"] for i in inputs} == {"2018-06-01"}


def test_reform_options_are_checked() -> None:
    with pytest.raises(Exception, match="DIVISION=LAW_OF_OTHER_DIVISION@DATE"):
        Reform.parse(MIAMI_DADE)
    with pytest.raises(Exception, match="changes nothing"):
        Reform.parse(f"{COOK}={COOK}@2019-01-01")
    reform = Reform.parse(f"{COOK}={MIAMI_DADE}@2017-03-01")
    assert reform.form_on("I-247A") == "I-247D"  # the detainer form in use on the law's date
    # Found by a review: a law of 1900 was taken, and the engine then refused every request under it.
    with pytest.raises(InvalidInput, match=r"library begins on 1997-04-01 \(8 CFR 287.7\)"):
        Reform.parse(f"{COOK}={MIAMI_DADE}@1900-01-01")


def test_a_reform_run_reports_what_the_process_refused(small_nation: list[Agency], tmp_path: Path) -> None:
    """Found by a review: the reform run's tally was dropped, so people it refused left the comparison
    unseen. (A law date parse refuses, made directly, is one the process refuses: the Chicago police
    cannot move anyone to the Cook County jail under it.)"""
    reform = Reform(COOK, MIAMI_DADE, date(1900, 1, 1))
    result = simulate(_options(f"sqlite:///{tmp_path / 'sim.db'}", days=1, reform=reform))
    assert result["simulator"]["errors"] == {}
    refused = result["reform"]["simulator"]
    assert refused["errors"]["InvalidInput"] > 0 and "1900-01-01" in refused["first_errors"]["InvalidInput"]


def test_the_rates_are_calibrated_to_their_sources() -> None:
    sigma = cal.stay_sigma()
    assert cal.MEDIAN_STAY_DAYS.value * math.exp(sigma**2 / 2) == pytest.approx(cal.AVERAGE_STAY_DAYS.value)
    share = cal.FEDERAL_RECORD_SHARE.value * cal.request_given_hit()
    assert share == pytest.approx(cal.DETAINERS_PER_YEAR.value / cal.ADMISSIONS_PER_YEAR.value)
    assert 1 - math.exp(-365 * cal.rearrest_daily_hazard()) == pytest.approx(cal.REARREST_FIRST_YEAR.value)
    for name, rate in cal.ALL_RATES.items():
        assert rate.tag in ("V", "M", "A") and rate.source, name


def test_the_report_counts_this_run_only_and_each_booking_once(small_nation: list[Agency], tmp_path: Path) -> None:
    """Found by an audit: a second seed's run in the same store reported both runs' bookings, and a
    person booked by the Chicago police and moved to the Cook County jail counted in both policies."""
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    first = simulate(_options(url, days=2, seed=7))
    second = simulate(_options(url, days=2, seed=8))
    for result in (first, second):
        assert result["outcomes"]["bookings"] == result["simulator"]["arrests"]
        assert result["outcomes"]["rebookings"] == result["simulator"]["rebookings"]
        assert sum(row["bookings"] for row in result["by_policy"]) == result["outcomes"]["bookings"]
        assert sum(row["requests"] for row in result["by_policy"]) == result["outcomes"]["requests"]
    assert first["simulator"]["moves_to_county_jail"] > 0


def test_the_report_says_the_statistics_follow_only_the_people_the_repository_knows(
    small_nation: list[Agency], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: `custody stats outcomes` found 10 re-bookings within 30 days where the
    simulator reported 504, and nothing said why: it follows a person through the repository's
    identity, which only people with a federal record have here."""
    monkeypatch.setattr(cal, "rearrest_daily_hazard", lambda: 1.0)  # re-arrested a day after release, about
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    result = simulate(_options(url, days=4))
    service = Custody.open(url)
    with service.unit() as unit:
        again = set(unit.session.scalars(select(BookingRow.id).where(BookingRow.booking_number.contains("-r"))))
        followed = [b.person is not None for b in process_bookings(unit.session) if b.id in again]
    service.engine.dispose()
    assert len(followed) == result["outcomes"]["rebookings"] > 0
    assert not all(followed)  # re-bookings the statistics cannot tie to anyone
    assert "only people with a federal record" in result["rebookings_caveat"]


def test_a_reform_counts_the_re_bookings_of_the_people_moved_to_the_division(
    small_nation: list[Agency], tmp_path: Path
) -> None:
    """Cook County books nobody itself: its re-bookings are those of people the Chicago police booked
    again and moved there (they were reported as 0, the count of the booking agency)."""
    reform = Reform.parse(f"{COOK}={MIAMI_DADE}@2019-10-01")
    result = simulate(_options(f"sqlite:///{tmp_path / 'sim.db'}", days=20, reform=reform))
    compared = {row["measure"]: row for row in result["reform"]["compared"]}
    booked = next(row for measure, row in compared.items() if measure.startswith("bookings"))
    # People handed to federal officers under Miami-Dade's law are not released, so not re-arrested.
    assert booked["baseline"] >= booked["reform"] > 0
    assert compared["re-bookings"]["baseline"] > 0  # reported as 0 before: counted at the booking agency only


def test_a_reform_names_an_agency_not_a_state() -> None:
    with pytest.raises(Exception, match=r"one agency's division \(a county or a city\)"):
        Reform.parse(f"ocd-division/country:us/state:il={MIAMI_DADE}@2019-10-01")


async def _streams() -> dict[str, int]:
    """Each JetStream stream on the server, with how many consumers read it."""
    client = await nats.nats.connect(nats.DEFAULT_URL, connect_timeout=2, max_reconnect_attempts=0)
    try:
        return {s.config.name or "": s.state.consumer_count for s in await client.jetstream().streams_info()}
    finally:
        await client.close()


async def _waiting_for_the_deployment(prefix: str) -> None:
    """A message the deployment's own `custody worker` is to take."""
    client = await nats.nats.connect(nats.DEFAULT_URL, connect_timeout=2, max_reconnect_attempts=0)
    try:
        await nats.ensure_stream(client.jetstream(), prefix)
        await client.jetstream().publish(nats.subject_for("federal", prefix), b"{}")
    finally:
        await client.close()


def test_a_simulation_over_nats_keeps_to_a_stream_of_its_own(
    small_nation: list[Agency], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: a simulation relayed and pulled on the deployment's subjects, so a
    `custody worker` beside it, or a second simulation, took its messages and it took theirs."""
    nats_available()
    deployment = f"custodytest{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(nats, "PREFIX", deployment)
    asyncio.run(_waiting_for_the_deployment(deployment))
    try:
        options = _options(f"sqlite:///{tmp_path / 'sim.db'}", days=1, transport="nats")
        result = simulate(options)
        streams = asyncio.run(_streams())
    finally:
        delete_stream(deployment)
    assert result["simulator"]["errors"] == {} and result["outcomes"]["requests_honored"] > 0
    assert streams[nats.stream_name(deployment)] == 0  # nobody read the deployment's message
    assert nats.stream_name(nats_prefix(options.url or "", options)) not in streams  # its own removed once done
    other = _options(f"sqlite:///{tmp_path / 'other.db'}", days=1, transport="nats")
    assert nats_prefix(options.url or "", options) != nats_prefix(other.url or "", other)


@pytest.mark.postgres
def test_a_reform_on_postgres_runs_in_a_schema_of_its_own_store(small_nation: list[Agency]) -> None:
    """Found by a review: a store URL with a search path of its own crashed at the reform (a second
    ``options=`` was appended), leaving an empty schema; and the reform's schema, named by the seed
    alone, was one for every store of the database, each run replacing the other's."""
    stores = [_postgres_schema_url() for _ in range(2)]
    reform = Reform.parse(f"{MIAMI_DADE}={COOK}@2019-10-01")
    try:
        bookings = [simulate(_options(url, days=1, reform=reform))["reform"]["simulator"]["arrests"] for url in stores]
        reformed = [reform_url(url, 7, keep=True) for url in stores]
        assert reformed[0] != reformed[1]
        for url, booked in zip(reformed, bookings, strict=True):
            service = Custody.open(url)
            with service.unit() as unit:
                assert unit.session.scalar(select(func.count()).select_from(BookingRow)) == booked > 0
            service.engine.dispose()
    finally:
        for url in stores:
            drop_scratch(reform_url(url, 7, keep=True))
            _drop_schema(url)
