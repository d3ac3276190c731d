"""Rotating the data key: a new key put first seals what is written from then on while what was
sealed under the old key stays readable; `custody keys reseal` seals everything kept at rest (the
store's images and webhook secrets, the gallery's records) under the new key, so the old one can
be removed; the run is on the audit, which names keys by fingerprint only."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from typer.testing import CliRunner

from custody.cli.main import app
from custody.domain.errors import InvalidInput
from custody.exchange import webhooks
from custody.identity import biometrics, settings
from custody.identity.prints.gallery import Gallery, GalleryError
from custody.identity.prints.matcher import NbisMatcher
from custody.observability import known_secrets
from custody.service import Custody
from custody.store import crypto
from custody.store.models import AuditEntryRow, FingerprintImageRow, WebhookSubscriptionRow
from tests.identity.fingerprints import FIRST_VISIT, SECOND_VISIT, booking, prints

SECRET = "s3cret-for-signing-webhooks"


def _readable(custody: Custody) -> tuple[int, str, list[str]]:
    """(images read back, the webhook secret, who the gallery finds) under the keys set now."""
    with custody.unit() as unit:
        images = len(unit.session.scalars(select(FingerprintImageRow)).all())
        secret = unit.session.scalars(select(WebhookSubscriptionRow.secret)).one()
    result = biometrics.search(settings.from_environment(), prints(FIRST_VISIT)).result
    assert result is not None
    return images, secret, [c.identity.id for c in result.candidates]


@pytest.mark.usefixtures("gallery")
def test_a_new_key_put_first_then_reseal_lets_the_old_key_go(
    custody: Custody, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("CUSTODY_DATA_KEY", old)
    monkeypatch.setenv("CUSTODY_DATABASE_URL", store_url)
    first = custody.book(booking("R-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {}), prints(SECOND_VISIT))
    webhooks.subscribe(custody, "https://example.org/hook", SECRET, [])
    kept = "idn_" + first.id.removeprefix("bkg_")  # its prints found no one: the repository kept them
    assert _readable(custody) == (2, SECRET, [kept])

    monkeypatch.setenv("CUSTODY_DATA_KEY", f"{new}, {old}")  # rotation begins: the new key first
    assert _readable(custody) == (2, SECRET, [kept])
    assert {old, new} <= set(known_secrets())  # every configured key is masked in the logs
    done = CliRunner().invoke(app, ["keys", "reseal", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    new_id, old_id = crypto.key_ids()
    assert report == {
        "sealed_under": new_id,
        "counts": {"fingerprint_images": 2, "webhook_subscriptions": 1, "gallery": 3},  # 1 document, 2 fingers
        "older_keys": [old_id],
    }

    monkeypatch.setenv("CUSTODY_DATA_KEY", new)  # the old key removed: everything still opens
    assert _readable(custody) == (2, SECRET, [kept])
    monkeypatch.setenv("CUSTODY_DATA_KEY", old)  # and nothing opens under the old key alone
    with custody.unit() as unit, pytest.raises(crypto.KeyError_, match="cannot be decrypted"):
        unit.session.scalars(select(FingerprintImageRow)).all()
    with pytest.raises(GalleryError, match="cannot be opened with the data key"):
        biometrics.search(settings.from_environment(), prints(FIRST_VISIT))

    monkeypatch.setenv("CUSTODY_DATA_KEY", new)
    with custody.unit() as unit:
        (entry,) = unit.session.scalars(select(AuditEntryRow).where(AuditEntryRow.chain == "keys")).all()
    assert (entry.action, entry.data["sealed_under"]) == ("DataResealed", new_id)
    assert entry.actor.startswith("os:")  # whoever ran it, not "cli" alone (found by a review)
    assert new not in json.dumps(entry.data) and old not in json.dumps(entry.data)


def test_a_key_setting_that_is_not_a_list_of_fernet_keys_says_how_to_write_it(
    custody: Custody, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODY_DATA_KEY", f"{Fernet.generate_key().decode()},not-a-key")
    with pytest.raises(crypto.KeyError_, match="separated by commas, spaces or lines, newest first"):
        crypto.fernet()
    monkeypatch.setenv("CUSTODY_DATA_KEY", " ")
    with pytest.raises(crypto.KeyError_, match="holds no key"):
        crypto.fernet()


def test_a_key_file_is_read_again_when_it_changes(
    custody: Custody, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: a running process kept the keys its file held when first read, while the
    keys it reported (and recorded as sealed under) came from the file as it is now."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.delenv("CUSTODY_DATA_KEY", raising=False)
    monkeypatch.setenv("CUSTODY_DATA_KEY_FILE", str(tmp_path / "data.key"))
    (tmp_path / "data.key").write_text(old + "\n")
    sealed = crypto.fernet().encrypt(b"kept")
    (tmp_path / "data.key").write_text(f"{new}\n{old}\n")  # rotation begins, in the file
    assert crypto.key_ids() == [hashlib.sha256(k.encode()).hexdigest()[:12] for k in (new, old)]
    assert Fernet(new.encode()).decrypt(crypto.fernet().encrypt(b"new")) == b"new"  # sealed under the new key
    assert crypto.fernet().decrypt(sealed) == b"kept"


def test_reseal_of_a_gallery_with_no_one_in_it(
    custody: Custody, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: a gallery created but holding no one (an enrolment refused after it was
    made) failed the command after the store had been re-sealed."""
    monkeypatch.setenv("CUSTODY_DATABASE_URL", store_url)
    monkeypatch.setenv("CUSTODY_GALLERY", str(tmp_path / "gallery"))
    Gallery.create(tmp_path / "gallery", extractor=NbisMatcher.version, codebook=np.zeros((128, 384), np.float32))
    done = CliRunner().invoke(app, ["keys", "reseal", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["counts"]["gallery"] == 0


def _check() -> tuple[int, dict[str, Any]]:
    done = CliRunner().invoke(app, ["keys", "check", "--json"])
    return done.exit_code, json.loads(done.stdout)


@pytest.mark.usefixtures("gallery")
def test_keys_check_counts_what_an_older_key_still_seals_until_nothing_does(
    custody: Custody, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`custody keys reseal` cannot see a process left on the setting from before, which seals under
    the old key; `custody keys check` counts what is sealed under each key, so the operator knows
    when the old key may go."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("CUSTODY_DATA_KEY", old)
    monkeypatch.setenv("CUSTODY_DATABASE_URL", store_url)
    first = custody.book(booking("C-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {}), prints(SECOND_VISIT))
    webhooks.subscribe(custody, "https://example.org/hook", SECRET, [])
    monkeypatch.setenv("CUSTODY_DATA_KEY", f"{new}, {old}")
    code, report = _check()
    assert code == 1 and report["older_keys_removable"] is False
    under_old = {"newest_key": 0, "no_key_configured": 0}
    assert report["counts"] == {
        "fingerprint_images": {**under_old, "older_keys": 2},
        "webhook_subscriptions": {**under_old, "older_keys": 1},
        "gallery": {**under_old, "older_keys": 3},  # one identity document, two fingers
    }

    assert CliRunner().invoke(app, ["keys", "reseal"]).exit_code == 0
    code, report = _check()
    assert (code, report["older_keys_removable"]) == (0, True)
    assert report["counts"]["fingerprint_images"] == {"newest_key": 2, "older_keys": 0, "no_key_configured": 0}

    monkeypatch.setenv("CUSTODY_DATA_KEY", old)  # a server still on the setting from before adds prints
    custody.add_prints(first.id, prints({3: "p1_1"}))
    monkeypatch.setenv("CUSTODY_DATA_KEY", f"{new}, {old}")
    code, report = _check()
    assert code == 1 and report["counts"]["fingerprint_images"]["older_keys"] == 1
    monkeypatch.setenv("CUSTODY_DATA_KEY", new)  # the old key removed too early: that image opens under none
    code, report = _check()
    assert code == 1 and report["counts"]["fingerprint_images"]["no_key_configured"] == 1
    done = CliRunner().invoke(app, ["keys", "check"])
    assert done.exit_code == 1 and "the key they were sealed with back" in done.stdout


@pytest.mark.usefixtures("gallery")
def test_keys_check_counts_a_gallery_left_under_a_removed_key_and_refuses_a_malformed_setting(
    custody: Custody, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: with the old key removed before the gallery was re-sealed the command failed
    ("unexpectedly") and lost the store's counts; a malformed key setting exited 1 like a key left
    over, so `until custody keys check; do custody keys reseal; done` never ended."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("CUSTODY_DATA_KEY", old)
    monkeypatch.setenv("CUSTODY_DATABASE_URL", store_url)
    custody.book(booking("C-2", "2017-08-01T10:00:00-05:00", "Roe", "Jo", {}), prints(SECOND_VISIT))
    monkeypatch.setenv("CUSTODY_DATA_KEY", new)
    code, report = _check()
    assert code == 1
    assert report["counts"]["gallery"] == {"newest_key": 0, "older_keys": 0, "no_key_configured": 3}
    assert report["counts"]["fingerprint_images"]["no_key_configured"] == 2
    monkeypatch.setenv("CUSTODY_DATA_KEY", "not-a-key")
    done = CliRunner().invoke(app, ["keys", "check", "--json"])
    # InvalidInput: `custody` (cli.main.main) answers it with exit 2 and its one line
    assert isinstance(done.exception, InvalidInput) and "not a valid Fernet key" in str(done.exception)
