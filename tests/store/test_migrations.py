"""The migrations build the schema the models describe, and those that change data do it both ways:
0006 keeps an applied message once (the inbox loses its copy of the message, the queue loses the
deliveries already applied, and a downgrade puts the copies back from the outbox); 0011 seals the
webhook secrets already kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session

from custody.store import crypto, db
from custody.store.models import Base, WebhookSubscriptionRow
from custody.store.types import UTCDateTime
from tests.store.support import inbox_before_0006

NOW = datetime(2017, 8, 16, 12, tzinfo=UTC)
SUBMITTED = "gov.custody.booking.fingerprints_submitted.v1"


def test_the_newest_migration_is_the_schema_of_the_models(store_url: str) -> None:
    engine = db.make_engine(store_url)
    db.upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def _tables() -> tuple[sa.TableClause, sa.TableClause, sa.TableClause]:
    when = UTCDateTime()
    inbox = inbox_before_0006()
    messages = sa.table(
        "messages",
        *(sa.column(c) for c in ("seq", "id", "type", "to_party", "subject", "envelope")),
        sa.column("created_at", when),
    )
    deliveries = sa.table("deliveries", *(sa.column(c) for c in ("message_id", "seq", "party", "state", "attempts")))
    return inbox, messages, deliveries


def test_0006_keeps_an_applied_message_once_and_its_downgrade_restores_the_copies(store_url: str) -> None:
    engine = db.make_engine(store_url)
    config = db.alembic_config(engine)
    command.upgrade(config, "0005")
    inbox, messages, deliveries = _tables()
    data = {"booking_id": "bkg_1", "agency": "ocd-division/country:us/state:il/county:cook"}
    with engine.begin() as connection:
        for seq, (message_id, state) in enumerate((("msg_applied", "done"), ("msg_waiting", "pending")), start=1):
            envelope = {"id": message_id, "type": SUBMITTED, "subject": "bkg_1", "data": data}
            connection.execute(
                messages.insert().values(
                    seq=seq,
                    id=message_id,
                    type=SUBMITTED,
                    to_party="federal",
                    subject="bkg_1",
                    envelope=json.dumps(envelope),
                    created_at=NOW,
                )
            )
            connection.execute(
                deliveries.insert().values(message_id=message_id, seq=seq, party="federal", state=state, attempts=1)
            )
        connection.execute(
            inbox.insert().values(
                party="federal", message_id="msg_applied", type=SUBMITTED, subject="bkg_1", data=data, applied_at=NOW
            )
        )
    db.upgrade(engine)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("inbox")}
    assert columns == {"party", "message_id", "applied_at"}
    with engine.connect() as connection:
        queued = connection.execute(sa.select(deliveries.c.message_id, deliveries.c.state)).all()
        assert queued == [("msg_waiting", "pending")]
        assert connection.execute(sa.select(inbox.c.message_id)).scalars().all() == ["msg_applied"]

    command.downgrade(config, "0005")
    with engine.connect() as connection:
        restored = connection.execute(sa.select(inbox.c.message_id, inbox.c.type, inbox.c.subject, inbox.c.data)).all()
    assert restored == [("msg_applied", SUBMITTED, "bkg_1", data)]
    engine.dispose()


@pytest.mark.parametrize("store_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_0007_makes_postgresql_announce_new_messages_and_its_downgrade_stops_it(store_url: str) -> None:
    """The outbox's trigger is there at the newest schema, gone after a downgrade to 0006, and back
    after the upgrade (SQLite has no notifications: 0007 changes nothing there)."""
    engine = db.make_engine(store_url)
    db.upgrade(engine)
    triggers = sa.text(
        "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE t.tgname = 'messages_written' AND c.relnamespace = current_schema()::regnamespace"
    )

    def announced() -> bool:
        with engine.connect() as connection:
            return bool(connection.scalar(triggers))

    assert announced()
    command.downgrade(db.alembic_config(engine), "0006")
    assert not announced()
    db.upgrade(engine)
    assert announced()
    engine.dispose()


def _upgrade(url: str) -> str:
    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
        return "ok"
    except Exception as exc:  # reported to the parent, which asserts on it
        return f"{type(exc).__name__}: {exc}"
    finally:
        engine.dispose()


def test_processes_starting_on_a_new_store_at_once_all_find_it_migrated(store_url: str) -> None:
    """Six first runs in parallel (a script deciding six requests at once on a new CUSTODY_VAR): one
    migrates while the others wait for its lock; without the lock one failed on a table the other
    had just made, about one run in three."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(6) as pool:
        outcomes = pool.map(_upgrade, [store_url] * 6)
    assert outcomes == ["ok"] * 6
    engine = db.make_engine(store_url)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is not None
    engine.dispose()


def test_0011_seals_the_webhook_secrets_already_kept_and_its_downgrade_opens_them(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: a subscriber's signing secret was kept in the clear."""
    monkeypatch.setenv("CUSTODY_DATA_KEY", Fernet.generate_key().decode())
    engine = db.make_engine(store_url)
    config = db.alembic_config(engine)
    command.upgrade(config, "0010")
    secret = "a-secret-of-sixteen-or-more"
    read = sa.text("SELECT secret FROM webhook_subscriptions")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO webhook_subscriptions (id, url, secret, types, created_at) "
                "VALUES ('sub_1', 'http://127.0.0.1:9/hook', :secret, '[]', '2017-08-16 13:00:00')"
            ),
            {"secret": secret},
        )
        connection.execute(  # a delivery attempt refers to the subscription (found by a review: on
            # SQLite, rebuilding the table under it failed)
            sa.text(
                "INSERT INTO webhook_attempts (subscription_id, message_id, attempt, at, status_code, delivered) "
                "VALUES ('sub_1', 'msg_1', 1, '2017-08-16 13:00:00', 200, true)"
            )
        )
    db.upgrade(engine)
    with engine.connect() as connection:
        sealed = connection.scalar(read)
    assert secret not in sealed and crypto.unseal(sealed.encode()).decode() == secret
    with Session(engine) as session:
        assert session.scalars(sa.select(WebhookSubscriptionRow.secret)).one() == secret
    command.downgrade(config, "0010")
    with engine.connect() as connection:
        assert connection.scalar(read) == secret
    engine.dispose()


def test_0009_downgrades_with_identities_referred_to_by_identifiers(store_url: str) -> None:
    """Found by a review: on SQLite the downgrade rebuilt federal_identities, and dropping the old
    table failed while an identifier referred to it."""
    engine = db.make_engine(store_url)
    db.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO federal_identities (id, names, record, enrolled_at, aliases, retained_from) "
                "VALUES ('idn_1', '[]', '{}', '2017-08-16 13:00:00', '[]', 'bkg_1')"
            )
        )
        connection.execute(
            sa.text("INSERT INTO federal_identifiers (identity_id, id_type, value) VALUES ('idn_1', 'fbi', '1')")
        )
    command.downgrade(db.alembic_config(engine), "0008")
    with engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM federal_identifiers")) == 1
    db.upgrade(engine)
    engine.dispose()
