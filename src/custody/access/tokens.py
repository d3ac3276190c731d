"""Bearer tokens: OpenID Connect-compatible JWTs (RS256), from a local development issuer or from
the deployment's own identity provider.

The development issuer's key lives in ``$CUSTODY_VAR/dev-issuer-key.pem`` (``var/`` by default),
made on first use, so `custody token` and `custody serve` on one machine agree. The public key is
published as a JWKS at ``/.well-known/jwks.json`` with a discovery document beside it, so a client
that speaks OIDC can check the tokens.

A deployment points custody at its own provider instead (``Provider``: ``CUSTODY_OIDC_ISSUER`` and
``CUSTODY_OIDC_JWKS``): custody then accepts that provider's tokens only, mints none, and its demo
sign-in is off. The provider rotates its signing keys in the key set; each token names its key.
Tokens expire on the wall clock, whatever clock the custody process runs on.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from custody.access.roles import Principal, Role
from custody.domain.errors import CustodyError

ISSUER = "urn:custody:dev-issuer"
AUDIENCE = "custody"
ALGORITHM = "RS256"
DEFAULT_TTL = 8 * 3600
KEY_FILE = "dev-issuer-key.pem"
ISSUER_ENV, JWKS_ENV, AUDIENCE_ENV = "CUSTODY_OIDC_ISSUER", "CUSTODY_OIDC_JWKS", "CUSTODY_OIDC_AUDIENCE"
LOCAL_AGAIN = "sign in again (/signin) or mint one with `custody token`"
log = logging.getLogger("custody.access")


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why and what to do."""


class KeySetUnavailable(CustodyError):
    """The provider's key set could not be read on this server: the server's fault, not the token's."""

    status = 503
    title = "Service unavailable"

    def __init__(self) -> None:
        super().__init__("the identity provider's key set cannot be read on this server; tell its administrator")


@dataclass(frozen=True)
class Verified:
    """A token found good: who it names, and its id and expiry, by which signing out revokes it. A
    token minted before tokens had ids (7 December 2026) has none: it cannot be revoked, only expire."""

    principal: Principal
    token_id: str | None
    expires_at: datetime


class Trusted(Protocol):
    """Whose tokens a server accepts: the development issuer's or a provider's."""

    issuer: str
    again: str  # how a caller gets a good token

    def verify(self, token: str) -> Verified: ...

    def jwks(self) -> dict[str, Any]: ...

    def discovery(self, base_url: str) -> dict[str, Any]: ...


class Issuer:
    def __init__(self, key: rsa.RSAPrivateKey, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        self._key = key
        self._public = key.public_key()  # derived once: every request's token is checked against it
        self.issuer = issuer
        self.audience = audience
        self.again = LOCAL_AGAIN
        public = self._public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = base64.urlsafe_b64encode(hashlib.sha256(public).digest()[:12]).decode().rstrip("=")

    @classmethod
    def local(cls, var_dir: Path | None = None) -> Issuer:
        """The development issuer whose key is kept under ``var_dir`` (``$CUSTODY_VAR`` or ``var``)."""
        folder = var_dir or Path(os.environ.get("CUSTODY_VAR", "var"))
        path = folder / KEY_FILE
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise InvalidToken(f"{path} is not an RSA key; delete it and a new one is made")
            return cls(loaded)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        folder.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        return cls(key)

    def mint(self, principal: Principal, ttl_seconds: int = DEFAULT_TTL) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": principal.subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": secrets.token_urlsafe(16),
            "name": principal.name,
            "custody_role": principal.role.value,
        }
        if principal.agency:
            claims["custody_agency"] = principal.agency
        if principal.area:
            claims["custody_area"] = list(principal.area)
        if principal.office:
            claims["custody_office"] = principal.office
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def verify(self, token: str) -> Verified:
        return _verified(token, self._public, self.issuer, self.audience, self.again)

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._public))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}]}

    def discovery(self, base_url: str) -> dict[str, Any]:
        """The OpenID Provider metadata a client needs to check custody's tokens."""
        base = base_url.rstrip("/")
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "authorization_endpoint": f"{base}/signin",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "claims_supported": ["sub", "name", "custody_role", "custody_agency", "custody_area", "custody_office"],
        }


def _verified(token: str, key: Any, issuer: str, audience: str, again: str) -> Verified:
    """The token's claims checked with ``key``: signature, expiry, issuer, audience and custody's own
    claims; ``again`` says how to get a good one."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken(f"the token has expired; {again}") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"the token is not valid here ({_why(exc)}); {again}") from None
    area, agency = claims.get("custody_area") or [], claims.get("custody_agency")
    # A claim of the wrong shape is the token's fault, answered 401 like any other (a review found
    # an area given as one string answered 422, as if the request's own data were wrong).
    if not isinstance(area, list) or not all(isinstance(a, str) for a in area):
        raise InvalidToken(f"the token's custody_area claim is not a list of divisions; {again}")
    if agency is not None and not isinstance(agency, str):
        raise InvalidToken(f"the token's custody_agency claim is not a division; {again}")
    try:
        principal = Principal(
            subject=str(claims["sub"]),
            name=str(claims.get("name") or claims["sub"]),
            role=Role(str(claims.get("custody_role"))),
            agency=agency,
            area=tuple(area),
            office=claims.get("custody_office"),
        )
    except (ValueError, TypeError, CustodyError) as exc:
        raise InvalidToken(f"the token's custody claims are incomplete ({exc}); {again}") from None
    token_id = claims.get("jti")
    return Verified(
        principal,
        str(token_id) if token_id is not None else None,
        datetime.fromtimestamp(int(claims["exp"]), UTC),
    )


class Provider:
    """The deployment's OpenID Connect provider, whose tokens custody accepts instead of the
    development issuer's (CJIS Security Policy 5.6: the provider identifies each person and enforces
    passwords and multi-factor authentication): its issuer (``CUSTODY_OIDC_ISSUER``), custody's
    audience at it (``CUSTODY_OIDC_AUDIENCE``, ``custody`` by default) and its public signing keys as
    a JWKS file the deployment keeps current (``CUSTODY_OIDC_JWKS``; nothing is fetched at run time).
    Each token names its key (``kid``): a key the provider rotates in is read when the file changes,
    and a key taken out of it verifies nothing from then on. The provider must put custody's claims
    in its tokens (``custody_role``, and ``custody_agency`` or ``custody_area`` where the role is
    bound to a jurisdiction: access/roles.py)."""

    def __init__(self, issuer: str, jwks: Path, audience: str = AUDIENCE) -> None:
        self.issuer = issuer
        self.audience = audience
        self.again = f"sign in again at {issuer}"
        self.path = jwks
        self._keys: dict[str, Any] = {}
        self._documents: list[dict[str, Any]] = []
        self._read: tuple[int, int, int, int] | None = None
        self._reading = threading.Lock()
        self._load(at_start=True)  # a key set that cannot be used stops the server at its start

    @classmethod
    def from_environment(cls) -> Provider | None:
        issuer, jwks = os.environ.get(ISSUER_ENV), os.environ.get(JWKS_ENV)
        if not issuer and not jwks:
            return None
        if not issuer or not jwks:
            raise InvalidToken(f"set both {ISSUER_ENV} (the provider's issuer) and {JWKS_ENV} (its key set file)")
        return cls(issuer, Path(jwks), os.environ.get(AUDIENCE_ENV) or AUDIENCE)

    def _load(self, at_start: bool = False) -> None:
        """Read the key set again if the file changed since it was read (its change time included: a
        rewrite that keeps the size and modification time is seen). Unreadable at the start, the
        server does not start; later, requests are answered 503 and the reason is logged, never told
        to the caller (found by a review: the file's path went out with a 401)."""
        try:
            seen = self.path.stat()
            stamp = (seen.st_ino, seen.st_mtime_ns, seen.st_ctime_ns, seen.st_size)
            if stamp == self._read:
                return
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problem = f"the provider's key set {self.path} ({JWKS_ENV}) cannot be read ({exc})"
            if at_start:
                raise InvalidToken(problem) from None
            log.error("%s", problem)
            raise KeySetUnavailable() from None
        listed = document.get("keys") if isinstance(document, dict) else None
        keys, documents = {}, []
        for jwk in listed if isinstance(listed, list) else []:
            usable = isinstance(jwk, dict) and jwk.get("kty") == "RSA" and isinstance(jwk.get("kid"), str)
            if usable and jwk.get("use", "sig") == "sig" and jwk.get("alg", ALGORITHM) == ALGORITHM:
                public = {k: jwk[k] for k in ("kty", "kid", "n", "e") if k in jwk}  # never a private part
                try:
                    keys[str(jwk["kid"])] = RSAAlgorithm.from_jwk(json.dumps(public))
                except (jwt.PyJWTError, ValueError, KeyError, TypeError):
                    continue  # one malformed key leaves the others usable (found by a review)
                documents.append({**public, "use": "sig", "alg": ALGORITHM})
        if not keys:
            problem = (
                f"the provider's key set {self.path} ({JWKS_ENV}) holds no RS256 signing key with a kid; "
                "export the provider's JWKS into it"
            )
            if at_start:
                raise InvalidToken(problem)
            log.error("%s", problem)
            raise KeySetUnavailable()
        self._keys, self._documents, self._read = keys, documents, stamp

    def verify(self, token: str) -> Verified:
        again = f"sign in again at {self.issuer}"
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the token is not valid here ({_why(exc)}); {again}") from None
        with self._reading:
            self._load()
            key = self._keys.get(str(kid))
        if key is None:  # its kid is not repeated: it is the caller's text (found by a review)
            raise InvalidToken(f"the token is signed with a key the provider's key set does not hold; {again}")
        return _verified(token, key, self.issuer, self.audience, again)

    def jwks(self) -> dict[str, Any]:
        """The provider's keys custody accepts tokens signed with (public parts only)."""
        with self._reading:
            self._load()
            return {"keys": list(self._documents)}

    def discovery(self, base_url: str) -> dict[str, Any]:
        """Where custody's tokens come from: the provider, whose own discovery document is the one to
        follow; the keys custody accepts are listed at its JWKS address."""
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{base_url.rstrip('/')}/.well-known/jwks.json",
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "claims_supported": ["sub", "name", "custody_role", "custody_agency", "custody_area", "custody_office"],
        }


def trusted() -> Trusted:
    """The provider the environment names, else the development issuer."""
    return Provider.from_environment() or Issuer.local()


def _why(exc: jwt.PyJWTError) -> str:
    """Why a token was refused, in words (the library's own message can be a codec's)."""
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"it has no '{exc.claim}' claim"
    reasons: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
        (jwt.InvalidSignatureError, "its signature does not match this issuer's key"),
        (jwt.InvalidAudienceError, "it was issued for another audience"),
        (jwt.InvalidIssuerError, "another issuer made it"),
        (jwt.ImmatureSignatureError, "it is not valid yet"),
        (jwt.InvalidAlgorithmError, "it is signed with an algorithm custody does not accept"),
        (jwt.DecodeError, "it cannot be read as a signed JWT"),
    )
    return next((words for kind, words in reasons if isinstance(exc, kind)), "it cannot be verified")
