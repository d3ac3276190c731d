"""A deployment's own identity provider (CJIS Security Policy 5.6): custody accepts its tokens, by
the key each names in the provider's key set, follows the keys it rotates in and out, accepts
nothing of the development issuer's, mints none, and keeps its demo sign-in off."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm
from typer.testing import CliRunner

from custody.access.roles import DEMO_USERS
from custody.access.tokens import InvalidToken, Issuer, Provider
from custody.api.app import create_app
from custody.cli.main import app as cli
from custody.domain.errors import InvalidInput
from custody.exchange import chaos
from custody.service import Custody

PROVIDER = "https://login.county.example/realms/jail"
ANALYST = {"sub": "u-17", "name": "A. Analyst", "custody_role": "analyst"}


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _publish(path: Path, keys: dict[str, rsa.RSAPrivateKey]) -> None:
    """The provider's key set as it exports it (public keys), written as a deployment would."""
    published = [
        {**json.loads(RSAAlgorithm.to_jwk(k.public_key())), "kid": kid, "use": "sig"} for kid, k in keys.items()
    ]
    path.write_text(json.dumps({"keys": published}))
    stamp = time.time_ns() + 1_000_000_000 * len(keys)  # a new modification time even within a second
    os.utime(path, ns=(stamp, stamp))


def _token(key: rsa.RSAPrivateKey, kid: str, **claims: Any) -> str:
    now = int(time.time())
    document = {"iss": PROVIDER, "aud": "custody", "iat": now, "nbf": now, "exp": now + 600, **ANALYST, **claims}
    return jwt.encode(document, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    jwks = tmp_path / "provider-jwks.json"
    old, new = _key(), _key()
    _publish(jwks, {"2026-old": old})
    return jwks, old, new


@pytest.fixture
def served(custody: Custody, keys: tuple[Path, Any, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(custody, tick_seconds=None, issuer=Provider(PROVIDER, keys[0]))) as client:
        yield client


def _status(client: TestClient, token: str) -> tuple[int, str]:
    answer = client.get("/stats/outcomes", headers={"Authorization": f"Bearer {token}"})
    return answer.status_code, answer.text


def test_the_providers_tokens_are_accepted_by_the_key_they_name_through_a_rotation(
    served: TestClient, keys: tuple[Path, rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    jwks, old, new = keys
    before = _token(old, "2026-old")
    assert _status(served, before)[0] == 200
    refused = _status(served, _token(new, "2026-new"))
    assert refused[0] == 401 and "key set does not hold;" in refused[1] and PROVIDER in refused[1]
    _publish(jwks, {"2026-old": old, "2026-new": new})  # the provider rotates a new key in
    assert _status(served, _token(new, "2026-new"))[0] == 200 and _status(served, before)[0] == 200
    _publish(jwks, {"2026-new": new})  # and the old one out
    assert _status(served, before)[0] == 401 and _status(served, _token(new, "2026-new"))[0] == 200
    published = served.get("/.well-known/jwks.json").json()["keys"]
    assert [k["kid"] for k in published] == ["2026-new"] and all("d" not in k for k in published)
    assert served.get("/.well-known/openid-configuration").json()["issuer"] == PROVIDER


def test_a_token_of_another_issuer_audience_or_key_is_refused(
    served: TestClient, keys: tuple[Path, rsa.RSAPrivateKey, rsa.RSAPrivateKey], tmp_path: Path
) -> None:
    _jwks, old, new = keys
    development = Issuer.local(tmp_path / "dev")
    for token, why in [
        (_token(old, "2026-old", iss="https://elsewhere.example"), "another issuer made it"),
        (_token(old, "2026-old", aud="another-app"), "issued for another audience"),
        (_token(new, "2026-old"), "signature does not match"),  # names a trusted key, signed by another
        (development.mint(DEMO_USERS["demo-analyst"]), "key set does not hold"),  # the development issuer's
        (_token(old, "2026-old", custody_role="warden"), "custody claims are incomplete"),
    ]:
        status, text = _status(served, token)
        assert status == 401 and why in text, (why, text)


def test_no_demo_sign_in_and_no_minting_where_a_provider_is_configured(
    served: TestClient, keys: tuple[Path, Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "demo-analyst" not in served.get("/signin").text
    signin = served.post("/signin", data={"user": "demo-analyst"}, follow_redirects=False)
    assert signin.status_code == 404 and "identity provider" in signin.text
    monkeypatch.setenv("CUSTODY_OIDC_ISSUER", PROVIDER)
    monkeypatch.setenv("CUSTODY_OIDC_JWKS", str(keys[0]))
    minted = CliRunner().invoke(cli, ["token", "--role", "analyst"])
    assert minted.exit_code != 0 and minted.stdout == ""
    assert f"tokens come from the identity provider {PROVIDER}" in str(minted.exception)


def test_a_key_set_that_cannot_be_used_stops_the_server_at_its_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InvalidToken, match="cannot be read"):
        Provider(PROVIDER, tmp_path / "missing.json")
    (tmp_path / "empty.json").write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}))
    with pytest.raises(InvalidToken, match="holds no RS256 signing key with a kid"):
        Provider(PROVIDER, tmp_path / "empty.json")
    monkeypatch.setenv("CUSTODY_OIDC_ISSUER", PROVIDER)
    monkeypatch.delenv("CUSTODY_OIDC_JWKS", raising=False)
    with pytest.raises(InvalidToken, match="set both CUSTODY_OIDC_ISSUER"):
        Provider.from_environment()


def test_what_the_caller_sends_is_not_repeated_and_a_broken_key_set_is_the_servers_fault(
    served: TestClient, keys: tuple[Path, rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    """Found by a review: a token's kid was echoed into the answer's WWW-Authenticate header (a
    non-Latin-1 kid answered 500, a quote added parameters); a key set that could no longer be read
    answered 401 with its path on the server."""
    jwks, old, _new = keys
    for kid in ("€", 'x", error="insufficient_scope'):
        status, text = _status(served, _token(old, kid))
        assert status == 401 and kid not in text
    jwks.unlink()
    answer = served.get("/stats/outcomes", headers={"Authorization": f"Bearer {_token(old, '2026-old')}"})
    assert answer.status_code == 503 and str(jwks) not in answer.text and "tell its administrator" in answer.text
    assert served.get("/.well-known/jwks.json").status_code == 503
    _publish(jwks, {"2026-old": old})  # put back: read again at the next request
    assert _status(served, _token(old, "2026-old"))[0] == 200


def test_one_malformed_key_leaves_the_others_usable(
    served: TestClient, keys: tuple[Path, rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    jwks, old, _new = keys
    listed = json.loads(jwks.read_text())["keys"]
    jwks.write_text(json.dumps({"keys": [{"kty": "RSA", "kid": "bad", "n": 12, "e": "AQAB"}, *listed]}))
    assert _status(served, _token(old, "2026-old"))[0] == 200
    assert Provider(PROVIDER, jwks).jwks()["keys"][0]["kid"] == "2026-old"


def test_a_key_set_rewritten_to_the_same_size_and_time_is_read_again(
    served: TestClient, keys: tuple[Path, rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    """Found by a review: a rewrite keeping the file's size and modification time (``cp -p``) went
    unseen, and a key taken out stayed trusted. Its change time cannot be kept."""
    jwks, old, new = keys
    assert _status(served, _token(old, "2026-old"))[0] == 200
    before = jwks.stat()
    _publish(jwks, {"2026-old": new})  # another key under the same kid: the same size
    os.utime(jwks, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert jwks.stat().st_size == before.st_size and jwks.stat().st_mtime_ns == before.st_mtime_ns
    assert _status(served, _token(old, "2026-old"))[0] == 401


def test_serve_token_and_the_chaos_run_with_a_provider_named(
    tmp_path: Path, store_url: str, keys: tuple[Path, Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: `custody serve --workers N` started with a key set its workers could not
    read (they died and were restarted without end); `custody token` printed a traceback; the chaos
    run's server took the operator's provider while its requests were signed by the development
    issuer."""
    monkeypatch.setenv("CUSTODY_DATABASE_URL", store_url)
    monkeypatch.setenv("CUSTODY_OIDC_ISSUER", PROVIDER)
    monkeypatch.setenv("CUSTODY_OIDC_JWKS", str(tmp_path / "missing.json"))
    for command in (["serve", "--workers", "2", "--port", "1"], ["token", "--role", "analyst"]):
        done = CliRunner().invoke(cli, command)
        assert done.exit_code != 0 and isinstance(done.exception, InvalidInput), command
        assert "cannot be read" in str(done.exception)
    monkeypatch.setenv("CUSTODY_OIDC_JWKS", str(keys[0]))
    assert isinstance(chaos.api_app().state.issuer, Issuer)
