"""Biometric images and webhook secrets are encrypted at rest under the configured key, and secrets
never reach a log."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from custody.booking.commands import BookingIn
from custody.booking.service import FingerprintImage
from custody.exchange import webhooks
from custody.observability import SecretMask, known_secrets, masked, url_without_secrets
from custody.service import Custody
from custody.store import crypto
from custody.store.models import WebhookSubscriptionRow
from tests.identity.fingerprints import blank_gallery, gallery  # noqa: F401 (fixtures)

IMAGE = (Path(__file__).parents[1] / "identity" / "prints" / "data" / "p1_1.png").read_bytes()


def _book(custody: Custody) -> str:
    return custody.book(
        BookingIn.model_validate(
            {
                "agency": "ocd-division/country:us/state:il/county:cook",
                "booking_number": "P-1",
                "booked_at": "2017-08-16T01:00:00-05:00",
                "person": {"last_name": "Doe", "first_name": "Jan", "date_of_birth": "1990-01-01"},
                "charges": [{"offense": "theft", "level": "misdemeanor"}],
            }
        ),
        [FingerprintImage(2, "right_index.png", IMAGE)],
    ).id


@pytest.mark.usefixtures("gallery")  # real prints are searched: in a gallery of this test
def test_fingerprint_images_are_sealed_at_rest_and_read_back(custody: Custody, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTODY_DATA_KEY", Fernet.generate_key().decode())
    _book(custody)
    with custody.unit() as unit:
        raw = unit.session.execute(text("SELECT data FROM fingerprint_images")).scalar_one()
        stored = unit.session.execute(text("SELECT sha256 FROM fingerprint_images")).scalar_one()
    assert IMAGE not in bytes(raw) and IMAGE[:32] not in bytes(raw)  # not even its PNG header
    from custody.store.models import FingerprintImageRow

    with custody.unit() as unit:
        assert unit.session.scalars(select(FingerprintImageRow)).one().data == IMAGE
    import hashlib

    assert stored == hashlib.sha256(IMAGE).hexdigest()
    monkeypatch.setenv("CUSTODY_DATA_KEY", Fernet.generate_key().decode())
    with custody.unit() as unit, pytest.raises(crypto.KeyError_, match="cannot be decrypted with the configured key"):
        unit.session.scalars(select(FingerprintImageRow)).one()


def test_a_development_key_is_created_once_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUSTODY_DATA_KEY", raising=False)
    monkeypatch.setenv("CUSTODY_DATA_KEY_FILE", str(tmp_path / "data.key"))
    sealed = crypto.fernet().encrypt(b"x")
    assert (tmp_path / "data.key").stat().st_mode & 0o777 == 0o600
    assert crypto.fernet().decrypt(sealed) == b"x"


def test_logs_mask_secrets_and_database_passwords(caplog: pytest.LogCaptureFixture) -> None:
    secret = Fernet.generate_key().decode()
    mask = SecretMask([secret])
    logger = logging.getLogger("custody.test")
    logger.addFilter(mask)
    try:
        with caplog.at_level(logging.INFO, logger="custody.test"):
            logger.info("connecting to %s with key %s", "postgresql+psycopg://custody:hunter22@db/custody", secret)
            try:
                raise RuntimeError(f"failed with {secret}")
            except RuntimeError:
                logger.exception("boom")
    finally:
        logger.removeFilter(mask)
    text_out = caplog.text
    assert secret not in text_out and "hunter22" not in text_out
    assert "postgresql+psycopg://custody:***@db/custody" in text_out and "failed with ***" in text_out


def test_the_development_key_is_never_readable_by_others_even_while_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: the key was written with the default umask, then chmod-ed."""
    monkeypatch.delenv("CUSTODY_DATA_KEY", raising=False)
    monkeypatch.setenv("CUSTODY_DATA_KEY_FILE", str(tmp_path / "data.key"))
    modes: list[int] = []
    real_open = os.open

    def watched(path: Any, flags: int, mode: int = 0o777, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("data.key") and flags & os.O_CREAT:
            modes.append(mode)
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", watched)
    crypto.fernet()
    assert modes == [0o600]


def test_logs_mask_a_token_in_a_url(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a review: `custody worker --transport nats` logged nats://TOKEN@host as it was."""
    monkeypatch.setenv("CUSTODY_NATS_URL", "nats://s3cr3tT0kenValue@127.0.0.1:4222")
    assert "s3cr3tT0kenValue" in known_secrets()
    mask = SecretMask(known_secrets())
    logger = logging.getLogger("custody.test")
    logger.addFilter(mask)
    try:
        with caplog.at_level(logging.INFO, logger="custody.test"):
            logger.info("serving at %s", "nats://an0therT0ken@10.0.0.1:4222")
    finally:
        logger.removeFilter(mask)
    assert "an0therT0ken" not in caplog.text and "nats://***@10.0.0.1:4222" in caplog.text
    assert masked("postgresql+psycopg://postgres:hunter2pw@db/x") == "postgresql+psycopg://postgres:***@db/x"


def test_a_database_user_name_is_not_taken_for_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a code review: with postgresql://custody@db/custody the word "custody" was masked
    in every log line, since a bare user part was taken for a token."""
    monkeypatch.setenv("CUSTODY_DATABASE_URL", "postgresql+psycopg://custody@db/custody")
    monkeypatch.delenv("CUSTODY_NATS_URL", raising=False)
    assert "custody" not in known_secrets()
    assert masked("check that `custody worker` runs at postgresql://custody@db") == (
        "check that `custody worker` runs at postgresql://custody@db"
    )


def test_an_audited_url_keeps_neither_its_path_nor_its_query() -> None:
    """Found by a code review: a webhook URL's path or query may be its credential."""
    assert url_without_secrets("https://hooks.example.com/services/T/B/s3cr3t?token=x") == "https://hooks.example.com"
    assert url_without_secrets("http://user:pw@127.0.0.1:8080/in") == "http://127.0.0.1:8080"


def test_a_webhook_signing_secret_is_sealed_at_rest_and_still_signs(
    custody: Custody, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: the secret was kept in the clear, so a copy of the store could sign as custody."""
    monkeypatch.setenv("CUSTODY_DATA_KEY", Fernet.generate_key().decode())
    secret = "a-secret-of-sixteen-or-more"
    webhooks.subscribe(custody, "http://127.0.0.1:9/hook", secret, [])
    with custody.unit() as unit:
        raw = unit.session.execute(text("SELECT secret FROM webhook_subscriptions")).scalar_one()
        (subscription,) = unit.session.scalars(select(WebhookSubscriptionRow)).all()
    assert secret not in raw and subscription.secret == secret
    assert webhooks.signature(subscription.secret, b"{}") == webhooks.signature(secret, b"{}")
